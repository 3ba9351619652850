"""Test rig: the shared layer on sys.path, a fresh database for every test (mongomock by
default, the server of MONGODB_URI when set), a controllable clock, an isolated outbox."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "shared"), str(ROOT)]

# Environment of the functions under test, before anything reads it.
os.environ.setdefault("STAGE", "test")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LuteaTest")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("FRONTEND_URL", "http://localhost:3000")
os.environ.setdefault("MONGODB_DB", f"lutea_test_{os.getpid()}")
os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "100000")
os.environ.setdefault("RATE_LIMIT_STRICT_PER_MINUTE", "100000")
os.environ.setdefault("UNIFORM_ANSWER_MS", "0")  # the padding is tested on its own (tests/security)
os.environ.setdefault("RATE_LIMIT_BOOKING_PER_MINUTE", "100000")
os.environ.setdefault("PENDING_BOOKINGS_PER_CLIENT", "100000")
os.environ.setdefault("PENDING_SEATS_PER_CLIENT", "100000")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
from lutea.config import SECRET_SOURCES  # noqa: E402 - the layer is on sys.path from here

for var in ("RESEND_API_KEY", "STRIPE_API_BASE", "MYSQL_HOST", "API_DOMAIN", *SECRET_SOURCES):
    os.environ.pop(var, None)


class ControlledClock:
    """The application's clock, set and moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from lutea import clock, config
    from lutea.data import mongo

    monkeypatch.setenv("EMAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("ANALYTICS_SQLITE_PATH", str(tmp_path / "analytics.sqlite3"))
    config.reset_settings()
    if os.environ.get("MONGODB_URI"):
        db = mongo.get_db()
        for name in db.list_collection_names():
            db.drop_collection(name)
    mongo.reset_db()
    # The indexes, as the deploy-time migration creates them (never a request).
    from lutea.data.indexes import migrate_indexes

    migrate_indexes(mongo.get_db())
    if os.environ.get("MONGODB_URI"):
        _clear_of_ttl(mongo.get_db())
    else:
        _ttl_on_the_application_clock(monkeypatch)
    yield
    clock.set_clock(None)
    config.reset_settings()
    mongo.reset_db()  # closes a real client


def _clear_of_ttl(db) -> None:
    """On a real server, the TTL monitor deletes documents whose ``expiresAt`` is past by the
    server's own clock, while tests write them from a frozen one (2026-12-01, soon in the past):
    sessions, rate-limit counters and Stripe events would vanish under a running test. Their
    TTL indexes keep their keys but wait a century here (the application's code is unchanged)."""
    century = 100 * 365 * 24 * 3600
    for name in db.list_collection_names():
        for index in db[name].list_indexes():
            if "expireAfterSeconds" in index:
                db.command("collMod", name, index={"name": index["name"], "expireAfterSeconds": century})


def _ttl_on_the_application_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """mongomock applies TTL indexes on every read, against its own ``utcnow()`` (the machine's
    clock), while tests write ``expiresAt`` from the application's clock, often frozen on a
    fixed day: once the machine's date passed it, rate-limit counters, sessions and Stripe
    claims vanished as soon as written. Its TTL reads the application's clock instead (the
    machine's when no test replaced it), as a server's monitor reads the one clock there is."""
    import mongomock
    from lutea import clock

    monkeypatch.setattr(mongomock, "utcnow", lambda: clock.now().astimezone(UTC).replace(tzinfo=None))


@pytest.fixture
def frozen_clock() -> Iterator[ControlledClock]:
    from lutea import clock

    controlled = ControlledClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    clock.set_clock(controlled)
    yield controlled
    clock.set_clock(None)


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def api():
    from tests.support.client import ApiClient

    return ApiClient()


@pytest.fixture
def make_client():
    from tests.support.client import ApiClient

    return ApiClient


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """Threads switch every microsecond for the test (tests/support/concurrency.py)."""
    from tests.support.concurrency import tiny_switch_interval as switching

    with switching():
        yield
