"""POST /stripe/webhook: signed deliveries applied once, in any order, with automatic refunds of
late payments; through the real handler, the real SDK and the fake Stripe server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from lutea.config import LOCAL_EMAIL_ADMIN as ADMIN

from tests.integration.payments.conftest import PRICE_CENTS, Booked, Payments, insert_retreat
from tests.support.fake_stripe import sign_payload
from tests.support.outbox import read_outbox


def _paid(payments: Payments, retreat: dict, nb: int = 2) -> tuple[Booked, dict[str, Any]]:
    """A booking whose PaymentIntent the customer has just paid (webhook not yet delivered)."""
    booking = payments.book(retreat, nb=nb)
    created = payments.create_intent(booking)
    return booking, payments.fake.succeed(created["id"])


def _expire_without_reaching_stripe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Expire overdue bookings while Stripe cannot be reached: the sweep neither cancels the
    PaymentIntent nor learns that it succeeded, so the payment reaches us later, by webhook.
    (When Stripe answers, the sweep confirms a payment that succeeded in time itself.)"""
    from lutea.domain.booking_lifecycle import expire_pending_bookings
    from lutea.errors import UpstreamFailure
    from lutea.payments.gateway import StripeGateway

    original = StripeGateway.cancel_payment_intent

    def unreachable(self: Any, pi_id: str) -> dict:
        raise UpstreamFailure()

    monkeypatch.setattr(StripeGateway, "cancel_payment_intent", unreachable)
    try:
        assert expire_pending_bookings() == 1
    finally:
        monkeypatch.setattr(StripeGateway, "cancel_payment_intent", original)


def _events() -> list[dict]:
    from lutea.data.mongo import get_db

    return list(get_db()["stripeevents"].find({}))


def _mails(outbox_dir: Any, kind: str) -> list[Any]:
    return [m for m in read_outbox(outbox_dir) if m.kind == kind]


def test_payment_succeeded_confirms_and_sends_one_email_with_the_pdf(payments: Payments, retreat: dict, outbox_dir: Any) -> None:
    booking, pi = _paid(payments, retreat)
    response = payments.deliver("payment_intent.succeeded", pi)
    assert response.status == 200, response.body
    assert response.json() == {"received": True}
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert stored["stripePaymentIntentId"] == pi["id"]
    assert payments.seats_held(retreat) == 2
    [mail] = _mails(outbox_dir, "booking_confirmation")
    assert mail.to == ["zoe0@example.test"]  # the admin's copy is a message of its own
    [copy] = _mails(outbox_dir, "booking_confirmation_copy")
    assert copy.to == [ADMIN] and copy.attachments() == mail.attachments()
    (filename, content_type, content), (_, ics_type, _) = mail.attachments()
    assert ics_type == "text/calendar"
    assert content_type == "application/pdf"
    assert filename.endswith(".pdf")
    assert content.startswith(b"%PDF")
    [event] = _events()
    assert (event["type"], event["status"]) == ("payment_intent.succeeded", "done")


def test_a_redelivered_event_is_acknowledged_and_applied_once(payments: Payments, retreat: dict, outbox_dir: Any) -> None:
    booking, pi = _paid(payments, retreat)
    body, signature = payments.fake.webhook("payment_intent.succeeded", pi, event_id="evt_dup1")
    assert payments.post_webhook(body, signature).status == 200
    again = payments.post_webhook(body, signature)
    assert again.status == 200
    assert again.json() == {"received": True}
    assert len(_mails(outbox_dir, "booking_confirmation")) == 1
    assert booking.stored()["statut"] == "CONFIRMED"
    assert payments.seats_held(retreat) == 2
    assert len(_events()) == 1


