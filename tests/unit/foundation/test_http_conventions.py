"""The conventions every function inherits from lutea.http: error model, guards before
validation, CORS, security headers, body limits."""

from __future__ import annotations

import base64
import json

import pytest
from lutea.errors import Conflict
from lutea.http import admin_required, create_app, json_body, jwt_required, make_handler, require_principal
from lutea.validation import Email, StrictModel

from infra.local.gateway import LambdaContext, build_event
from tests.support.accounts import make_user, sign_in
from tests.support.client import ApiClient


class Thing(StrictModel):
    email: Email
    count: int


def _app():
    app = create_app()

    @app.post("/things")
    def create_thing(body: Thing):
        return json_body(201, {"email": body.email, "count": body.count})

    @app.post("/admin/things")
    @admin_required
    def admin_thing(body: Thing):
        return {"ok": True}

    @app.get("/me")
    @jwt_required
    def me():
        return {"sub": require_principal().user_id}

    @app.get("/conflict")
    def conflict():
        raise Conflict("Seulement 2 places disponibles")

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    return make_handler(app)


HANDLER = _app()


def call(method, path, body=None, headers=None, b64=False):
    hdrs = {"Origin": "http://localhost:3000", **(headers or {})}
    event = build_event(method, path, headers=hdrs, body=body)
    if b64:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    result = HANDLER(event, LambdaContext("test"))
    return result["statusCode"], result["headers"], json.loads(result["body"]) if result["body"] else None


def test_success_with_status_201():
    status, _, body = call("POST", "/things", json.dumps({"email": " A@B.fr ", "count": 2}))
    assert (status, body) == (201, {"email": "a@b.fr", "count": 2})


def test_bad_body_gets_400_in_the_original_error_shape_naming_the_field():
    status, _, body = call("POST", "/things", json.dumps({"email": "nope", "extra": 1}))
    assert status == 400
    assert body["statusCode"] == 400 and body["message"] == "Données invalides" and body["path"] == "/things"
    assert body["timestamp"].endswith("Z")
    details = body["details"]
    assert details["statusCode"] == 400 and details["error"] == "Bad Request"
    assert "property extra should not exist" in details["message"]
    assert {"field": "email", "rule": "value_error"} in details["fields"]
    assert {"field": "count", "rule": "missing"} in details["fields"]
    assert "stack" not in body


def test_malformed_json_is_400_not_500():
    status, _, body = call("POST", "/things", "{not json")
    assert status == 400 and body["details"]["fields"][0]["field"] == "body"


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(content_type):
    status, _, body = call("POST", "/things", json.dumps({"email": "x@y.fr", "count": 1}), headers={"Content-Type": content_type})
    assert status == 415 and body["statusCode"] == 415


def test_json_with_charset_is_accepted():
    status, _, _ = call(
        "POST",
        "/things",
        json.dumps({"email": "x@y.fr", "count": 1}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert status == 201


def test_non_utf8_base64_body_is_400():
    status, _, body = call("POST", "/things", b"\xff\xfe\x00", b64=True)
    assert status == 400 and body["message"] == "Données invalides"


def test_base64_json_body_is_decoded():
    status, _, body = call("POST", "/things", json.dumps({"email": "x@y.fr", "count": 1}).encode(), b64=True)
    assert status == 201 and body["email"] == "x@y.fr"


def test_oversized_body_is_413(monkeypatch):
    from lutea.config import reset_settings

    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    reset_settings()
    status, _, body = call("POST", "/things", json.dumps({"email": "x@y.fr", "count": 1, "pad": "a" * 2000}))
    assert status == 413 and body["statusCode"] == 413


def test_guards_run_before_validation():
    # No credentials and an invalid body: 401 first, as Nest guards ran before pipes.
    status, _, body = call("POST", "/admin/things", json.dumps({"bad": True}))
    assert status == 401 and body["message"] == "Unauthorized"


def test_admin_guard_refuses_client_and_admin_without_2fa():
    client = sign_in(ApiClient(), make_user("client"))
    admin_no_mfa = sign_in(ApiClient(), make_user("admin"), mfa=False)
    for who in (client, admin_no_mfa):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in who.cookies.items())}
        status, _, _ = call("POST", "/admin/things", json.dumps({"email": "a@b.fr", "count": 1}), headers)
        assert status == 403


def test_bearer_token_is_accepted_and_cookie_needs_allowed_origin():
    user = make_user("client")
    bearer = sign_in(ApiClient(), user, bearer=True).bearer
    status, _, body = call("GET", "/me", headers={"Authorization": f"Bearer {bearer}"})
    assert status == 200 and body == {"sub": str(user["_id"])}
    cookies = sign_in(ApiClient(), user).cookies
    cookie_header = {"Cookie": f"access_token={cookies['access_token']}"}
    admin = sign_in(ApiClient(), make_user("admin"))
    admin_cookie = {"Cookie": f"access_token={admin.cookies['access_token']}"}
    # A state-changing request authenticated by cookie from a foreign origin is refused (CSRF).
    status, _, _ = call(
        "POST", "/admin/things", json.dumps({"email": "a@b.fr", "count": 1}), {**admin_cookie, "Origin": "https://evil.example"}
    )
    assert status == 403
    status, _, _ = call("POST", "/admin/things", json.dumps({"email": "a@b.fr", "count": 1}), admin_cookie)
    assert status == 200
    # Reads by cookie are not state-changing.
    status, _, _ = call("GET", "/me", headers={**cookie_header, "Origin": "https://evil.example"})
    assert status == 200


