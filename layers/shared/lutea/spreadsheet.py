"""CSV that French Excel opens as it should: UTF-8 with a byte-order mark (without it Excel
reads Windows-1252 and mangles accents), ``;`` between fields (``,`` is the decimal separator
in French locales), CRLF line ends, decimal commas in amounts.

Cells that a spreadsheet would run as a formula (a name starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with ``'`` (OWASP "CSV injection"): names and
addresses come from the public booking form. The trigger is looked for after any leading
blanks and control characters (and in its full-width forms): importers that trim spaces
(LibreOffice's "Trim spaces") or drop a line break would otherwise reveal it."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FULL_WIDTH_TRIGGERS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠
_SKIPPED = ("Cc", "Cf", "Zs", "Zl", "Zp")  # controls, invisible formats, blanks, line breaks


def _first_visible(text: str) -> str:
    for ch in text:
        if unicodedata.category(ch) not in _SKIPPED:
            return ch
    return ""


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) or _first_visible(text) in (*FORMULA_STARTS, *FULL_WIDTH_TRIGGERS):
        return "'" + text
    return text


def amount(cents: int) -> str:
    """``541,50``: a number French Excel reads as such (no currency sign, no thousands gap)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{euros},{rest:02d}"


def french_excel_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()


__all__ = ["BOM", "amount", "cell", "french_excel_csv"]
