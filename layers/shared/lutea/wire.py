"""Wire conversions of API.md: ObjectId <-> 24-hex strings, datetimes <-> ISO-8601 UTC with
milliseconds (JavaScript's toISOString), euros on the wire <-> integer cents inside."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bson import ObjectId

from lutea.clock import as_utc
from lutea.errors import InvalidInput

_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")


def is_object_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX24.match(value))


def invalid_id_message(label: str) -> str:
    """The original's message: ``ID de retraite invalide``, ``ID d'utilisateur invalide``."""
    article = "d'" if label[:1].lower() in "aeiouyéèêh" else "de "
    return f"ID {article}{label} invalide"


def parse_object_id(value: Any, label: str) -> ObjectId:
    """``label`` names what the id points to, for the 400 message (``invalid_id_message``)."""
    if not is_object_id(value):
        raise InvalidInput(invalid_id_message(label))
    return ObjectId(value)


def iso(value: datetime) -> str:
    """``2026-12-01T00:00:00.000Z``: JavaScript's toISOString (on the hot path of every list)."""
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_instant(value: str) -> datetime:
    """Any ISO-8601 form, ``Z`` or offset; a naive value is taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    try:
        return as_utc(parsed) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError as exc:  # "0001-01-01T00:00:00+01:00" has no UTC instant
        raise ValueError("date hors limites") from exc


def to_wire(value: Any, *, hidden: frozenset[str] = frozenset()) -> Any:
    """A stored document as JSON: ids as strings, datetimes as ISO, ``hidden`` keys dropped
    at every depth (secrets and internal bookkeeping never leave the server)."""
    if isinstance(value, dict):
        return {k: to_wire(v, hidden=hidden) for k, v in value.items() if k not in hidden}
    if isinstance(value, list | tuple):
        return [to_wire(v, hidden=hidden) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def euros_to_cents(euros: float | int | Decimal | str) -> int:
    cents = (Decimal(str(euros)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(cents)


def cents_to_euros(cents: int) -> float | int:
    """Whole euros stay integers on the wire (``120``, not ``120.0``), as the original sent them."""
    return cents // 100 if cents % 100 == 0 else cents / 100