def test_revoked_session_ends_its_access_tokens():
    from lutea.auth.tokens import decode_access
    from lutea.data.sessions import SessionFamilyRepository

    user = make_user("client")
    bearer = sign_in(ApiClient(), user, bearer=True).bearer
    SessionFamilyRepository().revoke(decode_access(bearer).family_id)
    status, _, _ = call("GET", "/me", headers={"Authorization": f"Bearer {bearer}"})
    assert status == 401


def test_domain_error_keeps_its_french_message_and_no_details():
    status, _, body = call("GET", "/conflict")
    assert status == 409 and body["message"] == "Seulement 2 places disponibles" and "details" not in body


def test_unexpected_error_is_500_without_stack_or_detail():
    status, _, body = call("GET", "/boom")
    assert status == 500 and body["message"] == "Erreur interne du serveur"
    assert "secret detail" not in json.dumps(body) and "stack" not in body


def test_unknown_path_is_404_json():
    status, _, body = call("GET", "/nowhere")
    assert status == 404 and body["statusCode"] == 404 and body["path"] == "/nowhere"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://localhost:5173", True),
        ("http://127.0.0.1:8080/", True),
        ("http://localhost.evil.com", False),
        ("https://evil.example", False),
    ],
)
def test_cors_echoes_allowed_origins_only(origin, allowed):
    status, headers, _ = call("GET", "/conflict", headers={"Origin": origin})
    assert status == 409  # the request itself is served either way
    if allowed:
        assert headers["Access-Control-Allow-Origin"] == origin.rstrip("/")
        assert headers["Access-Control-Allow-Credentials"] == "true"
    else:
        assert "Access-Control-Allow-Origin" not in headers


def test_production_allows_only_frontend_url(monkeypatch):
    from lutea.config import reset_settings

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("FRONTEND_URL", "https://lutea.fr/, https://www.lutea.fr")
    monkeypatch.setenv("JWT_ACCESS_SECRET", "p" * 40)
    monkeypatch.setenv("JWT_REFRESH_SECRET", "q" * 40)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + "w" * 32)
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setattr("lutea.http.ratelimit.enforce", lambda event: None)  # no database in this test
    reset_settings()
    _, headers, _ = call("GET", "/conflict", headers={"Origin": "https://www.lutea.fr"})
    assert headers["Access-Control-Allow-Origin"] == "https://www.lutea.fr"
    _, headers, _ = call("GET", "/conflict", headers={"Origin": "http://localhost:3000"})
    assert "Access-Control-Allow-Origin" not in headers


def test_preflight_answers_204_with_methods_and_headers():
    status, headers, _ = call("OPTIONS", "/things", headers={"Access-Control-Request-Method": "POST"})
    assert status == 204
    assert "PATCH" in headers["Access-Control-Allow-Methods"]
    assert "X-Booking-Token" in headers["Access-Control-Allow-Headers"]


def test_security_headers_on_every_response():
    for method, path in (("GET", "/conflict"), ("GET", "/nowhere"), ("POST", "/things")):
        _, headers, _ = call(method, path, "{}")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_rate_limit_per_client_ip_with_retry_after(monkeypatch, frozen_clock):
    from lutea.config import reset_settings

    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "3")
    reset_settings()

    def hit(ip, forwarded=None):
        headers = {"Origin": "http://localhost:3000"}
        if forwarded:
            headers["X-Forwarded-For"] = forwarded
        event = build_event("GET", "/conflict", headers=headers, source_ip=ip)
        return HANDLER(event, LambdaContext("test"))

    assert [hit("10.0.0.1")["statusCode"] for _ in range(3)] == [409, 409, 409]
    limited = hit("10.0.0.1", forwarded="10.9.9.9")  # a forged header does not change the client
    assert limited["statusCode"] == 429 and int(limited["headers"]["Retry-After"]) > 0
    assert json.loads(limited["body"])["statusCode"] == 429
    assert hit("10.0.0.2")["statusCode"] == 409  # another client has its own budget
    frozen_clock.advance(minutes=1)
    assert hit("10.0.0.1")["statusCode"] == 409  # a new window


def test_strict_limit_on_sensitive_routes(monkeypatch):
    from lutea.config import reset_settings
    from lutea.errors import RateLimited
    from lutea.http import ratelimit

    monkeypatch.setenv("RATE_LIMIT_STRICT_PER_MINUTE", "2")
    monkeypatch.setenv("RATE_LIMIT_CONTACT_PER_MINUTE", "1")
    reset_settings()
    login = build_event("POST", "/auth/login", source_ip="10.1.1.1")
    ratelimit.enforce(login)
    ratelimit.enforce(login)
    with pytest.raises(RateLimited):
        ratelimit.enforce(login)
    ratelimit.enforce(build_event("GET", "/retreats/public", source_ip="10.1.1.1"))  # global budget left
    contact = build_event("POST", "/email/contact", source_ip="10.1.1.2")
    ratelimit.enforce(contact)
    with pytest.raises(RateLimited):
        ratelimit.enforce(contact)
    webhook = build_event("POST", "/stripe/webhook", source_ip="10.1.1.2")
    for _ in range(5):
        ratelimit.enforce(webhook)  # Stripe is authenticated by signature, never throttled


def test_json_body_reused_encodes_each_payload_object_once(monkeypatch):
    import lutea.http.app as http_app

    encoded = []
    real_encode = http_app.encode_json
    monkeypatch.setattr(http_app, "encode_json", lambda payload: encoded.append(1) or real_encode(payload))
    catalogue = [{"titreCard": "Été"}]
    first = http_app.json_body_reused(catalogue)
    second = http_app.json_body_reused(catalogue)
    assert first.body == second.body == '[{"titreCard":"Été"}]' and len(encoded) == 1
    rebuilt = [{"titreCard": "Hiver"}]  # a changed catalogue is a new object
    assert http_app.json_body_reused(rebuilt).body == '[{"titreCard":"Hiver"}]' and len(encoded) == 2
