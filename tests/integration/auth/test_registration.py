"""Registration, email validation, pending-registration probe and cleanup."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from lutea.auth.codes import hash_link_token
from lutea.data.mongo import get_db

from tests.integration.auth.flows import (
    PASSWORD,
    assert_error,
    assert_session_user,
    registration,
    token_from,
    user_with_password,
)
from tests.support.outbox import mails_to


def test_register_creates_a_pending_account_and_emails_a_link(api, outbox_dir, frozen_clock):
    response = api.post("/auth/register", json=registration("alice@example.test"))

    assert response.status == 201
    assert response.json() == {
        "message": "Inscription préparée. Veuillez vérifier votre email pour activer votre compte.",
        "email": "alice@example.test",
        "requiresEmailValidation": True,
    }
    assert response.cookie("access_token") is None
    mails = mails_to(outbox_dir, "alice@example.test", "validation_link")
    assert len(mails) == 1
    assert "http://localhost:3000/validate-email?token=" in mails[0].text
    token = token_from(outbox_dir, "alice@example.test", "validation_link")
    pending = get_db()["temporaryusers"].find_one({"email": "alice@example.test"})
    assert pending["verificationToken"] == hash_link_token(token)  # stored hashed
    assert token not in str(pending)
    assert pending["password"].startswith("$argon2id$") and PASSWORD not in str(pending)
    assert pending["expiresAt"] - frozen_clock.current == timedelta(hours=24)
    assert pending["role"] == "client"
    assert get_db()["users"].count_documents({}) == 0


def test_validate_email_creates_the_user_and_signs_in(api, outbox_dir):
    api.post("/auth/register", json=registration("alice@example.test"))
    token = token_from(outbox_dir, "alice@example.test", "validation_link")

    response = api.post("/auth/validate-email", json={"token": token})

    assert response.status == 200
    body = response.json()
    assert set(body) == {"message", "user"}
    assert body["message"] == "Email validé avec succès. Votre compte a été créé et vous êtes maintenant connecté."
    user = get_db()["users"].find_one({"email": "alice@example.test"})
    assert_session_user(body["user"], user, role="client", isEmailVerified=True, firstName="Alice")
    assert user["isEmailVerified"] is True and user["phone"] == "0612345678" and user["country"] == "France"
    assert response.cookie("access_token") and response.cookie("refresh_token")
    assert get_db()["temporaryusers"].count_documents({}) == 0
    profile = api.get("/auth/profile")
    assert profile.status == 200 and profile.json()["email"] == "alice@example.test"


def test_validation_token_works_once(api, outbox_dir):
    api.post("/auth/register", json=registration())
    token = token_from(outbox_dir, "alice@example.test", "validation_link")
    assert api.post("/auth/validate-email", json={"token": token}).status == 200

    again = api.post("/auth/validate-email", json={"token": token})

    assert_error(again, 400, "Token de validation invalide")


def test_expired_validation_token_is_refused(api, outbox_dir, frozen_clock):
    api.post("/auth/register", json=registration())
    token = token_from(outbox_dir, "alice@example.test", "validation_link")
    frozen_clock.advance(hours=24, seconds=1)

    assert_error(api.post("/auth/validate-email", json={"token": token}), 400, "Token de validation expiré")
    assert get_db()["users"].count_documents({}) == 0


def test_missing_contact_fields_get_the_original_message(api):
    body = registration()
    for field in ("phone", "city", "country"):
        del body[field]
    body["address"] = "  "

    response = api.post("/auth/register", json=body)

    assert_error(response, 400, "Champs manquants : téléphone, adresse, ville, pays")


def test_missing_name_weak_password_bad_email_and_unknown_fields_are_400(api):
    no_name = registration()
    del no_name["firstName"]
    assert api.post("/auth/register", json=no_name).status == 400
    weak = api.post("/auth/register", json=registration(password="password"))
    assert weak.status == 400 and weak.json()["details"]["fields"][0]["field"] == "password"
    assert api.post("/auth/register", json=registration(email="not-an-email")).status == 400
    assert api.post("/auth/register", json=registration(role="admin")).status == 400
    assert get_db()["temporaryusers"].count_documents({}) == 0


def test_email_is_lower_cased_and_trimmed(api, outbox_dir):
    response = api.post("/auth/register", json=registration("  Alice.Martin@Example.TEST "))

    assert response.status == 201 and response.json()["email"] == "alice.martin@example.test"
    token = token_from(outbox_dir, "alice.martin@example.test", "validation_link")
    api.post("/auth/validate-email", json={"token": token})
    login = api.post("/auth/login", json={"email": "ALICE.MARTIN@example.test ", "password": PASSWORD})
    assert login.status == 200


def test_registered_address_gets_the_same_answer_and_a_notice(api, outbox_dir):
    user_with_password(email="bob@example.test", firstName="Bob")
    fresh = api.post("/auth/register", json=registration("new@example.test")).json()

    response = api.post("/auth/register", json=registration("BOB@example.test"))

    assert response.status == 201
    assert response.json() == {**fresh, "email": "bob@example.test"}
    notices = mails_to(outbox_dir, "bob@example.test", "already_registered")
    assert len(notices) == 1 and "Bonjour Bob" in notices[0].text and "http://localhost:3000/login" in notices[0].text
    assert mails_to(outbox_dir, "bob@example.test", "validation_link") == []
    assert get_db()["temporaryusers"].count_documents({"email": "bob@example.test"}) == 0


def test_pending_address_gets_its_link_again_a_few_times_an_hour(api, outbox_dir, frozen_clock):
    api.post("/auth/register", json=registration())
    first = token_from(outbox_dir, "alice@example.test", "validation_link")

    for _ in range(4):
        frozen_clock.advance(seconds=1)  # outbox files are named by the (frozen) time
        again = api.post("/auth/register", json=registration())
        assert again.status == 201 and again.json()["requiresEmailValidation"] is True

    links = mails_to(outbox_dir, "alice@example.test", "validation_link")
    assert len(links) == 3  # the first and two more; the rest of the hour, nothing
    latest = token_from(outbox_dir, "alice@example.test", "validation_link")
    assert latest != first
    assert api.post("/auth/validate-email", json={"token": first}).status == 400  # replaced
    frozen_clock.advance(hours=1, minutes=1)
    api.post("/auth/register", json=registration())
    assert len(mails_to(outbox_dir, "alice@example.test", "validation_link")) == 4


def test_re_registering_a_pending_address_replaces_it(api, outbox_dir, frozen_clock):
    """The newest registration wins (API.md): the earlier one's link dies with it."""
    api.post("/auth/register", json=registration(firstName="Premier"))
    first = token_from(outbox_dir, "alice@example.test", "validation_link")
    frozen_clock.advance(minutes=5)
    api.post("/auth/register", json=registration(password="Second9!x", firstName="Second"))
    token = token_from(outbox_dir, "alice@example.test", "validation_link")

    assert api.post("/auth/validate-email", json={"token": first}).status == 400
    validated = api.post("/auth/validate-email", json={"token": token})

    assert validated.json()["user"]["firstName"] == "Second"
    assert api.post("/auth/login", json={"email": "alice@example.test", "password": PASSWORD}).status == 401
    assert api.post("/auth/login", json={"email": "alice@example.test", "password": "Second9!x"}).status == 200


