"""Inputs refused before any parser or database sees them (400), on every route: JSON nested
deeper than any body of the API, numbers no field can hold, NUL and lone UTF-16 surrogates in
strings, control characters in query and path parameters.

Why here and not in each model: they fail below validation. Python's JSON parser recurses (a
few thousand ``[`` raise RecursionError), a number of more than 4,300 digits raises ValueError
and ``1e400`` becomes infinity, a lone surrogate can't be encoded to UTF-8 by the MongoDB and
MySQL drivers, and a real MongoDB refuses a regular expression holding NUL. Each was a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

MAX_JSON_DEPTH = 20  # the deepest body of the API is 4 (a retreat's date blocks); MariaDB JSON stops at 32
MAX_NUMBER_LENGTH = 40

MSG_TOO_DEEP = f"Le corps de la requête est trop imbriqué ({MAX_JSON_DEPTH} niveaux au plus)"
MSG_BAD_NUMBER = "Le corps de la requête contient un nombre hors limites"
MSG_BAD_TEXT = "Le corps de la requête contient des caractères invalides (NUL ou UTF-16 isolé)"
MSG_BAD_PARAM = "Paramètre de requête invalide : caractères de contrôle interdits"

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"(?<![\w.])-?(?:NaN|Infinity)(?![\w.])")
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_ESCAPE = re.compile(r"(\\+)u([0-9a-fA-F]{4})")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def body_problem(text: str) -> str | None:
    """Why the JSON text ``text`` is refused before parsing, or None. Text that is not JSON at
    all is left to the route's own parsing (its 400 says so)."""
    if _BAD_CHAR.search(text) or (_SUSPECT_ESCAPE.search(text) and _bad_escape(text)):
        return MSG_BAD_TEXT
    outside = _STRING.sub('""', text)  # what is left is structure, numbers and literals
    depth = 0
    for bracket in _BRACKET.finditer(outside):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return MSG_TOO_DEEP
    if _NON_FINITE.search(outside):
        return MSG_BAD_NUMBER
    for number in _NUMBER.finditer(outside):
        literal = number.group()
        if len(literal) > MAX_NUMBER_LENGTH or not math.isfinite(float(literal)):
            return MSG_BAD_NUMBER
    return None


def _bad_escape(text: str) -> bool:
    """A ``\\u0000`` escape, or a UTF-16 surrogate escape that is not a high one immediately
    followed by a low one. An even run of backslashes before ``u`` is text, not an escape."""
    expect_low_at: int | None = None
    for escape in _ESCAPE.finditer(text):
        if len(escape.group(1)) % 2 == 0:
            continue
        start, unit = escape.end() - 6, int(escape.group(2), 16)
        if expect_low_at is not None:
            if start == expect_low_at and 0xDC00 <= unit <= 0xDFFF:
                expect_low_at = None
                continue
            return True
        if unit == 0 or 0xDC00 <= unit <= 0xDFFF:
            return True
        if 0xD800 <= unit <= 0xDBFF:
            expect_low_at = escape.end()
    return expect_low_at is not None


def params_problem(groups: Iterable[Any]) -> str | None:
    """Why query or path parameters are refused, or None: no value of the API holds a control
    character (ids, dates, numbers, a title or an email to search)."""
    for group in groups:
        for value in _values(group):
            if isinstance(value, str) and _CONTROL.search(value):
                return MSG_BAD_PARAM
    return None


def _values(group: Any) -> Iterable[Any]:
    if isinstance(group, dict):
        for value in group.values():
            if isinstance(value, list):
                yield from value
            else:
                yield value
