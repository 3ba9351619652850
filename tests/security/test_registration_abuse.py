"""Registration and password-reset abuse (issue 12, defects 1, 3, 7, 8): pre-hijacking an
account, telling existing accounts apart, flooding an inbox, and live links kept in the database."""

from __future__ import annotations

import re
import time

import pytest
from lutea import config
from lutea.auth import codes, passwords
from lutea.data.email_failures import EmailFailureRepository
from lutea.data.mongo import get_db
from lutea.email.failures import retry_failed_emails

from tests.integration.auth.flows import PASSWORD, registration, token_from, user_with_password
from tests.support.fake_resend import use_fake_resend
from tests.support.outbox import mails_to

VICTIM = "victime@example.test"
ATTACKER_PASSWORD = "Attaque9!x"


@pytest.fixture
def resend_fake(monkeypatch):
    with use_fake_resend(monkeypatch) as fake:
        yield fake


def _login(api, email: str, password: str) -> int:
    return api.post("/auth/login", json={"email": email, "password": password}).status


# --- defect 1: pre-hijacking ---------------------------------------------------------------


def test_a_strangers_pending_registration_never_becomes_the_owners_account(make_client, outbox_dir, frozen_clock):
    attacker, victim = make_client(source_ip="203.0.113.50"), make_client(source_ip="198.51.100.50")
    assert (
        attacker.post(
            "/auth/register", json=registration(VICTIM, password=ATTACKER_PASSWORD, firstName="Cliquez http://arnaque.example")
        ).status
        == 201
    )
    attackers_link = token_from(outbox_dir, VICTIM, "validation_link")
    frozen_clock.advance(hours=2)

    # The owner registers within 24 h, and clicks the link she just received.
    assert victim.post("/auth/register", json=registration(VICTIM)).status == 201
    latest = mails_to(outbox_dir, VICTIM, "validation_link")[-1]
    own_link = token_from(outbox_dir, VICTIM, "validation_link")
    assert own_link != attackers_link
    assert victim.post("/auth/validate-email", json={"token": own_link}).status == 200

    # The account has her password; the stranger's password and his earlier link are dead.
    assert _login(make_client(), VICTIM, ATTACKER_PASSWORD) == 401
    assert _login(make_client(), VICTIM, PASSWORD) == 200
    assert make_client().post("/auth/validate-email", json={"token": attackers_link}).status == 400
    # Her email says when the registration it confirms was made (Paris time), and carries
    # nothing the stranger typed.
    assert "le 01/12/2026 à 12:00:00 (heure de Paris)" in latest.text
    assert "arnaque" not in latest.text and "arnaque" not in latest.html


def test_the_strangers_link_dies_as_soon_as_the_owner_registers_even_past_the_email_quota(make_client, outbox_dir, frozen_clock):
    attacker = make_client(source_ip="203.0.113.51")
    for _ in range(3):  # the stranger uses up the hour's links
        frozen_clock.advance(seconds=1)
        attacker.post("/auth/register", json=registration(VICTIM, password=ATTACKER_PASSWORD))
    attackers_link = token_from(outbox_dir, VICTIM, "validation_link")
    frozen_clock.advance(seconds=1)
    assert make_client().post("/auth/register", json=registration(VICTIM)).status == 201
    assert len(mails_to(outbox_dir, VICTIM, "validation_link")) == 3  # the quota holds
    assert make_client().post("/auth/validate-email", json={"token": attackers_link}).status == 400


# --- defect 3: enumeration -------------------------------------------------------------------


def test_register_then_probe_tells_an_existing_account_from_nothing(make_client, frozen_clock):
    user_with_password(email="existant@example.test")
    visitor = make_client()
    answers = {}
    for email in ("existant@example.test", "inconnu@example.test"):
        register = visitor.post("/auth/register", json=registration(email))
        frozen_clock.advance(minutes=10)
        probe = visitor.get(f"/users/check-temporary/{email}")
        answers[email] = (register.status, {**register.json(), "email": "-"}, probe.status, probe.json())
        frozen_clock.advance(minutes=-10)
    assert answers["existant@example.test"] == answers["inconnu@example.test"]
    assert answers["inconnu@example.test"][3] == {"isTemporary": True, "timeLeft": (24 * 60 - 10) * 60 * 1000}
    # A day later both have expired alike.
    frozen_clock.advance(hours=25)
    for email in answers:
        assert visitor.get(f"/users/check-temporary/{email}").json() == {"isTemporary": False}


