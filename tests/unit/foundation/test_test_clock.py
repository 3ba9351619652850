"""The test rig's clock (tests/conftest.py): tests freeze the application's clock on fixed days,
before or after the machine's date, and what the in-process database stand-in expires (TTL
indexes) follows that clock, not the machine's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lutea import clock


def test_ttl_indexes_follow_the_application_clock(frozen_clock) -> None:
    from lutea.data.rate_limits import RateLimitRepository

    frozen_clock.set(datetime.now(UTC) - timedelta(days=400))  # long before the machine's date
    window_end = clock.now() + timedelta(seconds=60)
    repo = RateLimitRepository()
    assert repo.hit("login:203.0.113.7:1", window_end) == 1
    assert repo.hit("login:203.0.113.7:1", window_end) == 2  # kept, though long past by the machine's clock
    frozen_clock.advance(minutes=3)  # past expiresAt (window end + 60 s) by the application's clock
    assert repo.hit("login:203.0.113.7:1", clock.now() + timedelta(seconds=60)) == 1  # expired: a fresh counter
