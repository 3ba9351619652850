"""Sessions that outlive what their owner did (issue 12, defects 2 and 9): a password change
ends every other session, a token never rides on another user's session, and a session ends 30
days after its sign-in however often it is refreshed."""

from __future__ import annotations

from lutea.auth import tokens
from lutea.data.sessions import SessionFamilyRepository

from tests.integration.auth.flows import NEW_PASSWORD, PASSWORD, user_with_password
from tests.security.support import assert_error


def _signed_in(make_client, email: str, password: str = PASSWORD):
    client = make_client()
    assert client.post("/auth/login", json={"email": email, "password": password}).status == 200
    return client


# --- defect 9: the session named by a token must be the subject's --------------------------


def test_an_access_token_riding_on_another_users_session_is_refused(make_client):
    victim = user_with_password(email="victime@example.test")
    attacker = user_with_password(email="attaquant@example.test")
    _signed_in(make_client, attacker["email"])
    attackers_family = SessionFamilyRepository()._col.find_one({"userId": str(attacker["_id"])})["_id"]
    # A token for the victim that names the attacker's live session (as a leaked key or a bug
    # elsewhere could mint): the session is alive, but it is not the victim's.
    forged = tokens.issue_access(
        user_id=str(victim["_id"]), email=victim["email"], role="client", family_id=attackers_family, mfa=False
    )
    thief = make_client(origin=None)
    thief.bearer = forged
    assert_error(thief.get("/users/profile"), 401)
    assert_error(thief.get("/bookings/my-bookings"), 401)


def test_a_refresh_token_riding_on_another_users_session_is_refused(make_client):
    victim = user_with_password(email="victime2@example.test")
    attacker = user_with_password(email="attaquant2@example.test")
    _signed_in(make_client, attacker["email"])
    family = SessionFamilyRepository()._col.find_one({"userId": str(attacker["_id"])})
    forged = tokens.issue_refresh(user_id=str(victim["_id"]), family_id=family["_id"], jti=family["currentJti"])
    answer = make_client(origin=None).post("/auth/refresh", json={"refresh_token": forged})
    assert_error(answer, 401)


def test_a_session_ends_thirty_days_after_sign_in_however_often_refreshed(make_client, frozen_clock):
    user = user_with_password(email="assidue@example.test")
    client = _signed_in(make_client, user["email"])
    for _ in range(4):  # day 24: still alive, refreshed every 6 days
        frozen_clock.advance(days=6)
        assert client.post("/auth/refresh").status == 200
    frozen_clock.advance(days=5)  # day 29
    assert client.post("/auth/refresh").status == 200
    assert client.get("/users/profile").status == 200
    frozen_clock.advance(days=1, seconds=1)  # day 30 + 1 s
    assert_error(client.post("/auth/refresh"), 401)
    assert_error(client.get("/users/profile"), 401)
    # Signing in again starts a new 30 days.
    assert _signed_in(make_client, user["email"]).get("/users/profile").status == 200


# --- defect 2: a password change ends the other sessions -------------------------------------


def test_a_password_change_ends_every_other_session_and_keeps_the_changer_signed_in(make_client):
    user = user_with_password(email="prudente@example.test")
    owner = _signed_in(make_client, user["email"])
    thief = _signed_in(make_client, user["email"])  # a stolen session: its cookies copied
    stolen_access, stolen_refresh = thief.cookies["access_token"], thief.cookies["refresh_token"]
    bearer_thief = make_client(origin=None)
    bearer_thief.bearer = stolen_access
    assert bearer_thief.get("/users/profile").status == 200

    changed = owner.put(
        "/users/profile", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD}
    )
    assert changed.status == 200, changed.body
    assert changed.json()["email"] == user["email"]

    # The stolen tokens are dead, as access (cookie or Bearer) and as refresh.
    assert_error(thief.get("/users/profile"), 401)
    assert_error(bearer_thief.get("/users/profile"), 401)
    assert_error(make_client(origin=None).post("/auth/refresh", json={"refresh_token": stolen_refresh}), 401)
    # The changer stays signed in, with fresh cookies that refresh.
    assert changed.cookie("access_token") and changed.cookie("refresh_token")
    assert owner.get("/users/profile").status == 200
    assert owner.post("/auth/refresh").status == 200
    assert owner.get("/users/profile").status == 200
    # Only the new password signs in.
    assert make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD}).status == 401
    assert _signed_in(make_client, user["email"], NEW_PASSWORD).get("/users/profile").status == 200


def test_a_profile_change_without_password_keeps_the_other_sessions(make_client):
    user = user_with_password(email="tranquille@example.test")
    owner = _signed_in(make_client, user["email"])
    other_device = _signed_in(make_client, user["email"])
    answer = owner.put("/users/profile", json={"city": "Sète"})
    assert answer.status == 200 and answer.json()["city"] == "Sète"
    assert not answer.set_cookies
    assert other_device.get("/users/profile").status == 200
