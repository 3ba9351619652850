"""The checked-in openapi.json is what the code generates (regenerate with `make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

from infra.openapi import build_openapi

ROOT = Path(__file__).resolve().parents[3]


def test_checked_in_openapi_matches_the_code():
    generated = json.loads(json.dumps(build_openapi()))
    checked_in = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert checked_in == generated, "openapi.json is stale: run `make openapi` and commit it"


def test_document_has_every_route_with_the_error_model_and_access():
    doc = build_openapi()
    assert doc["openapi"].startswith("3.1")
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    from infra.local import gateway

    assert operations == {(r.method, r.path) for r in gateway.routes() if r.method != "OPTIONS"}
    admin_stats = doc["paths"]["/bookings/admin/stats"]["get"]
    assert {"401", "403", "400", "default"} <= set(admin_stats["responses"])
    assert "422" not in json.dumps(doc["paths"])
    assert "201" in doc["paths"]["/bookings"]["post"]["responses"]
    assert "application/pdf" in doc["paths"]["/bookings/{id}/pdf"]["get"]["responses"]["200"]["content"]


def test_every_operation_is_documented_for_the_frontend():
    """What a generated client needs: a tag per endpoint group, a summary and a description
    (the route's docstring), the success body's schema, and the error shape for every status
    the route can answer (validation, rate limit, its guard, its own 404/409)."""
    doc = build_openapi()
    schemas = doc["components"]["schemas"]
    problems = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            name = f"{method.upper()} {path}"
            responses = op["responses"]
            if op.get("tags") != [path.strip("/").split("/")[0]]:
                problems.append(f"{name}: tag")
            if not op.get("summary") or op["summary"].startswith(f"{method.upper()} /"):
                problems.append(f"{name}: summary (the first line of the route's docstring)")
            if not op.get("description"):
                problems.append(f"{name}: description (the docstring after its first line)")
            success = [(code, r) for code, r in responses.items() if code.startswith("2")]
            if len(success) != 1:
                problems.append(f"{name}: one success response")
            for code, response in success:
                content = response.get("content") or {}
                if not content and code != "204" and "empty body" not in response["description"]:
                    problems.append(f"{name}: success body schema (responses=ok(...))")
                for media in content.values():
                    if not media.get("schema"):
                        problems.append(f"{name}: success body schema (responses=ok(...))")
                    ref = media.get("schema", {}).get("items", media.get("schema", {})).get("$ref")
                    if ref is not None and ref.rsplit("/", 1)[1] not in schemas:
                        problems.append(f"{name}: unknown model {ref}")
            expected = {"400", "429"}
            if op.get("security") and {} not in op["security"]:
                expected.add("401")
            if "{id}" in path:
                expected.add("404")
            for code in sorted(expected):
                if code not in responses:
                    problems.append(f"{name}: {code} not declared")
            for code, response in responses.items():
                if code[0] in "45" and response["content"]["application/json"]["schema"] != {
                    "$ref": "#/components/schemas/Error"
                }:
                    problems.append(f"{name}: {code} is not in the error shape")
    assert not problems, "\n".join(problems)
    assert {t["name"] for t in doc["tags"]} == {p.strip("/").split("/")[0] for p in doc["paths"]}
