"""A path has one spelling: a trailing or doubled slash reaches neither another rate-limit
bucket nor another guard (issue 12, defect 4). API Gateway (REST) passes a trailing slash through
to the function, so these run both through the local gateway and as API Gateway-shaped events
sent straight to a function."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from lutea.observability import logger

from infra.local import gateway
from tests.security.support import assert_error
from tests.support.client import route_table

LOGIN = {"email": "nobody@example.test", "password": "Guess1!xx"}
SPELLINGS = ("/auth/login", "/auth/login/", "//auth/login", "/auth//login", "//auth//login//")


def _aws_event(
    method: str, path: str, resource: str, body: Any = None, ip: str = "203.0.113.40", **headers: str
) -> dict[str, Any]:
    """The event API Gateway sends for ``path`` matched to ``resource`` (the path as typed)."""
    return gateway.build_event(
        method,
        path,
        resource=resource,
        source_ip=ip,
        headers={"Content-Type": "application/json", **headers},
        body=None if body is None else json.dumps(body),
    )


def _invoke(resource: str, method: str, event: dict[str, Any]) -> dict[str, Any]:
    route = next(r for r in route_table() if r.path == resource and r.method == method)
    return gateway.invoke(route, event)


def test_strict_login_limit_counts_every_spelling_through_the_local_gateway(frozen_clock, limits, make_client):
    limits(RATE_LIMIT_STRICT_PER_MINUTE=len(SPELLINGS) - 1)
    attacker = make_client(source_ip="203.0.113.41")
    statuses = [attacker.post(path, json=LOGIN).status for path in SPELLINGS]
    assert statuses == [401] * (len(SPELLINGS) - 1) + [429]


def test_strict_login_limit_counts_every_spelling_of_api_gateway_events(frozen_clock, limits):
    limits(RATE_LIMIT_STRICT_PER_MINUTE=len(SPELLINGS) - 1)
    statuses = [
        _invoke("/auth/login", "POST", _aws_event("POST", path, "/auth/login", LOGIN))["statusCode"] for path in SPELLINGS
    ]
    assert statuses == [401] * (len(SPELLINGS) - 1) + [429]


def test_contact_limit_counts_every_spelling(frozen_clock, limits):
    limits(RATE_LIMIT_CONTACT_PER_MINUTE=2)
    body = {
        "nom": "Durand",
        "prenom": "Camille",
        "email": "v@example.test",
        "telephone": "06",
        "message": "Bonjour",
        "rgpd": True,
    }
    statuses = [
        _invoke("/email/contact", "POST", _aws_event("POST", path, "/email/contact", body))["statusCode"]
        for path in ("/email/contact", "/email/contact/", "//email//contact")
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("path", ["/users/", "//users", "/users//", "//auth//admin//check/"])
def test_guards_hold_for_every_spelling(path):
    resource = "/auth/admin/check" if "check" in path else "/users"
    answer = _invoke(resource, "GET", _aws_event("GET", path, resource))
    assert answer["statusCode"] == 401, answer["body"]
    assert json.loads(answer["body"])["path"] == path.replace("//", "/").replace("//", "/").rstrip("/")


def test_an_admin_route_is_guarded_through_the_local_gateway_too(make_client):
    assert_error(make_client().get("//users/"), 401)


def test_rate_limit_logs_carry_the_route_not_the_address(frozen_clock, limits):
    """The pending-registration probe has the address in its path: a 429 must not log it."""
    limits(RATE_LIMIT_STRICT_PER_MINUTE=1)
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous_level, previous_stream = logger.log_level, handler.setStream(buffer)
    logger.setLevel("INFO")
    try:
        for _ in range(2):
            _invoke(
                "/users/check-temporary/{email}",
                "GET",
                _aws_event("GET", "/users/check-temporary/victim@example.test/", "/users/check-temporary/{email}"),
            )
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)
    logged = buffer.getvalue()
    assert "rate limited" in logged
    assert "victim" not in logged


def test_the_local_server_logs_no_address(capsys):
    from types import SimpleNamespace

    from infra.local import server

    for path in ("/users/check-temporary/victim%40example.test", "/users/admin/search-by-email?email=victim@x.fr"):
        request = SimpleNamespace(command="GET", path=path, _started=0.0, client_address=("127.0.0.1", 1))
        server._Handler.log_request(request, 200)
        server._Handler.log_message(request, "code %d, message %s ('GET %s HTTP/1.1')", 400, "Bad request", path)
    logged = capsys.readouterr()
    assert "victim" not in logged.out + logged.err
    assert logged.out.count("/users/") == 2 and logged.err.count("WARNING") == 2


def test_the_probe_reads_both_collections_whatever_the_address(api, monkeypatch):
    """An existing account must not answer the probe one query sooner than an unknown one."""
    from lutea.data.users import TemporaryUserRepository

    from tests.integration.auth.flows import user_with_password

    user_with_password(email="existant@example.test")
    lookups = []
    real = TemporaryUserRepository.find_by_email
    monkeypatch.setattr(TemporaryUserRepository, "find_by_email", lambda self, email: lookups.append(email) or real(self, email))
    for email in ("existant@example.test", "inconnu@example.test"):
        assert api.get(f"/users/check-temporary/{email}").json() == {"isTemporary": False}
    assert lookups == ["existant@example.test", "inconnu@example.test"]
