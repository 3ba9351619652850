"""API2:2023 Broken Authentication: forged, confused, expired, replayed and revoked tokens, and
the admin's second factor.

Every forged token below carries the claims of a *live* session (its family is active), so the
only reason it can be refused is the property under test; each test also shows the genuine
token working."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import jwt
import pytest

from tests.security.support import PASSWORD, assert_error, user_with_password
from tests.support.accounts import admin_session, client_session, sign_in
from tests.support.outbox import read_outbox


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _bearer(make_client: Any, token: str) -> Any:
    client = make_client()
    client.bearer = token
    return client


def _accepted(make_client: Any, token: str, path: str = "/auth/profile") -> list[int]:
    """Status of ``path`` with the token as Bearer and as the access cookie."""
    return [_bearer(make_client, token).get(path).status, make_client(cookies={"access_token": token}).get(path).status]


@pytest.fixture
def live(make_client: Any) -> dict[str, Any]:
    client, user = client_session(make_client)
    access, refresh = client.cookies["access_token"], client.cookies["refresh_token"]
    assert _accepted(make_client, access) == [200, 200]
    return {"client": client, "user": user, "access": access, "refresh": refresh, "claims": _claims(access)}


def _settings() -> Any:
    from lutea.config import get_settings

    return get_settings()


def test_alg_none_is_refused(make_client: Any, live: dict[str, Any]) -> None:
    payload = _b64(json.dumps(live["claims"]).encode())
    for alg in ("none", "None", "NONE"):
        header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        assert _accepted(make_client, f"{header}.{payload}.") == [401, 401], alg
        # With a signature of the real key pasted on, still no.
        signature = live["access"].split(".")[2]
        assert _accepted(make_client, f"{header}.{payload}.{signature}") == [401, 401], alg


def test_only_hs256_with_the_access_key_is_accepted(make_client: Any, live: dict[str, Any]) -> None:
    claims = live["claims"]
    settings = _settings()
    control = jwt.encode(claims, settings.jwt_access_secret, algorithm="HS256")
    assert _accepted(make_client, control) == [200, 200]

    forged = {
        "refresh key": jwt.encode(claims, settings.jwt_refresh_secret, algorithm="HS256"),
        "random key": jwt.encode(claims, secrets.token_urlsafe(48), algorithm="HS256"),
        "HS512 with the access key": jwt.encode(claims, settings.jwt_access_secret, algorithm="HS512"),
        "HS384 with the access key": jwt.encode(claims, settings.jwt_access_secret, algorithm="HS384"),
    }
    # Key confusion: an RS256 token, and an RS256 header over an HMAC of the access key.
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged["RS256"] = jwt.encode(claims, rsa_key, algorithm="RS256")
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = control.split(".")[1]
    import hashlib
    import hmac

    mac = hmac.new(settings.jwt_access_secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged["RS256 header, HMAC signature"] = f"{header}.{body}.{_b64(mac)}"
    for name, token in forged.items():
        assert _accepted(make_client, token) == [401, 401], name


def test_a_tampered_payload_is_refused(make_client: Any, live: dict[str, Any]) -> None:
    header, _, signature = live["access"].split(".")
    for change in ({"role": "admin", "mfa": True}, {"sub": "0" * 24}, {"exp": live["claims"]["exp"] + 86400}):
        payload = _b64(json.dumps({**live["claims"], **change}).encode())
        assert _accepted(make_client, f"{header}.{payload}.{signature}") == [401, 401], change
        assert _bearer(make_client, f"{header}.{payload}.{signature}").get("/auth/admin/check").status == 401


def test_claims_are_required_and_typed(make_client: Any, live: dict[str, Any]) -> None:
    key = _settings().jwt_access_secret
    claims = live["claims"]
    for broken in (
        {**claims, "typ": "refresh"},
        {k: v for k, v in claims.items() if k != "typ"},
        {k: v for k, v in claims.items() if k != "exp"},
        {**claims, "iss": "someone-else"},
        {k: v for k, v in claims.items() if k != "fam"},
    ):
        assert _accepted(make_client, jwt.encode(broken, key, algorithm="HS256")) == [401, 401], broken
    # A forged family id (signed properly, as if the key had leaked) still needs a live session.
    assert _accepted(make_client, jwt.encode({**claims, "fam": "forged"}, key, algorithm="HS256")) == [401, 401]
    # Oversized and garbage tokens are just unauthenticated, not errors.
    for token in ("x" * 5000, "a.b.c", "....", "Bearer"):
        assert _accepted(make_client, token) == [401, 401]


def test_an_expired_access_token_is_refused(frozen_clock: Any, make_client: Any) -> None:
    client, _ = client_session(make_client)
    frozen_clock.advance(minutes=14, seconds=59)
    assert client.get("/auth/profile").status == 200
    frozen_clock.advance(seconds=2)
    assert_error(client.get("/auth/profile"), 401)
    assert_error(client.get("/users/profile"), 401)


def test_a_refresh_token_is_never_an_access_token(make_client: Any, live: dict[str, Any]) -> None:
    assert _accepted(make_client, live["refresh"]) == [401, 401]
    assert _accepted(make_client, live["refresh"], "/users/profile") == [401, 401]
    # Nor the other way round.
    assert make_client(cookies={"refresh_token": live["access"]}).post("/auth/refresh").status == 401
    assert make_client().post("/auth/refresh", json={"refresh_token": live["access"]}).status == 401


def test_tokens_die_at_logout(make_client: Any, live: dict[str, Any]) -> None:
    assert live["client"].post("/auth/logout").status == 200
    assert _accepted(make_client, live["access"]) == [401, 401]
    assert _accepted(make_client, live["access"], "/users/profile") == [401, 401]
    assert make_client(cookies={"refresh_token": live["refresh"]}).post("/auth/refresh").status == 401
    assert make_client().post("/auth/refresh", json={"refresh_token": live["refresh"]}).status == 401


def test_refresh_reuse_revokes_the_whole_family(make_client: Any, live: dict[str, Any]) -> None:
    browser = live["client"]
    stolen = live["refresh"]
    assert browser.post("/auth/refresh").status == 200
    rotated_access, rotated_refresh = browser.cookies["access_token"], browser.cookies["refresh_token"]
    assert rotated_refresh != stolen

    # The thief replays the old token: refused, and the whole session ends for everyone.
    assert_error(make_client(cookies={"refresh_token": stolen}).post("/auth/refresh"), 401)
    assert make_client(cookies={"refresh_token": rotated_refresh}).post("/auth/refresh").status == 401
    assert _accepted(make_client, rotated_access) == [401, 401]
    assert _accepted(make_client, live["access"]) == [401, 401]


def test_other_sessions_survive_a_revoked_family(make_client: Any) -> None:
    user = user_with_password()
    laptop, phone = sign_in(make_client(), user), sign_in(make_client(), user)
    assert laptop.post("/auth/logout").status == 200
    assert phone.get("/auth/profile").status == 200


def test_a_password_reset_ends_every_session(make_client: Any, outbox_dir: Any) -> None:
    import re

    user = user_with_password()
    session = sign_in(make_client(), user)
    assert make_client().post("/auth/forgot-password", json={"email": user["email"]}).status == 200
    [mail] = [m for m in read_outbox(outbox_dir) if user["email"] in m.to]
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail.text).group(1)
    assert make_client().post("/auth/reset-password", json={"token": token, "newPassword": "Autre9!mdp"}).status == 200
    assert session.get("/auth/profile").status == 401
    assert session.post("/auth/refresh").status == 401


def test_a_deleted_account_ends_its_sessions(make_client: Any) -> None:
    client, _ = client_session(make_client)
    access, refresh = client.cookies["access_token"], client.cookies["refresh_token"]
    assert client.delete("/users/profile").status == 200
    assert _accepted(make_client, access, "/users/profile") == [401, 401]
    assert make_client(cookies={"refresh_token": refresh}).post("/auth/refresh").status == 401


# --- the admin's second factor ----------------------------------------------------------------


def test_an_admin_password_alone_opens_nothing(make_client: Any, outbox_dir: Any) -> None:
    admin = user_with_password("admin")
    browser = make_client()
    login = browser.post("/auth/login", json={"email": admin["email"], "password": PASSWORD})
    assert login.status == 200 and login.json()["requires2FA"] is True
    assert login.set_cookies == [] and browser.cookies == {}
    assert_error(browser.get("/auth/admin/check"), 401)
    assert_error(browser.get("/users"), 401)


def test_an_admin_session_without_2fa_is_refused_on_admin_routes(make_client: Any) -> None:
    _, admin = admin_session(make_client)
    half = sign_in(make_client(), admin, mfa=False)
    assert half.get("/auth/profile").status == 200  # signed in, as a user
    assert_error(half.get("/auth/admin/check"), 403)
    assert_error(half.get("/users"), 403)
    full = sign_in(make_client(), admin, mfa=True)
    assert full.get("/auth/admin/check").status == 200


def test_the_code_can_not_be_brute_forced(make_client: Any, outbox_dir: Any) -> None:
    import re

    admin = user_with_password("admin")
    assert make_client().post("/auth/login", json={"email": admin["email"], "password": PASSWORD}).status == 200
    [mail] = [m for m in read_outbox(outbox_dir) if admin["email"] in m.to]
    code = re.search(r"\b(\d{8})\b", mail.text).group(1)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(5):
        assert_error(make_client().post("/auth/2fa/finalize", json={"email": admin["email"], "code": wrong}), 401)
    # Five wrong guesses void the code: the right one no longer works.
    void = make_client().post("/auth/2fa/finalize", json={"email": admin["email"], "code": code})
    assert_error(void, 401)
    assert void.set_cookies == []


def test_a_client_cannot_finalize_as_an_admin(make_client: Any) -> None:
    client = user_with_password("client")
    response = make_client().post("/auth/2fa/finalize", json={"email": client["email"], "code": "00000000"})
    assert_error(response, 401)


def test_guessing_the_current_password_with_a_stolen_session_locks_the_account(frozen_clock: Any, make_client: Any) -> None:
    """A stolen session can't brute-force the password through the profile routes: every wrong
    guess counts towards the same lockout as the login form."""
    user = user_with_password()
    session = sign_in(make_client(), user)
    change = {"newPassword": "Nouveau2@mdp", "confirmPassword": "Nouveau2@mdp"}
    for guess in ("Guess1!aa", "Guess1!bb"):
        assert_error(session.put("/users/profile", json={"currentPassword": guess, **change}), 400)
    for guess in ("Guess1!cc", "Guess1!dd"):
        assert session.post("/users/validate-password", json={"currentPassword": guess}).json() == {"isValid": False}
    # Locked now: even the right password is refused, here and at the login form.
    assert session.post("/users/validate-password", json={"currentPassword": PASSWORD}).json() == {"isValid": False}
    assert_error(make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD}), 401)
    from tests.security.support import stored

    assert stored("users", user["_id"])["password"] == user["password"]
