"""A payment is accepted only when it pays for the booking: succeeded, in euros, naming the
booking in its metadata, and for the amount Stripe kept (received minus refunded). The same
test everywhere a payment is accepted: the webhook, the admin confirm, the expiry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.payments.conftest import Payments
from tests.support.accounts import admin_session

MSG_NOT_VALID = "Le paiement n'a pas abouti pour le montant de la réservation"


def _refund(payments: Payments, pi: dict[str, Any], amount: int) -> None:
    """Money given back at Stripe (the dashboard): the PaymentIntent stays ``succeeded``."""
    charge = payments.fake.charges[payments.fake.payment_intents[pi["id"]]["latest_charge"]]
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]


def _foreign_payment(payments: Payments, booking_id: str, amount: int, **fields: Any) -> dict[str, Any]:
    return payments.fake.add_payment_intent(amount=amount, metadata={"bookingId": booking_id}, status="succeeded", **fields)


def test_webhook_refuses_a_payment_in_another_currency(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=2)
    total = booking.stored()["prixTotalCents"]
    dollars = _foreign_payment(payments, booking.id, total, currency="usd")
    assert payments.deliver("payment_intent.succeeded", dollars).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("PENDING", "PENDING")
    [refund] = payments.fake.requests_to("POST", "/v1/refunds")
    assert refund.params == {"payment_intent": dollars["id"]}


def test_webhook_refuses_a_payment_refunded_before_the_event_arrived(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=2)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    _refund(payments, pi, pi["amount"])  # refunded in the dashboard; the event is delivered late
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    assert booking.stored()["statutPaiement"] != "PAID"


def test_webhook_confirms_when_amount_currency_and_booking_match(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=2)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    assert (booking.stored()["statut"], booking.stored()["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert payments.fake.requests_to("POST", "/v1/refunds") == []


@pytest.mark.parametrize("refunded", ["full", "partial"])
def test_admin_confirm_refuses_a_refunded_payment(payments: Payments, retreat: dict, make_client: Any, refunded: str) -> None:
    admin, _ = admin_session(make_client)
    booking = payments.book(retreat, nb=2)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    _refund(payments, pi, pi["amount"] if refunded == "full" else 100)
    response = admin.patch(f"/bookings/admin/{booking.id}/confirm", json={"stripePaymentIntentId": pi["id"]})
    assert response.status == 400, response.body
    assert response.json()["details"]["message"] == MSG_NOT_VALID
    assert booking.stored()["statut"] == "PENDING"


@pytest.mark.parametrize("fields", [{"currency": "usd"}, {"metadata": {}}, {"metadata": {"bookingId": "other"}}])
def test_admin_confirm_refuses_a_payment_not_for_this_booking(
    payments: Payments, retreat: dict, make_client: Any, fields: dict
) -> None:
    admin, _ = admin_session(make_client)
    booking = payments.book(retreat, nb=2)
    total = booking.stored()["prixTotalCents"]
    pi = payments.fake.add_payment_intent(amount=total, status="succeeded", **{"metadata": {"bookingId": booking.id}, **fields})
    response = admin.patch(f"/bookings/admin/{booking.id}/confirm", json={"stripePaymentIntentId": pi["id"]})
    assert response.status == 400, response.body
    assert booking.stored()["statut"] == "PENDING"


def test_expiry_does_not_confirm_a_refunded_payment(
    payments: Payments, retreat: dict, frozen_clock: Any, make_client: Any
) -> None:
    """The expiry finds the PaymentIntent succeeded (Stripe refuses to cancel it), but the
    money was given back: the booking is not confirmed."""
    booking = payments.book(retreat, nb=2)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    _refund(payments, pi, pi["amount"])
    frozen_clock.advance(minutes=17)
    admin, _ = admin_session(make_client)
    assert admin.post("/bookings/admin/cleanup").json()["cleanedCount"] == 1
    assert booking.stored()["statut"] == "CANCELLED"
    assert payments.seats_held(retreat) == 0
