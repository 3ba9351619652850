"""Self-service cancellation (docs/cancellation.md) over the API: the quote, the cancellation
by the owner or the guest token, the refund by the policy at the server's clock, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.payments.conftest import Booked, Payments, insert_retreat
from tests.support.catalogue import START
from tests.support.outbox import read_outbox


@pytest.fixture
def retreat() -> dict:
    return insert_retreat(places=4)


def _confirmed(payments: Payments, retreat: dict, nb: int = 2, client: Any = None) -> Booked:
    booking = payments.book(retreat, nb=nb, client=client)
    created = payments.create_intent(booking)
    assert payments.deliver("payment_intent.succeeded", payments.fake.succeed(created["id"])).status == 200
    assert booking.stored()["statut"] == "CONFIRMED"
    return booking


def _as_guest(payments: Payments, booking: Booked) -> Any:
    return payments.make_client(origin=None), {"X-Booking-Token": booking.guest_token}


def _quote(payments: Payments, booking: Booked) -> Any:
    client, headers = _as_guest(payments, booking)
    return client.get(f"/bookings/{booking.id}/cancellation-quote", headers=headers)


def _cancel(payments: Payments, booking: Booked, body: dict | None = None) -> Any:
    client, headers = _as_guest(payments, booking)
    return client.post(f"/bookings/{booking.id}/cancel", json=body, headers=headers)


def test_quote_follows_the_default_tiers_by_the_server_clock(payments, retreat, frozen_clock):
    booking = _confirmed(payments, retreat)
    response = _quote(payments, booking)
    assert response.status == 200, response.body
    body = response.json()
    assert body["annulable"] is True and body["motif"] is None
    assert (body["montantPaye"], body["pourcentageRembourse"], body["montantRembourse"]) == (240, 100, 240)
    assert body["changementLe"] == (START - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert body["politique"]["paliers"] == [{"joursAvant": 30, "pourcentage": 100}, {"joursAvant": 14, "pourcentage": 50}]
    assert "30 jours avant" in body["politique"]["texte"] and "50 %" in body["politique"]["texte"]

    frozen_clock.set(START - timedelta(days=20))
    body = _quote(payments, booking).json()
    assert (body["pourcentageRembourse"], body["montantRembourse"]) == (50, 120)
    frozen_clock.set(START - timedelta(days=14))  # exactly at the deadline: still 50 %
    assert _quote(payments, booking).json()["pourcentageRembourse"] == 50
    frozen_clock.set(START - timedelta(days=14, seconds=-1))
    body = _quote(payments, booking).json()
    assert (body["pourcentageRembourse"], body["montantRembourse"], body["changementLe"]) == (0, 0, None)


def test_cancel_refunds_the_policy_share_once_and_frees_the_seats(payments, retreat, frozen_clock, outbox_dir):
    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=20))
    response = _cancel(payments, booking, {"raison": "Empêchement"})
    assert response.status == 200, response.body
    body = response.json()
    assert (body["statut"], body["statutPaiement"], body["annulePar"]) == ("CANCELLED", "REFUNDED", "client")
    assert (body["pourcentageRembourse"], body["montantRembourse"], body["annulationRaison"]) == (50, 120, "Empêchement")
    assert not {"owed", "montantRembourseCents"} & body.keys()
    refunds = payments.fake.requests_to("POST", "/v1/refunds")
    assert len(refunds) == 1 and refunds[0].params["amount"] == "12000" and refunds[0].idempotency_key
    assert payments.seats_held(retreat) == 0
    stored = booking.stored()
    assert not stored.get("owed")  # the refund and both emails done

    again = _cancel(payments, booking)
    assert again.status == 409 and "confirmée" in again.json()["message"]
    assert len(payments.fake.requests_to("POST", "/v1/refunds")) == 1
    assert payments.seats_held(retreat) == 0

    mails = {m.kind: m for m in read_outbox(outbox_dir)}
    customer, admin = mails["booking_cancelled_by_customer"], mails["booking_cancelled_admin"]
    assert customer.to == ["zoe0@example.test"] and "120 €" in customer.text and "50 %" in customer.text
    assert "Conditions d'annulation" in customer.text and "Conditions d'annulation" in admin.text
    assert "remboursé par Stripe" in admin.text

    # A later charge.refunded event (full or partial) changes nothing and sends nothing.
    charge = payments.fake.charge_of(stored["stripePaymentIntentId"])
    assert payments.deliver("charge.refunded", charge).status == 200
    assert len(read_outbox(outbox_dir)) == 4  # the confirmation, its admin copy, the two cancellation emails


def test_nothing_back_inside_the_last_tier_and_the_admin_cancel_does_not_refund_it(payments, retreat, frozen_clock):
    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=3))
    body = _cancel(payments, booking).json()
    assert (body["statut"], body["statutPaiement"], body["montantRembourse"]) == ("CANCELLED", "PAID", 0)
    assert payments.fake.requests_to("POST", "/v1/refunds") == []
    from lutea.domain.booking_lifecycle import admin_cancel

    admin_cancel(booking.stored()["_id"], None)
    assert payments.fake.requests_to("POST", "/v1/refunds") == []
    assert booking.stored()["statutPaiement"] == "PAID"


def test_a_stripe_outage_leaves_the_refund_owed_and_the_job_makes_it_once(payments, retreat, frozen_clock):
    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=40))
    payments.fake.failures.extend([500, 500])  # the first try and the SDK's one retry
    response = _cancel(payments, booking)
    assert response.status == 200 and response.json()["statutPaiement"] == "REFUNDED"
    assert booking.stored()["owed"]["refund_customer"]["args"] == {
        "pi": booking.stored()["stripePaymentIntentId"],
        "amount": 24_000,
    }
    assert payments.fake.refunds == {}

    from lutea.domain.owed_effects import retry_owed_effects

    assert retry_owed_effects()["done"] == 0  # its next attempt is a minute away
    frozen_clock.advance(minutes=2)
    assert retry_owed_effects() == {"done": 1, "failed": 0}
    assert retry_owed_effects() == {"done": 0, "failed": 0}
    assert [r["amount"] for r in payments.fake.refunds.values()] == [24_000]
    assert not booking.stored().get("owed")


def test_a_crash_after_the_cancellation_is_completed_by_the_job(payments, retreat, frozen_clock, monkeypatch, outbox_dir):
    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=20))
    from lutea.domain import cancellation

    def crash(_: object) -> None:
        raise SystemExit("process stopped")

    monkeypatch.setattr(cancellation, "settle", crash)
    with pytest.raises(SystemExit):
        cancellation.cancel_by_customer(booking.stored()["_id"], None, booking.guest_token)
    monkeypatch.undo()
    assert payments.fake.refunds == {} and booking.stored()["statut"] == "CANCELLED"
    assert set(booking.stored()["owed"]) == {"refund_customer", "email_customer_cancel", "email_admin_cancel"}
    from lutea.domain.owed_effects import retry_owed_effects

    assert retry_owed_effects()["done"] == 3
    assert retry_owed_effects()["done"] == 0
    assert [r["amount"] for r in payments.fake.refunds.values()] == [12_000]
    kinds = [m.kind for m in read_outbox(outbox_dir)]
    assert kinds.count("booking_cancelled_by_customer") == 1 and kinds.count("booking_cancelled_admin") == 1


def test_only_the_owner_cancels(payments, retreat, frozen_clock, make_client):
    booking = _confirmed(payments, retreat)
    anonymous = make_client(origin=None)
    assert anonymous.post(f"/bookings/{booking.id}/cancel").status == 401
    assert anonymous.get(f"/bookings/{booking.id}/cancellation-quote").status == 401
    wrong = {"X-Booking-Token": "x" * 43}
    assert anonymous.post(f"/bookings/{booking.id}/cancel", headers=wrong).status == 404
    other = payments.book(retreat, nb=1)
    assert anonymous.post(f"/bookings/{booking.id}/cancel", headers={"X-Booking-Token": other.guest_token}).status == 404
    malformed = anonymous.post("/bookings/not-an-id/cancel", headers=wrong)
    assert malformed.status == 400 and malformed.json()["details"]["message"] == "ID de booking invalide"
    unknown_field = _cancel(payments, booking, {"raison": "x", "montant": 1})
    assert unknown_field.status == 400
    assert booking.stored()["statut"] == "CONFIRMED"


def test_a_signed_in_owner_cancels_with_her_session(payments, retreat, frozen_clock, make_client):
    from tests.support.accounts import client_session

    client, _ = client_session(make_client)
    booking = _confirmed(payments, retreat, client=client)
    assert client.get(f"/bookings/{booking.id}/cancellation-quote").json()["annulable"] is True
    assert client.post(f"/bookings/{booking.id}/cancel").status == 200
    stranger, _ = client_session(make_client, email="autre@example.test")
    assert stranger.post(f"/bookings/{booking.id}/cancel").status == 404


def test_pending_and_started_bookings_are_refused(payments, retreat, frozen_clock):
    pending = payments.book(retreat, nb=1)
    response = _cancel(payments, pending)
    assert response.status == 409 and response.json()["message"].startswith("Seule une réservation confirmée")
    quote = _quote(payments, pending).json()
    assert quote["annulable"] is False and quote["montantRembourse"] == 0
    confirmed = _confirmed(payments, retreat)
    frozen_clock.set(START + timedelta(hours=1))
    response = _cancel(payments, confirmed)
    assert response.status == 409 and "commencé" in response.json()["message"]


def test_the_policy_of_the_booking_is_the_one_in_force_when_it_was_made(payments, frozen_clock):
    own = {"paliers": [{"joursAvant": 60, "pourcentage": 80}]}
    retreat = insert_retreat(places=4)
    from lutea.data.mongo import get_db

    get_db()["retreats"].update_one({"_id": retreat["_id"]}, {"$set": {"politiqueAnnulation": own}})
    booking = _confirmed(payments, retreat)
    get_db()["retreats"].update_one({"_id": retreat["_id"]}, {"$unset": {"politiqueAnnulation": ""}})
    body = _quote(payments, booking).json()
    assert body["politique"]["paliers"] == own["paliers"] and body["pourcentageRembourse"] == 80
    frozen_clock.set(START - timedelta(days=45))
    assert _quote(payments, booking).json()["pourcentageRembourse"] == 0


def test_self_cancellation_email_removes_the_calendar_event(payments, retreat, frozen_clock, outbox_dir):
    import icalendar

    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=20))
    assert _cancel(payments, booking).status == 200
    mails = [m for m in read_outbox(outbox_dir) if m.kind == "booking_cancelled_by_customer"]
    [content] = [c for m in mails for _, ctype, c in m.attachments() if ctype == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["UID"]) == f"booking-{booking.id}@lutea"


def test_two_cancellations_at_once_refund_once(payments, retreat, frozen_clock, tiny_switch_interval):
    from tests.support.concurrency import crashes, run_together

    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=20))
    results = run_together([lambda: _cancel(payments, booking).status for _ in range(5)])
    assert crashes(results) == [] and sorted(results) == [200, 409, 409, 409, 409]
    assert [r["amount"] for r in payments.fake.refunds.values()] == [12_000]
    assert payments.seats_held(retreat) == 0


def test_a_refund_retried_after_stripe_forgot_its_key_is_not_made_twice(payments, retreat, frozen_clock, monkeypatch):
    # Stripe keeps idempotency keys 24 hours. The refund was accepted, then the process died
    # before recording it; the retry comes a day later: the key alone would refund again.
    booking = _confirmed(payments, retreat)
    frozen_clock.set(START - timedelta(days=20))
    from lutea.domain import cancellation, owed_effects

    real_complete = owed_effects.complete

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("process stopped after Stripe accepted the refund")

    monkeypatch.setattr(owed_effects, "complete", crash)
    with pytest.raises(SystemExit):
        cancellation.cancel_by_customer(booking.stored()["_id"], None, booking.guest_token)
    monkeypatch.setattr(owed_effects, "complete", real_complete)
    assert [r["amount"] for r in payments.fake.refunds.values()] == [12_000]

    payments.fake._idempotent.clear()  # a day later, Stripe no longer knows the key
    frozen_clock.advance(hours=25)
    assert owed_effects.retry_owed_effects()["failed"] == 0
    assert [r["amount"] for r in payments.fake.refunds.values()] == [12_000]
    assert "refund_customer" not in (booking.stored().get("owed") or {})