def test_a_second_event_for_the_same_payment_sends_no_second_email(payments: Payments, retreat: dict, outbox_dir: Any) -> None:
    _, pi = _paid(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    assert payments.deliver("payment_intent.succeeded", pi).status == 200  # another event id
    assert len(_mails(outbox_dir, "booking_confirmation")) == 1


@pytest.mark.parametrize("late_type", ["payment_intent.payment_failed", "payment_intent.canceled"])
def test_a_failure_after_success_changes_nothing(payments: Payments, retreat: dict, late_type: str) -> None:
    booking, pi = _paid(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    stale = {**pi, "status": "requires_payment_method" if late_type.endswith("failed") else "canceled"}
    assert payments.deliver(late_type, stale).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert payments.seats_held(retreat) == 2


def test_a_declined_card_changes_nothing_and_another_card_pays(payments: Payments, retreat: dict) -> None:
    """A declined attempt leaves the PaymentIntent open (requires_payment_method): the booking
    keeps its seats (the first version cancelled it, so anyone holding the client secret could
    free a stranger's seats with one declined card)."""
    booking = payments.book(retreat, nb=3)
    created = payments.create_intent(booking)
    failed = payments.fake.fail(created["id"])
    assert payments.deliver("payment_intent.payment_failed", failed).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"], stored["seatsHeld"]) == ("PENDING", "PENDING", True)
    assert payments.seats_held(retreat) == 3
    assert payments.deliver("payment_intent.payment_failed", failed).status == 200  # another attempt declined
    assert booking.stored()["statut"] == "PENDING" and payments.seats_held(retreat) == 3
    # The customer pays with another card.
    assert payments.deliver("payment_intent.succeeded", payments.fake.succeed(created["id"])).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert payments.seats_held(retreat) == 3


def test_a_cancelled_payment_intent_cancels_the_booking_once(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=3)
    created = payments.create_intent(booking)
    cancelled = {**payments.fake.payment_intents[created["id"]], "status": "canceled"}
    assert payments.deliver("payment_intent.canceled", cancelled).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "FAILED")
    assert payments.seats_held(retreat) == 0
    assert payments.deliver("payment_intent.canceled", cancelled).status == 200
    assert payments.seats_held(retreat) == 0


def test_a_failure_then_a_success_with_seats_still_free_confirms(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat)
    created = payments.create_intent(booking)
    failed = payments.fake.fail(created["id"])
    succeeded = payments.fake.succeed(created["id"])  # paid with another card before the failure arrived
    assert payments.deliver("payment_intent.payment_failed", failed).status == 200
    assert payments.deliver("payment_intent.succeeded", succeeded).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert payments.seats_held(retreat) == 2


def test_late_payment_with_seats_taken_is_refunded(
    payments: Payments, frozen_clock: Any, outbox_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = insert_retreat(places=2)
    late, pi = _paid(payments, small, nb=2)  # paid at the last second...
    frozen_clock.advance(minutes=17)
    _expire_without_reaching_stripe(monkeypatch)  # ...but the booking expired before the webhook came
    assert late.stored()["statut"] == "CANCELLED"
    other = payments.book(small, nb=2)  # someone else takes the seats
    assert payments.seats_held(small) == 2

    response = payments.deliver("payment_intent.succeeded", pi)
    assert response.status == 200, response.body
    [refund] = payments.fake.requests_to("POST", "/v1/refunds")
    assert refund.params == {"payment_intent": pi["id"]}
    assert refund.idempotency_key == f"{pi['id']}-refund-full"
    assert payments.fake.charge_of(pi["id"])["refunded"] is True
    stored = late.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "REFUNDED")
    assert payments.seats_held(small) == 2  # not oversold
    assert other.stored()["statut"] == "PENDING"
    [mail] = _mails(outbox_dir, "late_payment_refunded")
    assert mail.to == ["zoe0@example.test"]
    [copy] = _mails(outbox_dir, "late_payment_refunded_copy")
    assert copy.to == [ADMIN]
    assert "remboursé" in mail.text
    assert _mails(outbox_dir, "booking_confirmation") == []

    # Stripe then reports the refund: nothing moves.
    assert payments.deliver("charge.refunded", payments.fake.charge_of(pi["id"])).status == 200
    assert payments.seats_held(small) == 2
    assert len(payments.fake.requests_to("POST", "/v1/refunds")) == 1


def test_late_payment_with_seats_free_is_confirmed(
    payments: Payments, retreat: dict, frozen_clock: Any, outbox_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, pi = _paid(payments, retreat, nb=2)
    frozen_clock.advance(minutes=17)
    _expire_without_reaching_stripe(monkeypatch)
    assert payments.seats_held(retreat) == 0
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert payments.seats_held(retreat) == 2
    assert payments.fake.requests_to("POST", "/v1/refunds") == []
    assert len(_mails(outbox_dir, "booking_confirmation")) == 1


def test_charge_refunded_cancels_a_paid_booking_and_releases_its_seats(payments: Payments, retreat: dict) -> None:
    booking, pi = _paid(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    from lutea.payments.gateway import get_gateway

    get_gateway().refund(pi["id"])  # refunded from elsewhere (the dashboard)
    response = payments.deliver("charge.refunded", payments.fake.charge_of(pi["id"]))
    assert response.status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "REFUNDED")
    assert payments.seats_held(retreat) == 0
    assert payments.deliver("charge.refunded", payments.fake.charge_of(pi["id"])).status == 200
    assert payments.seats_held(retreat) == 0


def test_a_partial_refund_leaves_the_booking(payments: Payments, retreat: dict) -> None:
    booking, pi = _paid(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    from lutea.payments.gateway import get_gateway

    get_gateway().refund(pi["id"], 1000)
    assert payments.deliver("charge.refunded", payments.fake.charge_of(pi["id"])).status == 200
    assert booking.stored()["statutPaiement"] == "PAID"
    assert payments.seats_held(retreat) == 2


def test_a_processing_error_is_500_then_the_redelivery_succeeds(
    payments: Payments, retreat: dict, monkeypatch: pytest.MonkeyPatch, outbox_dir: Any
) -> None:
    from lutea.domain import booking_lifecycle

    booking, pi = _paid(payments, retreat)
    real = booking_lifecycle.confirm_paid
    calls = []

    def flaky(*args: Any) -> str:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real(*args)

    monkeypatch.setattr(booking_lifecycle, "confirm_paid", flaky)
    body, signature = payments.fake.webhook("payment_intent.succeeded", pi)
    failed = payments.post_webhook(body, signature)
    assert failed.status == 500
    assert failed.json()["message"] == "Erreur interne du serveur"
    assert booking.stored()["statut"] == "PENDING"
    assert [e["status"] for e in _events()] == ["failed"]

    retried = payments.post_webhook(body, signature)
    assert retried.status == 200
    assert booking.stored()["statut"] == "CONFIRMED"
    assert [e["status"] for e in _events()] == ["done"]
    assert len(_mails(outbox_dir, "booking_confirmation")) == 1


def test_a_refund_failing_at_stripe_is_retried_and_done_once(
    payments: Payments, frozen_clock: Any, outbox_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = insert_retreat(places=1)
    late, pi = _paid(payments, small, nb=1)
    frozen_clock.advance(minutes=17)
    _expire_without_reaching_stripe(monkeypatch)
    payments.book(small, nb=1)
    body, signature = payments.fake.webhook("payment_intent.succeeded", pi)
    from lutea.payments.gateway import StripeGateway

    real_refund = StripeGateway.refund

    def refund_down(self: Any, pi_id: str, amount_cents: int | None = None) -> dict[str, Any]:
        payments.fake.failures = [500, 500]  # the refund request and the SDK's retry
        return real_refund(self, pi_id, amount_cents)

    monkeypatch.setattr(StripeGateway, "refund", refund_down)
    # The refund is recorded as owed with the event: acknowledged, retried by the owed-effects job.
    assert payments.post_webhook(body, signature).status == 200
    monkeypatch.setattr(StripeGateway, "refund", real_refund)
    assert len(payments.fake.refunds) == 0
    assert late.stored()["statutPaiement"] == "FAILED"
    assert _mails(outbox_dir, "late_payment_refunded") == []
    from lutea.domain.owed_effects import retry_owed_effects

    assert retry_owed_effects() == {"done": 0, "failed": 0}  # not due yet (growing delays)
    frozen_clock.advance(minutes=2)
    assert retry_owed_effects()["failed"] == 0
    assert len(payments.fake.refunds) == 1
    assert late.stored()["statutPaiement"] == "REFUNDED"
    assert len(_mails(outbox_dir, "late_payment_refunded")) == 1
    assert payments.post_webhook(body, signature).status == 200
    frozen_clock.advance(minutes=10)
    retry_owed_effects()
    assert len(payments.fake.refunds) == 1
    assert len(_mails(outbox_dir, "late_payment_refunded")) == 1


# --- signatures --------------------------------------------------------------------------------


def test_a_tampered_body_is_400_and_changes_nothing(payments: Payments, retreat: dict, outbox_dir: Any) -> None:
    booking, pi = _paid(payments, retreat)
    body, signature = payments.fake.webhook("payment_intent.succeeded", pi)
    tampered = body.replace(f'"amount":{2 * PRICE_CENTS}', '"amount":1')
    assert tampered != body
    response = payments.post_webhook(tampered, signature)
    assert response.status == 400
    assert response.json()["details"]["message"] == "Signature Stripe invalide"
    assert booking.stored()["statut"] == "PENDING"
    assert _events() == []
    assert read_outbox(outbox_dir) == []


def test_a_bad_signature_is_400(payments: Payments, retreat: dict) -> None:
    booking, pi = _paid(payments, retreat)
    body, _ = payments.fake.webhook("payment_intent.succeeded", pi)
    import time

    for signature in (
        sign_payload(body, "whsec_someone_else"),
        "t=1,v1=00",
        "garbage",
        "v1=abc",
        sign_payload(body, payments.fake.webhook_secret, int(time.time()) - 3600),
    ):
        response = payments.post_webhook(body, signature)
        assert response.status == 400, signature
        assert response.json()["details"]["message"] == "Signature Stripe invalide"
    assert booking.stored()["statut"] == "PENDING"
    assert _events() == []


def test_a_missing_signature_is_400(payments: Payments, retreat: dict) -> None:
    booking, pi = _paid(payments, retreat)
    body, _ = payments.fake.webhook("payment_intent.succeeded", pi)
    response = payments.post_webhook(body, None)
    assert response.status == 400
    assert response.json()["details"]["message"] == "Signature Stripe manquante"
    assert booking.stored()["statut"] == "PENDING"
    empty = payments.make_client(origin=None).post("/stripe/webhook", headers={"Stripe-Signature": "t=1,v1=00"})
    assert empty.status == 400


def test_the_signature_header_is_found_whatever_its_case(payments: Payments, retreat: dict) -> None:
    booking, pi = _paid(payments, retreat)
    body, signature = payments.fake.webhook("payment_intent.succeeded", pi)
    assert payments.post_webhook(body, signature, header="stripe-signature").status == 200
    assert booking.stored()["statut"] == "CONFIRMED"


def test_a_base64_body_verifies_on_its_original_bytes(payments: Payments, retreat: dict) -> None:
    from infra.local import gateway
    from tests.support.client import route_table

    booking, pi = _paid(payments, retreat)
    # Non-ASCII text and unusual spacing: only the exact bytes verify.
    body = json.dumps(
        {
            "id": "evt_b64",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": {**pi, "description": "Retraite Équinoxe — été"}},
        },
        ensure_ascii=False,
        indent=1,
    )
    signature = sign_payload(body, payments.fake.webhook_secret)
    route, params, _ = gateway.match(route_table(), "POST", "/stripe/webhook")
    event = gateway.build_event(
        "POST",
        "/stripe/webhook",
        resource=route.path,
        path_parameters=params,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    event["body"] = base64.b64encode(body.encode("utf-8")).decode()
    event["isBase64Encoded"] = True
    raw = gateway.invoke(route, event)
    assert raw["statusCode"] == 200, raw["body"]
    assert booking.stored()["statut"] == "CONFIRMED"


def test_unknown_events_are_acknowledged_and_not_recorded(payments: Payments) -> None:
    response = payments.deliver("customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status == 200
    assert response.json() == {"received": True}
    assert _events() == []


def test_events_for_payments_that_are_not_ours_are_acknowledged(payments: Payments) -> None:
    pi = payments.fake.add_payment_intent(amount=5000, status="succeeded")
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    foreign = {**pi, "metadata": {"bookingId": "0123456789abcdef01234567"}}
    assert payments.deliver("payment_intent.succeeded", foreign).status == 200
    assert payments.deliver("payment_intent.payment_failed", foreign).status == 200
    assert [e["status"] for e in _events()] == ["done", "done", "done"]


def test_a_failed_confirmation_email_keeps_the_booking_confirmed_and_is_queued_for_retry(
    payments: Payments, retreat: dict, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lutea.config import reset_settings
    from lutea.data.mongo import get_db
    from lutea.email.failures import retry_failed_emails

    booking, pi = _paid(payments, retreat)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the outbox cannot be created here")
    monkeypatch.setenv("EMAIL_OUTBOX_DIR", str(blocked))
    reset_settings()
    response = payments.deliver("payment_intent.succeeded", pi)
    assert response.status == 200
    assert booking.stored()["statut"] == "CONFIRMED"
    # The customer's message and the admin's copy, each kept for a retry on its own.
    failures = list(get_db()["emailfailures"].find({}))
    assert sorted(f["kind"] for f in failures) == ["booking_confirmation", "booking_confirmation_copy"]
    # Once the outbox works again, the retry sends it, PDF included.
    outbox = tmp_path / "outbox-again"
    monkeypatch.setenv("EMAIL_OUTBOX_DIR", str(outbox))
    reset_settings()
    from datetime import timedelta

    from lutea import clock

    later = clock.now() + timedelta(hours=1)
    clock.set_clock(lambda: later)
    retry_failed_emails()
    [mail] = _mails(outbox, "booking_confirmation")
    assert mail.attachments()[0][2].startswith(b"%PDF")


def test_a_refund_made_at_stripe_cancels_and_tells_the_customer_once(payments: Payments, retreat: dict, outbox_dir: Any) -> None:
    booking, pi = _paid(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    charge = {
        "id": "ch_dashboard",
        "object": "charge",
        "payment_intent": pi["id"],
        "refunded": True,
        "amount": pi["amount"],
        "amount_refunded": pi["amount"],
    }
    for _ in range(2):  # a redelivery, or the event of a refund we made ourselves
        assert payments.deliver("charge.refunded", charge).status == 200
    assert booking.stored()["statutPaiement"] == "REFUNDED"
    [mail] = _mails(outbox_dir, "booking_cancelled")
    assert "remboursé intégralement" in mail.text
