"""Forgot password / reset password."""

from __future__ import annotations

from lutea.auth.codes import hash_link_token
from lutea.data.mongo import get_db

from tests.integration.auth.flows import NEW_PASSWORD, PASSWORD, assert_error, token_from, user_with_password
from tests.support.accounts import sign_in
from tests.support.outbox import mails_to, read_outbox

SAME = {"message": "Si cet email existe dans notre base, un lien de réinitialisation a été envoyé."}
BAD_TOKEN = "Token de réinitialisation invalide ou expiré"


def test_forgot_answers_the_same_for_known_and_unknown_addresses(api, outbox_dir):
    user = user_with_password(email="gina@example.test", firstName="Gina")

    known = api.post("/auth/forgot-password", json={"email": "Gina@Example.test"})
    unknown = api.post("/auth/forgot-password", json={"email": "nobody@example.test"})

    assert known.status == unknown.status == 200
    assert known.json() == unknown.json() == SAME
    assert len(read_outbox(outbox_dir)) == 1
    mail = mails_to(outbox_dir, "gina@example.test", "password_reset")[0]
    assert "http://localhost:3000/reset-password?token=" in mail.text and "Bonjour Gina" in mail.text
    token = token_from(outbox_dir, "gina@example.test", "password_reset")
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored["passwordResetToken"] == hash_link_token(token) and token not in str(stored)


def test_forgot_needs_an_email(api):
    assert api.post("/auth/forgot-password", json={"email": "not an email"}).status == 400
    assert api.post("/auth/forgot-password", json={}).status == 400
    assert api.post("/auth/forgot-password", json={"email": {"$gt": ""}}).status == 400


def test_reset_sets_the_password_ends_sessions_and_works_once(make_client, outbox_dir):
    user = user_with_password(email="gina@example.test")
    elsewhere = sign_in(make_client(), user)
    api = make_client()
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    token = token_from(outbox_dir, "gina@example.test", "password_reset")

    response = api.post("/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD})

    assert response.status == 200
    assert response.json() == {"message": "Mot de passe réinitialisé avec succès. Vous pouvez maintenant vous connecter."}
    assert api.post("/auth/login", json={"email": "gina@example.test", "password": PASSWORD}).status == 401
    assert api.post("/auth/login", json={"email": "gina@example.test", "password": NEW_PASSWORD}).status == 200
    assert_error(api.post("/auth/reset-password", json={"token": token, "newPassword": "Autre3$mdp"}), 401, BAD_TOKEN)
    # Every earlier session ended.
    assert elsewhere.get("/auth/profile").status == 401
    assert elsewhere.post("/auth/refresh").status == 401
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert "passwordResetToken" not in stored and stored["password"].startswith("$argon2id$")


def test_reset_lifts_a_lockout(api, outbox_dir):
    user_with_password(email="gina@example.test")
    for _ in range(4):
        api.post("/auth/login", json={"email": "gina@example.test", "password": "Wrong1!pass"})
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    token = token_from(outbox_dir, "gina@example.test", "password_reset")

    api.post("/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD})

    assert api.post("/auth/login", json={"email": "gina@example.test", "password": NEW_PASSWORD}).status == 200


def test_reset_token_expires_after_an_hour(api, outbox_dir, frozen_clock):
    user_with_password(email="gina@example.test")
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    token = token_from(outbox_dir, "gina@example.test", "password_reset")
    frozen_clock.advance(hours=1, seconds=1)

    assert_error(api.post("/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD}), 401, BAD_TOKEN)


def test_a_new_reset_link_replaces_the_previous_one(api, outbox_dir, frozen_clock):
    user_with_password(email="gina@example.test")
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    first = token_from(outbox_dir, "gina@example.test", "password_reset")
    frozen_clock.advance(seconds=1)
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    second = token_from(outbox_dir, "gina@example.test", "password_reset")

    assert first != second
    assert api.post("/auth/reset-password", json={"token": first, "newPassword": NEW_PASSWORD}).status == 401
    assert api.post("/auth/reset-password", json={"token": second, "newPassword": NEW_PASSWORD}).status == 200


def test_unknown_token_and_weak_password(api, outbox_dir):
    user_with_password(email="gina@example.test")
    assert_error(api.post("/auth/reset-password", json={"token": "nope", "newPassword": NEW_PASSWORD}), 401, BAD_TOKEN)
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    token = token_from(outbox_dir, "gina@example.test", "password_reset")

    weak = api.post("/auth/reset-password", json={"token": token, "newPassword": "faible"})

    assert weak.status == 400 and weak.json()["details"]["fields"][0]["field"] == "newPassword"
    assert api.post("/auth/reset-password", json={"token": token, "newPassword": NEW_PASSWORD}).status == 200


def test_at_most_three_reset_emails_an_hour_with_the_same_answer(api, outbox_dir, frozen_clock):
    user_with_password(email="gina@example.test")
    for _ in range(5):
        frozen_clock.advance(minutes=1)
        response = api.post("/auth/forgot-password", json={"email": "gina@example.test"})
        assert response.status == 200 and response.json() == SAME

    assert len(mails_to(outbox_dir, "gina@example.test", "password_reset")) == 3  # at 9:01, 9:02, 9:03
    frozen_clock.advance(minutes=57)  # 10:02: the last email is 59 minutes old
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    assert len(mails_to(outbox_dir, "gina@example.test", "password_reset")) == 3
    frozen_clock.advance(minutes=2)  # 10:04: an hour without any email, a new hour starts
    api.post("/auth/forgot-password", json={"email": "gina@example.test"})
    assert len(mails_to(outbox_dir, "gina@example.test", "password_reset")) == 4


def test_a_failed_email_does_not_change_the_answer(api, monkeypatch):
    from lutea.email import messages
    from lutea.email.service import EmailDeliveryError

    def refuse(*_args, **_kwargs):
        raise EmailDeliveryError()

    monkeypatch.setattr(messages, "send_password_reset", refuse)
    monkeypatch.setattr(messages, "send_already_registered", refuse)
    user_with_password(email="gina@example.test")

    assert api.post("/auth/forgot-password", json={"email": "gina@example.test"}).json() == SAME
    from tests.integration.auth.flows import registration

    again = api.post("/auth/register", json=registration("gina@example.test"))
    assert again.status == 201 and again.json()["requiresEmailValidation"] is True
