"""Admin sign-in: password, then the 8-digit code sent by email."""

from __future__ import annotations

from lutea.auth.codes import hash_two_factor_code
from lutea.data.mongo import get_db

from tests.integration.auth.flows import (
    PASSWORD,
    assert_error,
    assert_public_user,
    assert_session_user,
    code_from,
    user_with_password,
)
from tests.support.accounts import client_session, sign_in

BAD_CODE = "Code 2FA invalide ou expiré"


def _admin():
    return user_with_password("admin", email="admin@example.test", firstName="Ada")


def test_admin_password_sends_a_code_and_no_cookies(api, outbox_dir):
    admin = _admin()

    response = api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})

    assert response.status == 200
    assert response.set_cookies == []
    body = response.json()
    assert body["requires2FA"] is True
    assert body["message"] == "Code 2FA envoyé par email. Veuillez le saisir pour finaliser la connexion."
    user_part = {k: v for k, v in body.items() if k not in ("requires2FA", "message")}
    stored = get_db()["users"].find_one({"_id": admin["_id"]})
    assert_public_user(user_part, stored)
    code = code_from(outbox_dir, "admin@example.test")
    assert len(code) == 8 and code.isdigit()
    assert stored["verificationCode"] == hash_two_factor_code(code)  # stored hashed
    assert code not in str(stored)
    assert api.get("/auth/admin/check").status == 401


def test_finalize_signs_the_admin_in_with_mfa(api, outbox_dir):
    admin = _admin()
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")

    response = api.post("/auth/2fa/finalize", json={"email": "ADMIN@example.test", "code": code})

    assert response.status == 200
    body = response.json()
    assert set(body) == {"user", "message"}
    assert body["message"] == "Connexion admin réussie avec 2FA. Tokens stockés en cookies sécurisés."
    assert_session_user(body["user"], admin, role="admin")
    assert response.cookie("access_token") and response.cookie("refresh_token")
    check = api.get("/auth/admin/check")
    assert check.status == 200
    assert check.json() == {"message": "Accès administrateur autorisé", "role": "admin"}
    # The code worked once.
    assert_error(api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": code}), 401, BAD_CODE)


def test_refreshed_admin_session_keeps_its_mfa(api, outbox_dir):
    _admin()
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")
    api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": code})

    assert api.post("/auth/refresh").status == 200
    assert api.get("/auth/admin/check").status == 200


def test_admin_token_without_mfa_is_refused_on_admin_routes(make_client):
    admin = _admin()
    client = sign_in(make_client(), admin, mfa=False)

    assert client.get("/auth/admin/check").status == 403
    assert client.get("/users").status == 403


def test_five_wrong_codes_void_the_code(api, outbox_dir):
    _admin()
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")
    wrong = f"{(int(code) + 1) % 10**8:08d}"

    for _ in range(5):
        assert_error(api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": wrong}), 401, BAD_CODE)

    assert_error(api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": code}), 401, BAD_CODE)
    assert api.get("/auth/admin/check").status == 401
    # A new password step gives a new code that works.
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    fresh = code_from(outbox_dir, "admin@example.test")
    assert api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": fresh}).status == 200


def test_four_wrong_codes_still_leave_the_right_one_usable(api, outbox_dir):
    _admin()
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(4):
        api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": wrong})

    assert api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": code}).status == 200


def test_code_expires_after_ten_minutes(api, outbox_dir, frozen_clock):
    _admin()
    api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")
    frozen_clock.advance(minutes=10, seconds=1)

    assert_error(api.post("/auth/2fa/finalize", json={"email": "admin@example.test", "code": code}), 401, BAD_CODE)


def test_finalize_validates_the_code_format_and_refuses_clients(api, outbox_dir):
    user_with_password(email="carla@example.test")
    assert api.post("/auth/2fa/finalize", json={"email": "carla@example.test", "code": "1234"}).status == 400
    assert api.post("/auth/2fa/finalize", json={"email": "carla@example.test", "code": "abcdefgh"}).status == 400
    assert_error(api.post("/auth/2fa/finalize", json={"email": "carla@example.test", "code": "12345678"}), 401, BAD_CODE)


def test_verify_code_needs_a_session_and_answers_true_once(make_client, outbox_dir):
    admin = _admin()
    client = sign_in(make_client(), admin)
    assert make_client().post("/auth/2fa/verify", json={"code": "12345678"}).status == 401
    client.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})
    code = code_from(outbox_dir, "admin@example.test")

    first = client.post("/auth/2fa/verify", json={"code": code})
    second = client.post("/auth/2fa/verify", json={"code": code})

    assert first.status == 200 and first.json() is True
    assert second.status == 200 and second.json() is False


def test_verify_code_for_a_client_without_code_is_false(make_client):
    client, _ = client_session(make_client)

    response = client.post("/auth/2fa/verify", json={"code": "12345678"})

    assert response.status == 200 and response.json() is False


def test_code_email_failure_is_a_502_without_cookies(api, monkeypatch):
    from lutea.email import messages
    from lutea.email.service import EmailDeliveryError

    def refuse(*_args, **_kwargs):
        raise EmailDeliveryError()

    monkeypatch.setattr(messages, "send_two_factor_code", refuse)
    _admin()

    response = api.post("/auth/login", json={"email": "admin@example.test", "password": PASSWORD})

    assert response.status == 502 and response.set_cookies == []
