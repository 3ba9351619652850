"""The whole client journey, refresh rotation with reuse detection, sign-out, token checks."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
from lutea.auth import tokens
from lutea.config import get_settings
from lutea.data.mongo import get_db

from tests.integration.auth.flows import (
    PASSWORD,
    assert_error,
    assert_public_user,
    assert_session_user,
    registration,
    token_from,
    user_with_password,
)
from tests.support.accounts import client_session, sign_in


def test_register_validate_login_profile_refresh_logout(make_client, outbox_dir):
    browser = make_client()
    assert browser.post("/auth/register", json=registration("dora@example.test")).status == 201
    validated = browser.post(
        "/auth/validate-email", json={"token": token_from(outbox_dir, "dora@example.test", "validation_link")}
    )
    assert validated.status == 200
    browser.post("/auth/logout")
    browser.cookies.clear()

    login = browser.post("/auth/login", json={"email": "dora@example.test", "password": PASSWORD})
    assert login.status == 200
    profile = browser.get("/users/profile")
    assert profile.status == 200
    stored = get_db()["users"].find_one({"email": "dora@example.test"})
    assert_public_user(profile.json(), stored)

    old_refresh = browser.cookies["refresh_token"]
    old_access = browser.cookies["access_token"]
    refreshed = browser.post("/auth/refresh")
    assert refreshed.status == 200
    assert set(refreshed.json()) == {"user", "message"}
    assert refreshed.json()["message"] == "Token renouvelé avec succès."
    assert_session_user(refreshed.json()["user"], stored)
    assert refreshed.cookie("access_token") and refreshed.cookie("refresh_token")
    assert refreshed.cookie("refresh_token") != old_refresh
    assert browser.get("/auth/profile").status == 200

    # The old refresh token is dead; presenting it again revokes the whole family.
    thief = make_client(cookies={"refresh_token": old_refresh})
    assert_error(thief.post("/auth/refresh"), 401, "Token de refresh invalide")
    assert_error(browser.post("/auth/refresh"), 401, "Token de refresh invalide")
    assert browser.get("/auth/profile").status == 401
    assert make_client(cookies={"access_token": old_access}).get("/auth/profile").status == 401

    again = make_client()
    again.post("/auth/login", json={"email": "dora@example.test", "password": PASSWORD})
    logout = again.post("/auth/logout")
    assert logout.status == 200
    assert logout.json() == {"message": "Déconnexion réussie. Cookies supprimés."}
    assert len(logout.set_cookies) == 2 and all("Max-Age=0" in c for c in logout.set_cookies)
    assert again.cookies == {}


def test_logout_revokes_the_family(make_client):
    client, _ = client_session(make_client)
    access, refresh = client.cookies["access_token"], client.cookies["refresh_token"]

    assert client.post("/auth/logout").status == 200

    assert make_client(cookies={"access_token": access}).get("/auth/profile").status == 401
    assert make_client(cookies={"refresh_token": refresh}).post("/auth/refresh").status == 401
    assert make_client().post("/auth/logout").status == 401


def test_refresh_from_the_body_for_api_clients(make_client):
    client, user = client_session(make_client)
    refresh = client.cookies["refresh_token"]

    response = make_client(origin=None).post("/auth/refresh", json={"refresh_token": refresh})

    assert response.status == 200
    assert_session_user(response.json()["user"], user)
    assert response.cookie("refresh_token") and response.cookie("refresh_token") != refresh


def test_refresh_needs_a_token_and_an_allowed_origin_for_the_cookie(make_client):
    assert_error(make_client().post("/auth/refresh"), 400, "Refresh token manquant")
    assert_error(make_client().post("/auth/refresh", json={}), 400, "Refresh token manquant")
    client, _ = client_session(make_client)
    refresh = client.cookies["refresh_token"]

    foreign = make_client(origin="https://evil.example", cookies={"refresh_token": refresh}).post("/auth/refresh")
    no_origin = make_client(origin=None, cookies={"refresh_token": refresh}).post("/auth/refresh")

    assert foreign.status == 403 and no_origin.status == 403
    assert client.post("/auth/refresh").status == 200  # still the current token: nothing rotated


def test_refresh_refuses_an_access_token_and_garbage(make_client):
    client, _ = client_session(make_client)
    access = client.cookies["access_token"]

    assert make_client(cookies={"refresh_token": access}).post("/auth/refresh").status == 401
    assert make_client().post("/auth/refresh", json={"refresh_token": "abc.def.ghi"}).status == 401
    assert make_client().post("/auth/refresh", json={"refresh_token": {"$ne": ""}}).status == 400


def _forge(claims: dict, key: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_expired_tampered_unsigned_and_refresh_tokens_are_not_access_tokens(make_client, frozen_clock):
    client, _user = client_session(make_client)
    access, refresh = client.cookies["access_token"], client.cookies["refresh_token"]
    assert make_client(cookies={"access_token": access}).get("/auth/profile").status == 200

    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered_payload = (
        base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin", "mfa": True}).encode()).rstrip(b"=").decode()
    )
    tampered = f"{header}.{tampered_payload}.{signature}"
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    unsigned = f"{none_header}.{payload}."
    wrong_key = _forge(claims, get_settings().jwt_refresh_secret)

    for token in (tampered, unsigned, wrong_key, refresh):
        assert make_client(cookies={"access_token": token}).get("/auth/profile").status == 401
        bearer = make_client()
        bearer.bearer = token
        assert bearer.get("/auth/profile").status == 401

    frozen_clock.advance(minutes=15, seconds=1)
    assert make_client(cookies={"access_token": access}).get("/auth/profile").status == 401
    # The refresh token outlives it and gets a new pair.
    assert make_client(cookies={"refresh_token": refresh}).post("/auth/refresh").status == 200


def test_expired_refresh_token_is_refused(make_client, frozen_clock):
    client, _ = client_session(make_client)
    frozen_clock.advance(days=7, seconds=1)

    assert_error(client.post("/auth/refresh"), 401, "Token de refresh invalide")


def test_bearer_access_token_is_accepted(make_client):
    user = user_with_password(email="eve@example.test")
    client = sign_in(make_client(origin=None), user, bearer=True)

    assert client.get("/auth/profile").status == 200
    assert client.post("/auth/logout").status == 200  # no CSRF check without cookies
    assert client.get("/auth/profile").status == 401


def test_profile_and_user_info_shapes(make_client):
    client, user = client_session(make_client, email="fanny@example.test", firstName="Fanny")

    profile = client.get("/auth/profile")
    info = client.get("/auth/user-info")

    assert profile.status == 200
    assert profile.json() == {
        "sub": str(user["_id"]),
        "email": "fanny@example.test",
        "role": "client",
        "firstName": "Fanny",
        "lastName": user["lastName"],
    }
    assert info.status == 200
    assert_public_user(info.json(), user)


def test_a_deleted_users_token_gets_401(make_client):
    client, user = client_session(make_client)
    get_db()["users"].delete_one({"_id": user["_id"]})  # behind the API's back: the lookup catches it

    assert client.get("/auth/profile").status == 401
    assert client.get("/auth/user-info").status == 401
    assert client.get("/users/profile").status == 401


def test_refresh_reflects_the_current_role_and_ends_for_deleted_users(make_client):
    client, user = client_session(make_client)
    get_db()["users"].delete_one({"_id": user["_id"]})

    assert client.post("/auth/refresh").status == 401


def test_refresh_family_expiry_moves_with_rotation(make_client, frozen_clock):
    client, _ = client_session(make_client)
    for _ in range(3):
        frozen_clock.advance(days=5)
        assert client.post("/auth/refresh").status == 200
    family = get_db()["refreshfamilies"].find_one({})
    assert family["expiresAt"] == frozen_clock.current + tokens.REFRESH_TTL
    assert timedelta(days=7) == tokens.REFRESH_TTL
