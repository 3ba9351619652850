"""lutea.http.powertools_seams is the only code that relies on Powertools' private API. These
tests fail loudly when an upgrade of Powertools changes what it relies on, or when private
members are used anywhere else."""

from __future__ import annotations

import re
from pathlib import Path

from lutea.http import powertools_seams

from tests.support.accounts import client_session

ROOT = Path(__file__).resolve().parents[3]
PRIVATE = re.compile(
    r"\._(call_route|to_response|call_exception_handler|static_routes|dynamic_routes|"
    r"build_middleware_stack)\b"
)


def test_powertools_code_the_overrides_rely_on_is_unchanged():
    changed = [name for name, digest in powertools_seams.RELIED_ON.items() if powertools_seams.fingerprint(name) != digest]
    assert not changed, (
        f"Powertools changed {changed}: re-read them, check that lutea/http/powertools_seams.py still "
        "runs the guards before request validation and encodes plain results once, then update RELIED_ON"
    )


def test_no_other_code_touches_those_private_members():
    users = []
    for folder in ("layers", "functions", "infra", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name in ("powertools_seams.py", Path(__file__).name):
                continue
            if PRIVATE.search(path.read_text(encoding="utf-8")):
                users.append(str(path.relative_to(ROOT)))
    assert not users, users


def test_plain_results_are_encoded_once_not_walked_by_powertools(make_client, monkeypatch):
    from aws_lambda_powertools.event_handler.middlewares import openapi_validation

    walked = []
    real = openapi_validation.jsonable_encoder
    monkeypatch.setattr(
        openapi_validation, "jsonable_encoder", lambda obj, **kw: walked.append(type(obj).__name__) or real(obj, **kw)
    )
    response = make_client().get("/retreats/admin")  # refused by its guard before validation
    assert response.status == 401
    client, _ = client_session(make_client)
    response = client.get("/bookings/my-bookings")  # a plain list
    assert response.status == 200 and response.body == "[]"
    assert "dict" not in walked and "list" not in walked, walked
