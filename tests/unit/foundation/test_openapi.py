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
