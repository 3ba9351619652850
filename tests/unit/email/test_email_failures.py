"""Failure policy: notify() never raises, records the undelivered message, retry sends it."""

from __future__ import annotations

import base64

import pytest
from lutea.data import email_failures as failures
from lutea.data.email_failures import EmailFailureRepository
from lutea.data.mongo import get_db
from lutea.email import messages
from lutea.email.failures import retry_failed_emails

from tests.support.fake_resend import use_fake_resend

BOOKING = {
    "_id": "65f000000000000000000001",
    "retreatName": "Retraite d'hiver",
    "nbPlaces": 2,
    "prixTotalCents": 24050,
    "participants": [{"prenom": "Anne", "nom": "Martin", "email": "anne@example.test"}],
}


@pytest.fixture
def resend_fake(monkeypatch):
    with use_fake_resend(monkeypatch) as fake:
        yield fake


def test_notify_returns_the_id_when_sent(resend_fake):
    assert messages.notify(messages.send_two_factor_code, "anne@example.test", "Anne", "12345678")
    assert get_db()[failures.COLLECTION].count_documents({}) == 0


def test_notify_swallows_a_failure_and_records_the_message(resend_fake, frozen_clock, caplog):
    resend_fake.fail_with(503)
    result = messages.notify(messages.send_booking_confirmation, BOOKING, b"%PDF-1.4 test", "confirmation.pdf")
    assert result is None
    # the admin's copy failed too, and is kept on its own
    [doc] = [d for d in EmailFailureRepository().list() if d["kind"] == "booking_confirmation"]
    assert doc["kind"] == "booking_confirmation"
    assert doc["status"] == "pending"
    assert doc["attempts"] == 1
    assert doc["to"][0] == "anne@example.test"
    assert doc["subject"] == "Confirmation de réservation - Retraite d'hiver"
    assert bytes(doc["attachments"][0]["content"]) == b"%PDF-1.4 test"
    assert doc["nextAttemptAt"] > frozen_clock.current
    records = [r for r in caplog.records if r.getMessage() == "email not delivered, kept for retry"]
    assert sorted(r.kind for r in records) == ["booking_confirmation", "booking_confirmation_copy"]
    assert all("anne@example.test" not in str(vars(r)) for r in caplog.records)  # never the address


def test_notify_survives_a_broken_message_function():
    def broken(*_args):
        raise KeyError("missing placeholder")

    assert messages.notify(broken) is None
    assert get_db()[failures.COLLECTION].count_documents({}) == 0


def test_retry_sends_due_messages_once_the_provider_is_back(resend_fake, frozen_clock):
    resend_fake.fail_with(500)
    messages.notify(messages.send_booking_confirmation, BOOKING, b"%PDF-1.4 retry", "confirmation.pdf")
    [doc] = [d for d in EmailFailureRepository().list() if d["kind"] == "booking_confirmation"]
    resend_fake.fail_with(None)

    assert retry_failed_emails() == {"sent": 0, "failed": 0, "abandoned": 0}  # not due yet
    frozen_clock.advance(minutes=6)
    assert retry_failed_emails() == {"sent": 2, "failed": 0, "abandoned": 0}  # the message and its copy
    assert EmailFailureRepository().list() == []
    [sent] = [r for r in resend_fake.requests if r.body["to"] == ["anne@example.test"]]
    assert base64.b64decode(sent.body["attachments"][0]["content"]) == b"%PDF-1.4 retry"
    # The retry reuses the first attempt's Idempotency-Key: Resend never sends it twice.
    assert sent.headers["idempotency-key"] == doc["idempotencyKey"]
    assert retry_failed_emails() == {"sent": 0, "failed": 0, "abandoned": 0}


def test_retry_backs_off_then_abandons(resend_fake, frozen_clock):
    resend_fake.fail_with(500)
    messages.notify(messages.send_admin_alert, "Alerte", "détails")
    outcomes = []
    for _ in range(10):
        frozen_clock.advance(days=1)
        outcomes.append(retry_failed_emails())
    assert sum(o["failed"] for o in outcomes) == failures.MAX_ATTEMPTS - 2
    assert sum(o["abandoned"] for o in outcomes) == 1
    [doc] = EmailFailureRepository().list()
    assert doc["status"] == "abandoned"
    assert doc["attempts"] == failures.MAX_ATTEMPTS


def test_a_failure_is_retried_by_one_worker_only(resend_fake, frozen_clock):
    resend_fake.fail_with(500)
    messages.notify(messages.send_admin_alert, "Alerte", "détails")
    frozen_clock.advance(minutes=6)
    repo = EmailFailureRepository()
    assert repo.claim_due() is not None
    assert repo.claim_due() is None  # claimed: hidden from a second worker
