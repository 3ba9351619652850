"""Extreme inputs answer 400 on every route, never 500: JSON nested thousands deep (Python's
parser recursed until RecursionError), numbers no field can hold (``1e400`` is infinity, 5,000
digits exceed Python's integer parsing, NaN is not JSON), NUL and lone UTF-16 surrogates in
strings (the MongoDB and MySQL drivers can't encode a lone surrogate; a real MongoDB refuses a
regular expression holding NUL), and control characters in query or path parameters."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.security.routes import template_routes
from tests.security.support import assert_error
from tests.support.accounts import admin_session

SOME_ID = "0123456789abcdef01234567"
BODY_ROUTES = [r for r in template_routes() if r.method in ("POST", "PUT", "PATCH")]
QUERY_ROUTES = [r for r in template_routes() if r.method == "GET"]

EXTREME_BODIES = {
    "deep list": "[" * 5000 + "]" * 5000,
    "deep object": '{"a":' * 5000 + "1" + "}" * 5000,
    "deep inside a field": '{"email": ' + "[" * 3000 + "]" * 3000 + "}",
    "just past the depth limit": '{"event_data": ' + '{"a":' * 21 + "1" + "}" * 21 + "}",
    "infinite float": '{"nbPlaces": 1e400, "prix": 1e400}',
    "NaN": '{"nbPlaces": NaN}',
    "-Infinity": '{"places": -Infinity}',
    "5000 digits": '{"nbPlaces": ' + "9" * 5000 + "}",
    "NUL": '{"titreCard": "a\\u0000b", "email": "a\\u0000@b.fr"}',
    "lone surrogate": '{"prenom": "\\ud800", "message": "x\\udfff"}',
}


def _concrete(path: str) -> str:
    return re.sub(r"\{\w+\}", SOME_ID, path)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
@pytest.mark.parametrize("kind", sorted(EXTREME_BODIES))
def test_extreme_bodies_are_400_on_every_route(make_client: Any, route: Any, kind: str) -> None:
    if route.path == "/stripe/webhook":
        pytest.skip("signed by Stripe: an unsigned body is refused before it is read (400)")
    admin, _ = admin_session(make_client)
    response = admin.request(
        route.method, _concrete(route.path), body=EXTREME_BODIES[kind], headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400)


def test_a_webhook_body_is_read_only_once_signed(make_client: Any) -> None:
    response = make_client(origin=None).post(
        "/stripe/webhook",
        body=EXTREME_BODIES["deep list"],
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=x"},
    )
    assert_error(response, 400)


def test_ordinary_bodies_still_pass_the_screen(make_client: Any) -> None:
    """Escaped quotes and backslashes, emoji (a surrogate pair), tabs and new lines, brackets
    inside strings, big but finite numbers: all reach validation as before."""
    response = make_client().post(
        "/email/contact",
        body=(
            '{"nom": "O\\"Brien \\\\ [[[[[[[[[[[[[[[[[[[[[[[[[", "prenom": "Zoé \\ud83d\\ude00", "email": "z@example.test",'
            ' "telephone": "0611223344", "message": "ligne 1\\n\\tligne 2", "rgpd": true, "extra": 1e300}'
        ),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, ["property extra should not exist"])


def _invoke(
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway event as AWS delivers it: query and path parameters already URL-decoded."""
    from infra.local import gateway
    from tests.support.client import route_table

    found, params, _ = gateway.match(route_table(), method, path)
    assert found is not None, path
    event = gateway.build_event(
        method,
        path,
        resource=found.path,
        path_parameters={**params, **(path_parameters or {})},
        headers={"Cookie": f"access_token={cookie}"} if cookie else {},
        source_ip="127.0.0.1",
    )
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return gateway.invoke(found, event)


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=str)
@pytest.mark.parametrize("value", ["a\x00b", "\x01", "x\x7f", "\ud800"], ids=["NUL", "SOH", "DEL", "surrogate"])
def test_control_characters_in_query_parameters_are_400(make_client: Any, route: Any, value: str) -> None:
    admin, _ = admin_session(make_client)
    query = {name: value for name in ("titreCard", "date", "email", "prixMin", "statut")}
    raw = _invoke("GET", _concrete(route.path), cookie=admin.cookies["access_token"], query=query)
    assert raw["statusCode"] == 400, (route, raw["body"])


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "/users/check-temporary/x", "email"),
        ("DELETE", "/analytics/session/x", "sessionId"),
        ("GET", f"/retreats/public/{SOME_ID}", "id"),
    ],
)
def test_control_characters_in_path_parameters_are_400(method: str, path: str, name: str) -> None:
    raw = _invoke(method, path, path_parameters={name: "a\x00b"})
    assert raw["statusCode"] == 400, raw["body"]


def test_a_title_search_holding_nul_is_400_not_a_regex(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    response = admin.get("/retreats/admin/search", query={"titreCard": "Yoga\x00"})
    assert_error(response, 400, "Paramètre de requête invalide : caractères de contrôle interdits")
