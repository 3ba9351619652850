"""Names of downloaded files (the PDF, the calendar file, the roster): one rule for all,
``<prefix>-<slug>-<dd-mm-yyyy>.<ext>``, sent as RFC 6266 ``Content-Disposition``."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lutea.clock import as_utc

PARIS = ZoneInfo("Europe/Paris")
_ASCII_FOLD = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "ł": "l"}
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._()'!~+,&=@-]")


def paris_day(value: Any, sep: str = "/") -> str:
    """dd/mm/yyyy of an instant in Europe/Paris (the original's toLocaleDateString('fr-FR'))."""
    if isinstance(value, datetime):
        return as_utc(value).astimezone(PARIS).strftime(f"%d{sep}%m{sep}%Y")
    return str(value or "")


def download_filename(prefix: str, retreat_name: Any, day: Any, ext: str) -> tuple[str, str]:
    """(ASCII ``filename``, exact UTF-8 name for ``filename*``): the retreat name lower-cased
    with runs of whitespace as ``-`` (accents kept in the exact name), ``day`` in Europe/Paris."""
    slug = re.sub(r"\s+", "-", str(retreat_name or "retraite")).lower()
    exact = f"{prefix}-{slug}-{paris_day(day, '-')}.{ext}"
    folded = "".join(_ASCII_FOLD.get(ch, ch) for ch in unicodedata.normalize("NFKD", exact))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _UNSAFE_ASCII.sub("", folded.encode("ascii", "ignore").decode()), exact


def attachment(ascii_name: str, exact: str) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<exact, percent-encoded>``."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(exact, safe='')}"


__all__ = ["attachment", "download_filename", "paris_day"]
