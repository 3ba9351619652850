"""The one clock of the application: aware UTC datetimes, replaceable in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current instant, timezone-aware UTC."""
    return _now()


def set_clock(func: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); ``None`` restores the system clock."""
    global _now
    _now = func if func is not None else (lambda: datetime.now(UTC))


def as_utc(value: datetime) -> datetime:
    """Databases may hand back naive datetimes: they are UTC by convention."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