def test_every_register_branch_pays_for_one_password_hash(api, monkeypatch):
    hashed = []
    real = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda p: hashed.append(p) or real(p))
    user_with_password(email="existant@example.test")
    api.post("/auth/register", json=registration("attente@example.test"))
    for email in ("existant@example.test", "attente@example.test", "nouveau@example.test"):
        hashed.clear()
        assert api.post("/auth/register", json=registration(email)).status == 201
        assert len(hashed) == 1, email


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/forgot-password", lambda e: {"email": e}),
        ("/auth/register", lambda e: registration(e)),
    ],
)
def test_register_and_forgot_password_answer_no_sooner_than_the_floor_for_every_address(api, monkeypatch, path, body):
    monkeypatch.setenv("UNIFORM_ANSWER_MS", "300")
    config.reset_settings()
    user_with_password(email="existant@example.test")
    api.post("/auth/register", json=registration("attente@example.test"))
    for email in ("existant@example.test", "attente@example.test", "inconnu@example.test"):
        started = time.perf_counter()
        response = api.post(path, json=body(email))
        elapsed = time.perf_counter() - started
        assert response.status in (200, 201)
        assert elapsed >= 0.3, (email, elapsed)


# --- defect 7: inbox flooding ------------------------------------------------------------------


def test_the_already_registered_notice_is_capped_per_hour(api, outbox_dir, frozen_clock):
    user_with_password(email="existant@example.test")
    for _ in range(6):
        frozen_clock.advance(seconds=1)
        assert api.post("/auth/register", json=registration("existant@example.test")).status == 201
    assert len(mails_to(outbox_dir, "existant@example.test", "already_registered")) == 3
    frozen_clock.advance(hours=1, seconds=1)
    api.post("/auth/register", json=registration("existant@example.test"))
    assert len(mails_to(outbox_dir, "existant@example.test", "already_registered")) == 4


# --- defect 8: no live link kept for a retry -------------------------------------------------


@pytest.fixture
def issued_tokens(monkeypatch):
    issued = []
    real = codes.new_link_token
    monkeypatch.setattr(codes, "new_link_token", lambda: issued.append(real()) or issued[-1])
    return issued


def _links(resend_fake, path: str) -> list[str]:
    return [m.group(1) for body in resend_fake.sent for m in [re.search(rf"{path}\?token=([A-Za-z0-9_\-]+)", body["text"])] if m]


def test_a_failed_reset_email_is_stored_without_its_link_and_retried_with_a_fresh_one(
    api, resend_fake, frozen_clock, issued_tokens
):
    user_with_password(email="oublieuse@example.test")
    resend_fake.fail_with(503)
    assert api.post("/auth/forgot-password", json={"email": "oublieuse@example.test"}).status == 200
    [failed] = EmailFailureRepository().list()
    [lost_token] = issued_tokens
    assert lost_token not in str(failed)  # nothing usable in the database

    resend_fake.fail_with(None)
    frozen_clock.advance(minutes=6)
    assert retry_failed_emails()["sent"] == 1
    [fresh] = _links(resend_fake, "reset-password")
    assert fresh != lost_token
    assert api.post("/auth/reset-password", json={"token": lost_token, "newPassword": "Nouveau2@mdp"}).status == 401
    assert api.post("/auth/reset-password", json={"token": fresh, "newPassword": "Nouveau2@mdp"}).status == 200


def test_a_failed_reset_email_superseded_by_a_newer_request_is_dropped(api, resend_fake, frozen_clock):
    user_with_password(email="oublieuse@example.test")
    resend_fake.fail_with(503)
    api.post("/auth/forgot-password", json={"email": "oublieuse@example.test"})
    resend_fake.fail_with(None)
    frozen_clock.advance(minutes=2)
    api.post("/auth/forgot-password", json={"email": "oublieuse@example.test"})  # delivered
    [delivered] = _links(resend_fake, "reset-password")
    frozen_clock.advance(minutes=6)
    assert retry_failed_emails()["sent"] == 0
    assert EmailFailureRepository().list() == []
    # The link she received still works: the retry did not replace it.
    assert api.post("/auth/reset-password", json={"token": delivered, "newPassword": "Nouveau2@mdp"}).status == 200


def test_a_failed_validation_email_is_stored_without_its_link_and_retried_with_a_fresh_one(
    api, resend_fake, frozen_clock, issued_tokens
):
    resend_fake.fail_with(503)
    assert api.post("/auth/register", json=registration(VICTIM)).status == 201
    [failed] = EmailFailureRepository().list()
    [lost_token] = issued_tokens
    assert lost_token not in str(failed)
    resend_fake.fail_with(None)
    frozen_clock.advance(minutes=6)
    assert retry_failed_emails()["sent"] == 1
    [fresh] = _links(resend_fake, "validate-email")
    assert api.post("/auth/validate-email", json={"token": lost_token}).status == 400
    assert api.post("/auth/validate-email", json={"token": fresh}).status == 200


def test_a_failed_sign_in_code_is_never_stored(api, resend_fake, frozen_clock):
    from lutea.email import messages

    resend_fake.fail_with(503)
    assert messages.notify(messages.send_two_factor_code, "admin@example.test", "Ada", "12345678") is None
    [failed] = EmailFailureRepository().list()
    assert "12345678" not in str(failed)
    resend_fake.fail_with(None)
    frozen_clock.advance(minutes=6)
    retry_failed_emails()
    assert resend_fake.sent == [] and get_db()["emailfailures"].count_documents({}) == 0
