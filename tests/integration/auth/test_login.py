"""Client sign-in, lockout, same answer for every failure, legacy bcrypt hashes."""

from __future__ import annotations

import bcrypt
import pytest
from lutea.auth import passwords
from lutea.data.mongo import get_db

from tests.integration.auth.flows import PASSWORD, assert_error, assert_session_user, user_with_password
from tests.support.accounts import make_user

BAD = "Email ou mot de passe incorrect"


def test_client_login_sets_both_cookies_and_answers_the_session_user(api, frozen_clock):
    user = user_with_password(email="carla@example.test")

    response = api.post("/auth/login", json={"email": "carla@example.test", "password": PASSWORD})

    assert response.status == 200
    body = response.json()
    assert set(body) == {"user", "message"}
    assert body["message"] == "Connexion réussie. Tokens stockés en cookies sécurisés."
    assert_session_user(body["user"], user, role="client", isEmailVerified=True)
    cookies = {raw.split("=", 1)[0]: raw for raw in response.set_cookies}
    assert set(cookies) == {"access_token", "refresh_token"}
    for raw in cookies.values():
        assert "HttpOnly" in raw and "Path=/" in raw and "SameSite=Strict" in raw
    assert "Max-Age=900" in cookies["access_token"]
    assert "Max-Age=604800" in cookies["refresh_token"]
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored["lastLogin"] == frozen_clock.current and stored["failedLoginAttempts"] == 0
    assert api.get("/users/profile").status == 200


@pytest.mark.parametrize("body", [{"email": "x@example.test"}, {"password": PASSWORD}, {}])
def test_missing_fields_are_400(api, body):
    assert api.post("/auth/login", json=body).status == 400


def test_unknown_email_wrong_password_and_locked_account_look_the_same(api, frozen_clock, monkeypatch):
    user_with_password(email="carla@example.test")
    user_with_password(email="locked@example.test", lockUntil=frozen_clock.current.replace(hour=10))
    checked: list[str] = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda stored, pw: checked.append(stored) or real_verify(stored, pw))

    answers = [
        api.post("/auth/login", json={"email": "nobody@example.test", "password": PASSWORD}),
        api.post("/auth/login", json={"email": "carla@example.test", "password": "Wrong1!pass"}),
        api.post("/auth/login", json={"email": "locked@example.test", "password": PASSWORD}),
    ]

    for response in answers:
        assert_error(response, 401, BAD)
        assert response.cookie("access_token") is None
    bodies = [{k: v for k, v in r.json().items() if k != "timestamp"} for r in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    # Every attempt costs one hash verification, the unknown address against a dummy hash.
    assert len(checked) == 3 and checked[0] == passwords.dummy_hash()


def test_fourth_consecutive_failure_locks_for_fifteen_minutes(api, frozen_clock):
    user = user_with_password(email="carla@example.test")
    wrong = {"email": "carla@example.test", "password": "Wrong1!pass"}
    right = {"email": "carla@example.test", "password": PASSWORD}
    for _ in range(3):
        assert_error(api.post("/auth/login", json=wrong), 401, BAD)
    assert get_db()["users"].find_one({"_id": user["_id"]}).get("lockUntil") is None

    assert_error(api.post("/auth/login", json=wrong), 401, BAD)  # the 4th locks

    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored["lockUntil"] == frozen_clock.current.replace(minute=15)
    assert_error(api.post("/auth/login", json=right), 401, BAD)
    frozen_clock.advance(minutes=14, seconds=59)
    assert_error(api.post("/auth/login", json=right), 401, BAD)
    frozen_clock.advance(seconds=2)
    assert api.post("/auth/login", json=right).status == 200
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored["failedLoginAttempts"] == 0 and "lockUntil" not in stored


def test_a_success_resets_the_failure_count(api):
    user_with_password(email="carla@example.test")
    wrong = {"email": "carla@example.test", "password": "Wrong1!pass"}
    right = {"email": "carla@example.test", "password": PASSWORD}
    for _ in range(3):
        api.post("/auth/login", json=wrong)
    assert api.post("/auth/login", json=right).status == 200
    for _ in range(3):
        api.post("/auth/login", json=wrong)
    assert api.post("/auth/login", json=right).status == 200


def test_original_bcrypt_hash_verifies_and_is_upgraded_to_argon2(api):
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$", 1)
    user = make_user(email="legacy@example.test", password=legacy)

    assert api.post("/auth/login", json={"email": "legacy@example.test", "password": "Wrong1!pass"}).status == 401
    assert get_db()["users"].find_one({"_id": user["_id"]})["password"] == legacy  # no upgrade on failure
    assert api.post("/auth/login", json={"email": "legacy@example.test", "password": PASSWORD}).status == 200

    upgraded = get_db()["users"].find_one({"_id": user["_id"]})["password"]
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert api.post("/auth/login", json={"email": "legacy@example.test", "password": PASSWORD}).status == 200


def test_login_ignores_other_fields_as_the_original_but_never_takes_an_object(api):
    user_with_password(email="carla@example.test")

    extra = api.post("/auth/login", json={"email": "carla@example.test", "password": PASSWORD, "token": "captcha"})
    injected = api.post("/auth/login", json={"email": {"$ne": ""}, "password": PASSWORD})

    assert extra.status == 200
    assert injected.status == 400
