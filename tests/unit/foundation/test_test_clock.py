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


def test_the_catalogue_blocks_start_ahead_of_the_machine_date_every_year() -> None:
    """Tests that book on the machine's clock (and the local server's) need a first block still
    bookable, with every refund tier ahead: 12 March of the first year at least 90 days away."""
    from datetime import date

    from tests.support.catalogue import FROZEN_AT, LEAD, START, first_start

    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert yesterday + LEAD <= START  # bookable today, every refund tier ahead
    assert FROZEN_AT + LEAD < START  # and after the frozen clock's day
    assert first_start(date(2026, 11, 30)) == datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
    assert first_start(date(2027, 3, 12)) == datetime(2028, 3, 12, 9, 0, tzinfo=UTC)  # the day it used to expire
    assert first_start(date(2031, 7, 1)) == datetime(2032, 3, 12, 9, 0, tzinfo=UTC)
    for n in range(0, 800, 7):  # any day: at least LEAD ahead, and less than a year more
        day = date(2030, 1, 1) + timedelta(days=n)
        ahead = first_start(day) - datetime.combine(day, datetime.min.time(), UTC)
        assert LEAD <= ahead < LEAD + timedelta(days=366)
