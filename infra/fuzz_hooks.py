"""schemathesis hooks of `make test-fuzz` (loaded through SCHEMATHESIS_HOOKS by infra/fuzz.py):
the extreme inputs that its default strategies never produce, each of which once gave a 500.

- bodies: one value replaced by an integer past 64 bits, a float past 1e308 (sent as ``1e400``)
  or NaN, a string holding NUL, a lone UTF-16 surrogate or control characters, or a value nested
  a few thousand levels deep (sent as raw JSON text: Python's encoder would recurse as deeply);
- query and path parameters: the same numbers and strings as text.

And one guard: the fuzzer reuses ids it reads in responses, the admin's own among them (from
``GET /auth/profile``, ``PUT /users/profile``); ``DELETE /users/{id}`` with it would delete the
fuzzer's admin account, after which every signed-in route answers only 401. That call gets
another (unknown) id instead (``FUZZ_ADMIN_ID``, set by infra/fuzz.py).

The check that catches a regression is schemathesis's own ``not_a_server_error``: every one of
these must be answered 4xx. Runs in schemathesis's virtual environment (it brings hypothesis).
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

import schemathesis
from hypothesis import strategies as st
from schemathesis.transport import register_serializer
from schemathesis.transport.serialization import Binary, serialize_json

DEPTH = 3000
RAW_MARK = "__lutea_raw_json__"

NUMBERS = [10**30, -(10**30), 2**63, 2**64, -(2**63) - 1, 9007199254740993, float("nan")]
RAW_NUMBERS = ["1e400", "-1e400", "9" * 5000]  # not representable as Python values that json.dumps keeps
TEXTS = ["a\x00b", "\x00", "\ud800", "x\udfff", "\x01\x1f\x7f", "\u202e", "(((", "[", "\\", "$where"]
DEEP_LIST = "[" * DEPTH + "1" + "]" * DEPTH
DEEP_OBJECT = '{"a":' * DEPTH + "1" + "}" * DEPTH

EXTREME = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(TEXTS),
    st.sampled_from([*RAW_NUMBERS, DEEP_LIST, DEEP_OBJECT]).map(lambda raw: {RAW_MARK: raw}),
)
EXTREME_PARAM = st.sampled_from([*(str(n) for n in NUMBERS), *RAW_NUMBERS, *TEXTS, "nan", "inf", "-0", "１２"])


ADMIN_ID = os.environ.get("FUZZ_ADMIN_ID", "")
NOT_THE_ADMIN = "0" * 24  # a well-formed id that no account has


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Every phase (generated, coverage, stateful) goes through here before sending."""
    operation = case.operation
    deletes_a_user = (operation.method.upper(), operation.path) == ("DELETE", "/users/{id}")
    if deletes_a_user and ADMIN_ID and (case.path_parameters or {}).get("id") == ADMIN_ID:
        case.path_parameters["id"] = NOT_THE_ADMIN


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place of a JSON value that can be replaced (the root included)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*path, index)))
    return found


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copy


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict | list):
        return st.just(body)
    places = _paths(body)
    mutated = st.tuples(st.sampled_from(places), EXTREME).map(lambda pair: _replace(body, *pair))
    return st.one_of(st.just(body), mutated)


@schemathesis.hook
def flatmap_query(context: Any, query: Any) -> Any:
    if not isinstance(query, dict) or not query:
        return st.just(query)
    names = sorted(query)
    mutated = st.tuples(st.sampled_from(names), EXTREME_PARAM).map(lambda pair: {**query, pair[0]: pair[1]})
    return st.one_of(st.just(query), mutated)


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    if not isinstance(path_parameters, dict) or not path_parameters:
        return st.just(path_parameters)
    names = sorted(path_parameters)
    texts = st.sampled_from(["a\x00b", "\x01", "9" * 5000, "1e400"])
    mutated = st.tuples(st.sampled_from(names), texts).map(lambda pair: {**path_parameters, pair[0]: pair[1]})
    return st.one_of(st.just(path_parameters), mutated)


def _encode(value: Any) -> str:
    """JSON text of ``value``, with the marked raw pieces spliced in as they are."""
    raws: list[str] = []

    def mark(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {RAW_MARK}:
                raws.append(node[RAW_MARK])
                return f"@@raw{len(raws) - 1}@@"
            return {k: mark(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v) for v in node]
        return node

    text = json.dumps(mark(value))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', raw, 1)
    return text


def json_with_raw_pieces(ctx: Any, value: Any) -> dict[str, Any]:
    """Schemathesis's JSON serializer, except that values are written by us: NaN and lone
    surrogates as Python's encoder writes them (``requests`` refuses NaN), and marked raw
    pieces spliced in as they are."""
    if isinstance(value, bytes | Binary) or value is None:
        return cast(dict[str, Any], serialize_json(value))
    return {"data": _encode(value).encode("utf-8")}


register_serializer(json_with_raw_pieces, "application/json", "text/json")
