"""API8:2023 Security Misconfiguration (and API7's neighbour, cross-site use of the session):
CORS by exact origin, security headers on every answer (errors included), error bodies that
never carry a stack or an exception's text, CSRF refused for cookie sessions, cookie flags,
and production settings that refuse the development defaults."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from infra.local import gateway
from tests.security.support import FOREIGN_ORIGIN, assert_error, book, stack_markers_in, stored
from tests.support.accounts import admin_session, client_session, sign_in
from tests.support.catalogue import booking_body, insert_retreat
from tests.support.client import route_table

ALLOWED_ORIGIN = "http://localhost:3000"
FOREIGN_ORIGINS = [
    FOREIGN_ORIGIN,
    "http://localhost.evil.example",
    "http://localhost:3000.evil.example",
    "http://evil.example/localhost",
    "http://localhost:3000@evil.example",
    "null",
    "https://127.0.0.1.evil.example",
    "file://",
    "localhost:3000",
]


def _headers(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()}


def _preflight(path: str, origin: str) -> dict[str, Any]:
    """An OPTIONS request straight to the function that serves ``path`` (the template declares no
    OPTIONS routes: in AWS, API Gateway answers preflights; locally, the function does)."""
    route, params, _ = gateway.match(route_table(), "GET", path)
    event = gateway.build_event(
        "OPTIONS",
        path,
        resource=route.path,
        path_parameters=params,
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    return gateway.invoke(route, event)


# --- CORS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_foreign_origins_get_no_cors_headers(make_client: Any, origin: str) -> None:
    response = make_client(origin=origin).get("/retreats/public")
    assert response.status == 200  # served, but the browser will not let the page read it
    headers = _headers(response)
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-credentials" not in headers
    preflight = _preflight("/retreats/public", origin)
    assert not any(k.lower().startswith("access-control-") for k in (preflight.get("headers") or {}))


def test_a_signed_in_read_from_a_foreign_origin_gets_no_cors_headers(make_client: Any) -> None:
    client, _ = client_session(make_client)
    client.origin = FOREIGN_ORIGIN
    response = client.get("/users/profile")
    assert "access-control-allow-origin" not in _headers(response)


def test_the_frontend_origin_is_echoed_with_credentials(make_client: Any) -> None:
    headers = _headers(make_client(origin=ALLOWED_ORIGIN).get("/retreats/public"))
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert "origin" in headers["vary"].lower()
    preflight = {k.lower(): v for k, v in (_preflight("/retreats/public", ALLOWED_ORIGIN)["headers"] or {}).items()}
    assert preflight["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "*" not in preflight["access-control-allow-origin"]


def test_production_allows_only_the_configured_frontend(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config
    from lutea.http.cors import cors_headers, is_allowed_origin

    _production(monkeypatch, FRONTEND_URL="https://lutea.example,https://www.lutea.example/")
    assert is_allowed_origin("https://lutea.example") and is_allowed_origin("https://www.lutea.example")
    for origin in (
        "http://localhost:3000",
        "http://127.0.0.1:5173",
        "http://lutea.example",
        FOREIGN_ORIGIN,
        "https://lutea.example.evil.example",
    ):
        assert cors_headers(origin) == {}, origin
    config.reset_settings()


def _production(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    from lutea import config

    for name, value in {
        "STAGE": "prod",
        "JWT_ACCESS_SECRET": "p" * 40,
        "JWT_REFRESH_SECRET": "q" * 40,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
        "MONGODB_URI": "mongodb://db.invalid:27017",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()


# --- headers on every answer ------------------------------------------------------------------

EXPECTED_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _assert_security_headers(response: Any) -> None:
    headers = _headers(response)
    for name, value in EXPECTED_HEADERS.items():
        assert headers.get(name) == value, (response.status, name, headers.get(name))
    assert headers["strict-transport-security"].startswith("max-age=")
    assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 15552000


def test_security_headers_on_successes_and_on_every_kind_of_error(make_client: Any, limits: Any, frozen_clock: Any) -> None:
    retreat = insert_retreat(places=1)
    client, _ = client_session(make_client)
    admin, _ = admin_session(make_client)
    booking = book(client, retreat, nb=1)
    answers = {
        200: client.get(f"/bookings/{booking['_id']}"),
        "200 pdf": client.get(f"/bookings/{booking['_id']}/pdf"),
        201: make_client().post("/analytics/session", json={"session_id": "h", "started_at": "2026-11-01T00:00:00Z"}),
        204: admin.delete(f"/retreats/admin/{insert_retreat()['_id']}"),
        400: make_client().post("/auth/login", body="{not json", headers={"Content-Type": "application/json"}),
        401: make_client().get("/users/profile"),
        403: client.get("/users"),
        404: client.get(f"/bookings/{ObjectId()}"),
        409: make_client().post("/bookings", json=booking_body(retreat, 1)),
        413: make_client().post("/auth/login", body="x" * 200_000),
    }
    limits(RATE_LIMIT_PER_MINUTE=1)
    limited = make_client(source_ip="203.0.113.50")
    limited.get("/retreats/public")
    answers[429] = limited.get("/retreats/public")
    for expected, response in answers.items():
        assert str(response.status) == str(expected).split()[0], (expected, response.body)
        _assert_security_headers(response)
    assert _headers(answers[400])["content-type"].startswith("application/json")
    assert _headers(answers["200 pdf"])["content-type"] == "application/pdf"


# --- what an error says -----------------------------------------------------------------------

SECRET_DETAIL = "mongodb://admin:hunter2@db.internal:27017 failed in /var/task/lutea/data/bookings.py line 42"


@pytest.mark.parametrize(
    "module, function, method, path",
    [
        ("lutea.domain.retreats", "public_catalogue", "GET", "/retreats/public"),
        ("lutea.domain.bookings", "user_bookings", "GET", "/bookings/my-bookings"),
        ("lutea.domain.accounts", "get_profile", "GET", "/users/profile"),
        ("lutea.domain.sessions", "sign_in", "POST", "/auth/login"),
        ("lutea.domain.payment_events", "handle_webhook", "POST", "/stripe/webhook"),
    ],
)
def test_an_unexpected_error_is_a_bare_500(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, module: str, function: str, method: str, path: str
) -> None:
    import importlib

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SECRET_DETAIL)

    monkeypatch.setattr(importlib.import_module(module), function, boom)
    client, _ = client_session(make_client)
    body = {"email": "a@example.test", "password": "x"} if path == "/auth/login" else None
    response = client.request(method, path, json=body)
    error = assert_error(response, 500, "Erreur interne du serveur")
    assert set(error) == {"statusCode", "message", "timestamp", "path"}
    assert error["path"] == path
    for fragment in ("hunter2", "db.internal", "/var/task", "RuntimeError", "line 42"):
        assert fragment not in response.body
    assert stack_markers_in(response.body) == []
    _assert_security_headers(response)


class _DatabaseDown:
    """Every collection of an unreachable MongoDB cluster."""

    def __getitem__(self, name: str) -> Any:
        from pymongo.errors import ServerSelectionTimeoutError

        raise ServerSelectionTimeoutError("db.internal:27017: timed out, Topology Description: <TopologyDescription>")

    __getattr__ = __getitem__


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/retreats/public", None),
        ("POST", "/auth/login", {"email": "a@example.test", "password": "x"}),
        ("GET", "/users/profile", None),
        ("POST", "/bookings/available-places", {"retreatId": "0" * 24, "date": "2027-03-12T09:00:00.000Z"}),
    ],
)
def test_a_database_outage_says_nothing_of_the_database(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, method: str, path: str, body: Any
) -> None:
    from lutea.data import mongo

    client, _ = client_session(make_client)
    monkeypatch.setattr(mongo, "_db", _DatabaseDown())
    response = client.request(method, path, json=body)
    assert response.status in (500, 503), response.body
    assert set(response.json()) == {"statusCode", "message", "timestamp", "path"}
    for fragment in ("db.internal", "Topology", "27017", "ServerSelection"):
        assert fragment not in response.body
    _assert_security_headers(response)


@pytest.mark.parametrize(
    "path, payload",
    [
        ("/auth/register", {"email": "<script>alert(1)</script>", "password": "Secret-Value-1!"}),
        ("/auth/login", {"email": ["<script>alert(1)</script>"], "password": "Secret-Value-1!"}),
        ("/auth/reset-password", {"token": "t", "newPassword": "<script>alert(1)</script>"}),
        ("/email/contact", {"nom": "<script>alert(1)</script>", "rgpd": "Secret-Value-1!"}),
    ],
)
def test_validation_errors_never_echo_what_was_sent(make_client: Any, path: str, payload: dict) -> None:
    response = make_client().post(path, json=payload)
    assert_error(response, 400)
    assert "<script>" not in response.body and "Secret-Value-1!" not in response.body
    assert "pydantic" not in response.body.lower()


def test_unreadable_bodies_are_400_not_500(make_client: Any) -> None:
    assert_error(make_client().post("/auth/login", body=b"\xff\xfe\x00binary"), 400)
    assert_error(make_client().post("/auth/login", body="[1, 2", headers={"Content-Type": "application/json"}), 400)
    assert_error(make_client().post("/auth/login", body='"just a string"', headers={"Content-Type": "application/json"}), 400)
    assert_error(make_client().post("/auth/login", body="null", headers={"Content-Type": "application/json"}), 400)
    assert_error(make_client().post("/bookings", body="[]", headers={"Content-Type": "application/json"}), 400)


# --- CSRF: the session cookie travels with cross-site requests ---------------------------------


def test_a_cross_site_profile_update_by_cookie_is_403(make_client: Any) -> None:
    client, user = client_session(make_client)
    attempts = [
        client.put("/users/profile", json={"firstName": "Pirate"}, headers={"Origin": FOREIGN_ORIGIN}),
        client.put("/users/profile", json={"firstName": "Pirate"}, headers={"Origin": "null"}),
        client.put("/users/profile", json={"firstName": "Pirate"}, headers={"Origin": "http://localhost:3000.evil.example"}),
    ]
    client.origin = None
    attempts.append(client.put("/users/profile", json={"firstName": "Pirate"}, headers={"Referer": f"{FOREIGN_ORIGIN}/page"}))
    attempts.append(client.put("/users/profile", json={"firstName": "Pirate"}))  # neither Origin nor Referer
    for response in attempts:
        assert_error(response, 403, "Origine de la requête non autorisée")
    assert stored("users", user["_id"])["firstName"] == user["firstName"]
    # The frontend (Origin or Referer) is let through.
    assert client.put("/users/profile", json={"firstName": "Léa"}, headers={"Referer": f"{ALLOWED_ORIGIN}/x"}).status == 200
    client.origin = ALLOWED_ORIGIN
    assert client.put("/users/profile", json={"firstName": "Léo"}).status == 200
    assert stored("users", user["_id"])["firstName"] == "Léo"


def test_a_bearer_request_is_not_exposed_to_csrf(make_client: Any) -> None:
    _, user = client_session(make_client)
    api_client = sign_in(make_client(origin=FOREIGN_ORIGIN), user, bearer=True)
    assert api_client.put("/users/profile", json={"firstName": "Api"}).status == 200


def test_other_state_changes_by_cookie_from_a_foreign_site_are_403(stripe_fake: Any, make_client: Any) -> None:
    retreat = insert_retreat()
    client, user = client_session(make_client)
    booking = book(client, retreat, nb=1)
    created = client.post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}})
    pi = created.json()["id"]
    admin, _ = admin_session(make_client)
    foreign = {"Origin": FOREIGN_ORIGIN}

    refused = [
        client.delete("/users/profile", headers=foreign),
        client.post("/auth/logout", headers=foreign),
        client.post("/auth/refresh", headers=foreign),
        client.post("/users/validate-password", json={"currentPassword": "x"}, headers=foreign),
        client.post("/bookings", json=booking_body(retreat, 1), headers=foreign),
        client.post("/stripe/cancel-payment-intent", json={"paymentIntentId": pi}, headers=foreign),
        admin.patch(f"/retreats/admin/{retreat['_id']}/toggle-active", headers=foreign),
        admin.delete(f"/users/{user['_id']}", headers=foreign),
    ]
    for response in refused:
        assert_error(response, 403)
    assert stored("users", user["_id"]) is not None
    assert stored("retreats", retreat["_id"])["isActive"] is True
    assert stored("bookings", booking["_id"])["statut"] == "PENDING"
    from lutea.data.mongo import get_db

    assert get_db()["bookings"].count_documents({}) == 1
    assert client.get("/users/profile").status == 200  # still signed in: logout was refused too


# --- cookies --------------------------------------------------------------------------------------


def test_session_cookies_are_http_only_and_same_site(make_client: Any) -> None:
    from tests.security.support import PASSWORD, user_with_password

    user = user_with_password()
    login = make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status == 200
    assert len(login.set_cookies) == 2
    for raw in login.set_cookies:
        attributes = [a.strip().lower() for a in raw.split(";")[1:]]
        assert "httponly" in attributes and "path=/" in attributes and "samesite=strict" in attributes, raw
    assert "access_token" not in login.body and "refresh_token" not in login.body


def test_production_cookies_are_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from lutea import config
    from lutea.http.cookies import cleared_cookies, session_cookies

    _production(monkeypatch)
    for cookie in [*session_cookies("a", "r", timedelta(minutes=15), timedelta(days=7)), *cleared_cookies()]:
        text = str(cookie).lower()
        assert "secure" in text and "httponly" in text and "samesite=none" in text, text
    config.reset_settings()


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.invalid:27017")
    for name in ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError):
        config.load_settings()
    monkeypatch.setenv("JWT_ACCESS_SECRET", "short")
    monkeypatch.setenv("JWT_REFRESH_SECRET", "q" * 40)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + "w" * 32)
    with pytest.raises(RuntimeError):
        config.load_settings()
    monkeypatch.setenv("JWT_ACCESS_SECRET", "q" * 40)  # the same key for both kinds of token
    with pytest.raises(RuntimeError):
        config.load_settings()


def test_production_refuses_the_development_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config
    from lutea.payments.signature import verify_event

    from tests.support.fake_stripe import sign_payload

    _production(monkeypatch)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    config.reset_settings()
    body = '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    with pytest.raises(RuntimeError):
        verify_event(body, sign_payload(body, "whsec_local"))
    config.reset_settings()
