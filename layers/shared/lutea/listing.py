"""Admin lists at scale: the page and filter parameters shared by every admin list, parsed
once, and the envelope a paginated answer comes in (docs/admin-lists.md).

A list called without ``page`` or ``limit`` keeps its original answer (a JSON array, filters
applied); with either, it answers ``{items, total, page, limit, pages}``."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bson import ObjectId

from lutea.errors import InvalidInput
from lutea.wire import invalid_id_message, is_object_id, parse_instant

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 100_000
PARIS = ZoneInfo("Europe/Paris")


class PageRequest(NamedTuple):
    page: int
    limit: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit


class Period(NamedTuple):
    """``[start, end)`` in UTC; either bound may be open."""

    start: datetime | None = None
    end: datetime | None = None


def _positive_int(raw: str, name: str, maximum: int) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > 9 or not 1 <= int(text) <= maximum:
        raise InvalidInput(f"{name} doit être un entier entre 1 et {maximum}")
    return int(text)


def page_request(raw_page: str | None, raw_limit: str | None) -> PageRequest | None:
    """``None`` when neither parameter is sent: the caller answers the original array."""
    if raw_page is None and raw_limit is None:
        return None
    page = _positive_int(raw_page, "page", MAX_PAGE) if raw_page is not None else 1
    limit = _positive_int(raw_limit, "limit", MAX_LIMIT) if raw_limit is not None else DEFAULT_LIMIT
    return PageRequest(page, limit)


def _bound(raw: str, name: str, *, upper: bool) -> datetime:
    """An ISO instant, or a bare ``YYYY-MM-DD`` taken as that day in Europe/Paris: from its
    start for ``dateMin``, up to its end for ``dateMax`` (the whole day is included)."""
    text = raw.strip()
    try:
        if len(text) > 64:
            raise ValueError("too long")
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            if upper:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), PARIS).astimezone(ZoneInfo("UTC"))
        instant = parse_instant(text)
        return instant + timedelta(milliseconds=1) if upper else instant
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{name} doit être une date ISO 8601 (AAAA-MM-JJ ou date et heure)") from exc


def period(raw_min: str | None, raw_max: str | None) -> Period:
    """``dateMin`` / ``dateMax``, both inclusive, either optional."""
    start = _bound(raw_min, "dateMin", upper=False) if raw_min and raw_min.strip() else None
    end = _bound(raw_max, "dateMax", upper=True) if raw_max and raw_max.strip() else None
    if start is not None and end is not None and start >= end:
        raise InvalidInput("dateMin doit précéder dateMax")
    return Period(start, end)


def choice(raw: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    """An enumerated filter; absent or empty means no filter, anything else must be listed."""
    if raw is None or not raw.strip():
        return None
    if raw.strip() not in allowed:
        raise InvalidInput(f"{name} doit valoir {', '.join(allowed)}")
    return raw.strip()


def price_bound(raw: str | None, name: str, *, lower: bool) -> int | None:
    """A price bound in euros (``prixMin``, ``prixMax``) -> cents, rounded inwards (prices are
    whole cents); absent or empty: no bound."""
    if raw is None or raw.strip() == "":
        return None
    try:
        euros = Decimal(raw.strip())
    except InvalidOperation:
        euros = Decimal("NaN")
    if not euros.is_finite() or len(raw) > 20:
        raise InvalidInput(f"{name} doit être un nombre")
    # Clamped: prices are at most a million euros, and MongoDB integers have 64 bits.
    cents = min(max(euros * 100, Decimal(-(10**12))), Decimal(10**12))
    return int(cents.to_integral_value(rounding="ROUND_CEILING" if lower else "ROUND_FLOOR"))


def object_id_filter(raw: str | None, label: str) -> ObjectId | None:
    if raw is None or not raw.strip():
        return None
    if not is_object_id(raw.strip()):
        raise InvalidInput(invalid_id_message(label))
    return ObjectId(raw.strip())


def envelope(items: list[Any], total: int, page: PageRequest) -> dict[str, Any]:
    return {
        "items": items,
        "total": total,
        "page": page.page,
        "limit": page.limit,
        "pages": math.ceil(total / page.limit) if total else 0,
    }


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "PageRequest",
    "Period",
    "choice",
    "envelope",
    "object_id_filter",
    "page_request",
    "period",
]