def test_expired_pending_registration_can_register_again(api, outbox_dir, frozen_clock):
    api.post("/auth/register", json=registration(firstName="Old"))
    frozen_clock.advance(hours=25)

    api.post("/auth/register", json=registration(firstName="New"))

    token = token_from(outbox_dir, "alice@example.test", "validation_link")
    assert api.post("/auth/validate-email", json={"token": token}).json()["user"]["firstName"] == "New"


def test_check_temporary_is_public_and_says_nothing_of_permanent_accounts(make_client, frozen_clock):
    visitor = make_client()
    visitor.post("/auth/register", json=registration("alice@example.test"))
    user_with_password(email="bob@example.test")
    frozen_clock.advance(hours=1)

    pending = visitor.get("/users/check-temporary/Alice@example.test")

    assert pending.status == 200
    assert pending.json() == {"isTemporary": True, "timeLeft": 23 * 3600 * 1000}
    assert visitor.get("/users/check-temporary/alice%40example.test").json()["isTemporary"] is True
    assert visitor.get("/users/check-temporary/bob@example.test").json() == {"isTemporary": False}
    assert visitor.get("/users/check-temporary/nobody@example.test").json() == {"isTemporary": False}
    assert visitor.get("/users/check-temporary/not-an-email").json() == {"isTemporary": False}


def _context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="CleanupTemporaryUsersFunction",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:eu-west-3:123456789012:function:cleanup",
        aws_request_id="req-1",
        log_group_name="g",
        log_stream_name="s",
    )


def test_cleanup_deletes_expired_registrations_and_logs_only_the_count(api, frozen_clock, caplog):
    from lutea.observability import logger

    from infra.local.gateway import functions

    cleanup_temporary_users = functions()["CleanupTemporaryUsersFunction"].entry_point()

    api.post("/auth/register", json=registration("early@example.test"))
    frozen_clock.advance(hours=12)
    api.post("/auth/register", json=registration("late@example.test"))
    frozen_clock.advance(hours=12, seconds=1)
    caplog.clear()
    previous = logger.log_level
    logger.setLevel(logging.INFO)
    try:
        result = cleanup_temporary_users({"source": "aws.events"}, _context())
    finally:
        logger.setLevel(previous)

    assert result == {"deleted": 1}
    remaining = [d["email"] for d in get_db()["temporaryusers"].find({})]
    assert remaining == ["late@example.test"]
    logged = [r for r in caplog.records if r.getMessage() == "expired temporary users deleted"]
    assert len(logged) == 1 and logged[0].deleted == 1
    everything = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "early@example.test" not in everything and "late@example.test" not in everything


def test_registration_checks_recaptcha_before_anything_else(api, outbox_dir, monkeypatch):
    from lutea.domain import accounts

    seen: list[str | None] = []
    monkeypatch.setattr(accounts, "verify_recaptcha", lambda token: seen.append(token) or token == "good-token")

    refused = api.post("/auth/register", json=registration(token="bad-token", phone=""))
    accepted = api.post("/auth/register", json=registration(token="good-token"))

    assert_error(refused, 400, "Échec de la vérification reCAPTCHA")
    assert accepted.status == 201
    assert seen == ["bad-token", "good-token"]
    assert len(mails_to(outbox_dir, "alice@example.test", "validation_link")) == 1
