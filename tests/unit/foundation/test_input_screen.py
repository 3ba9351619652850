"""lutea.http.screen on its own: what it refuses, and the ordinary JSON it must let through
(escaped quotes and backslashes, brackets inside strings, emoji as surrogate pairs, big but
finite numbers). The same cases over the API: tests/security/test_extreme_inputs.py."""

from __future__ import annotations

import pytest
from lutea.http.screen import (
    MAX_JSON_DEPTH,
    MSG_BAD_NUMBER,
    MSG_BAD_PARAM,
    MSG_BAD_TEXT,
    MSG_TOO_DEEP,
    body_problem,
    params_problem,
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), MSG_TOO_DEEP),
        ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), MSG_TOO_DEEP),
        ("[" * 100_000, MSG_TOO_DEEP),
        ('{"a": 1e400}', MSG_BAD_NUMBER),
        ('{"a": -1E+999}', MSG_BAD_NUMBER),
        ('{"a": NaN}', MSG_BAD_NUMBER),
        ("[Infinity]", MSG_BAD_NUMBER),
        ('{"a": -Infinity}', MSG_BAD_NUMBER),
        ('{"a": ' + "9" * 41 + "}", MSG_BAD_NUMBER),
        ('{"a": "x\\u0000y"}', MSG_BAD_TEXT),
        ('{"a": "\\ud800"}', MSG_BAD_TEXT),
        ('{"a": "\\uDBFF x"}', MSG_BAD_TEXT),
        ('{"a": "\\udc00"}', MSG_BAD_TEXT),
        ('{"a": "\\"\\ud800"}', MSG_BAD_TEXT),
        ('{"a": "\x00"}', MSG_BAD_TEXT),
        ('{"a": "\ud800"}', MSG_BAD_TEXT),
    ],
)
def test_refused(text: str, problem: str) -> None:
    assert body_problem(text) == problem


@pytest.mark.parametrize(
    "text",
    [
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH,
        '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
        '{"a": "O\\"Brien \\\\", "b": [1, 2.5, -3, 2e10, 1e300, 123456789012345678901234567890]}',
        '{"a": "NaN", "b": "Infinity", "c": "1e400"}',
        '{"emoji": "\\ud83d\\ude00", "text": "ligne\\n\\tsuite", "é": "\u00e9"}',
        '{"a": "\\\\u0000 is a literal backslash-u"}',
        "not json at all",
        "",
    ],
)
def test_let_through(text: str) -> None:
    assert body_problem(text) is None


def test_parameters() -> None:
    assert params_problem([{"titreCard": "Yoga\x00"}]) == MSG_BAD_PARAM
    assert params_problem([None, {"date": ["2027-03-12", "x\x7f"]}]) == MSG_BAD_PARAM
    assert params_problem([{"id": "a\ud800"}]) == MSG_BAD_PARAM
    assert params_problem([{"titreCard": "Équinoxe (été) [2027] $1 .* ^"}, None, {"id": "0" * 24}]) is None


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ('"\\ud83d\\ude00\\ud83d\\ude01"', False),
        ('"\\ud83d \\ude00"', True),  # the pair interrupted
        ('"\\ud83d\\\\ude00"', True),  # a high escape, then a literal backslash
        ('"\\\\\\ud800"', True),  # an escaped backslash, then a real escape
        ('"\\\\\\\\ud800"', False),  # two escaped backslashes, then the letters ud800
    ],
)
def test_surrogate_escapes_are_told_from_text(text: str, bad: bool) -> None:
    assert (body_problem(text) == MSG_BAD_TEXT) is bad
