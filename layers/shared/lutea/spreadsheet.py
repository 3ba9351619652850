"""CSV that French Excel opens as it should: UTF-8 with a byte-order mark (without it Excel
reads Windows-1252 and mangles accents), ``;`` between fields (``,`` is the decimal separator
in French locales), CRLF line ends, decimal commas in amounts.

Cells that a spreadsheet would run as a formula (a name starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with ``'`` (OWASP "CSV injection"): names and
addresses come from the public booking form."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
