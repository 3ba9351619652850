"""Interleavings of the payment webhook, the expiry job and admin actions that a review found
to lose money, seats or emails; each test replays the interleaving deterministically (a hook in
the middle of one operation runs the other)."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from lutea.errors import Conflict

from tests.integration.payments.conftest import Payments, insert_retreat
from tests.support import catalogue
from tests.support.accounts import admin_session
from tests.support.catalogue import booking_body
from tests.support.outbox import read_outbox


def _kinds(outbox_dir: Any) -> list[str]:
    return [m.kind for m in read_outbox(outbox_dir)]


def _paid_booking(payments: Payments, retreat: dict) -> tuple[Any, dict]:
    booking = payments.book(retreat, nb=2)
    created = payments.create_intent(booking)
    return booking, payments.fake.succeed(created["id"])  # paid at Stripe, webhook not delivered yet


def test_a_booking_the_admin_cancelled_is_not_revived_by_its_payment(payments, retreat, make_client, outbox_dir):
    booking, pi = _paid_booking(payments, retreat)
    admin, _ = admin_session(make_client)
    assert admin.patch(f"/bookings/admin/{booking.id}/cancel", json={"raison": "Retraite annulée"}).status == 200
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"], stored["seatsHeld"]) == ("CANCELLED", "REFUNDED", False)
    assert payments.seats_held(retreat) == 0
    assert len(payments.fake.refunds) == 1
    assert "booking_confirmation" not in _kinds(outbox_dir)


def test_admin_cancel_racing_the_payment_webhook_keeps_no_seats(payments, retreat, make_client, outbox_dir, monkeypatch):
    from lutea.domain import booking_lifecycle

    booking, pi = _paid_booking(payments, retreat)
    admin, _ = admin_session(make_client)
    release = booking_lifecycle.release_seats
    delivered: list[int] = []

    def release_then_webhook(b: dict) -> None:
        release(b)
        if not delivered:  # the cancel has just won its transition: the webhook runs now
            delivered.append(payments.deliver("payment_intent.succeeded", pi).status)

    monkeypatch.setattr(booking_lifecycle, "release_seats", release_then_webhook)
    response = admin.patch(f"/bookings/admin/{booking.id}/cancel", json={})
    assert response.status == 200 and delivered == [200]
    stored = booking.stored()
    assert stored["statut"] == "CANCELLED" and stored["seatsHeld"] is False
    assert stored["statutPaiement"] == "REFUNDED" and len(payments.fake.refunds) == 1
    assert payments.seats_held(retreat) == 0
    assert "booking_confirmation" not in _kinds(outbox_dir)


def test_overlapping_admin_cancels_send_one_email_saying_what_happened(payments, retreat, make_client, outbox_dir, monkeypatch):
    from lutea.domain import booking_lifecycle

    booking, pi = _paid_booking(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    admin, _ = admin_session(make_client)
    release = booking_lifecycle.release_seats
    seconds: list[dict] = []

    def release_then_second_cancel(b: dict) -> None:
        release(b)
        if not seconds:  # a double click handled by another container
            seconds.append(booking_lifecycle.admin_cancel(ObjectId(booking.id), None))

    monkeypatch.setattr(booking_lifecycle, "release_seats", release_then_second_cancel)
    assert admin.patch(f"/bookings/admin/{booking.id}/cancel", json={}).status == 200
    cancelled = [m for m in read_outbox(outbox_dir) if m.kind == "booking_cancelled"]
    assert len(cancelled) == 1 and "remboursé intégralement" in cancelled[0].text
    assert len(payments.fake.refunds) == 1
    assert "cancellationEmailAt" not in admin.get(f"/bookings/admin/{booking.id}").json()


@pytest.mark.parametrize("removed", ["retreat", "date block"])
def test_a_late_payment_for_a_removed_date_is_refunded(payments, make_client, outbox_dir, monkeypatch, frozen_clock, removed):
    from lutea.payments.gateway import StripeGateway

    retreat = catalogue.insert_retreat(places=10, extra_blocks=1)
    booking = payments.book(retreat, nb=2)
    created = payments.create_intent(booking)

    def still_processing(self: Any, pi_id: str) -> dict:
        raise Conflict("processing")  # Stripe refuses to cancel a PaymentIntent being processed

    monkeypatch.setattr(StripeGateway, "cancel_payment_intent", still_processing)
    frozen_clock.advance(minutes=17)
    admin, _ = admin_session(make_client)
    assert admin.post("/bookings/admin/cleanup").json()["cleanedCount"] == 1
    if removed == "retreat":
        assert admin.delete(f"/retreats/admin/{retreat['_id']}").status == 204
    else:
        kept = retreat["dates"][1]
        response = admin.patch(
            f"/retreats/admin/{retreat['_id']}",
            json={
                "dates": [
                    {
                        "_id": str(kept["_id"]),
                        "start": kept["start"].isoformat(),
                        "end": kept["end"].isoformat(),
                        "prix": kept["prixCents"] / 100,
                        "places": kept["places"],
                        "adresseRdv": kept["adresseRdv"],
                    }
                ]
            },
        )
        assert response.status == 200, response.body
    pi = payments.fake.succeed(created["id"])
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    assert len(payments.fake.refunds) == 1
    assert booking.stored()["statutPaiement"] == "REFUNDED"
    assert "late_payment_refunded" in _kinds(outbox_dir)


def test_a_second_payment_of_a_confirmed_booking_is_refunded_with_the_right_words(payments, retreat, outbox_dir):
    booking, pi = _paid_booking(payments, retreat)
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    from lutea.payments.gateway import get_gateway

    # The customer pays a second time (another tab, a payment link): another PaymentIntent.
    other = get_gateway().create_payment_intent(
        booking_id=booking.id,
        amount_cents=pi["amount"],
        currency="eur",
        idempotency_key="second-attempt",
        metadata={"bookingId": booking.id},
    )
    second = payments.fake.succeed(other["id"])
    assert payments.deliver("payment_intent.succeeded", second).status == 200
    assert len(payments.fake.refunds) == 1
    [mail] = [m for m in read_outbox(outbox_dir) if m.kind == "late_payment_refunded"]
    assert "second paiement" in mail.text and booking.stored()["statut"] == "CONFIRMED"


@pytest.mark.parametrize("prix_cents", [0, 30])
def test_a_booking_below_stripe_minimum_gets_a_clear_409(payments, make_client, prix_cents):
    retreat = insert_retreat(prix_cents=prix_cents)
    booking = payments.book(retreat, nb=1)
    response = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking.id}}, headers=payments.proof(booking)
    )
    assert response.status == 409 and "0,50 €" in response.json()["message"]
    assert payments.fake.requests_to("POST", "/v1/payment_intents") == []


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_dates_at_the_edge_of_the_calendar_are_400_not_500(api, retreat, make_client, edge):
    rid = str(retreat["_id"])
    admin, _ = admin_session(make_client)
    for response in (
        api.post("/bookings/available-places", json={"retreatId": rid, "date": edge}),
        api.get(f"/bookings/availability/{rid}", query={"date": edge}),
        api.post("/bookings", json=booking_body(retreat, 1, dateStart=edge)),
        admin.get(f"/retreats/admin/{rid}/reserved-places", query={"date": edge}),
    ):
        assert response.status in (400, 404), response.body


def test_the_expiry_confirms_a_payment_that_succeeded_just_in_time(payments, retreat, make_client, outbox_dir, frozen_clock):
    booking, pi = _paid_booking(payments, retreat)  # paid at minute 15, webhook delayed
    frozen_clock.advance(minutes=17)
    admin, _ = admin_session(make_client)
    assert admin.post("/bookings/admin/cleanup").json()["cleanedCount"] == 1
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"], stored["seatsHeld"]) == ("CONFIRMED", "PAID", True)
    assert payments.seats_held(retreat) == 2
    assert payments.deliver("payment_intent.succeeded", pi).status == 200  # the late webhook: no-op
    assert _kinds(outbox_dir).count("booking_confirmation") == 1
    assert payments.fake.refunds == {}
