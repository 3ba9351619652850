"""Stripe failing while money must go back (issue 13, defect 5): the refund is recorded as owed
in the same update as the transition, retried by the owed-effects job until Stripe accepts,
done exactly once (Stripe's idempotency key), and the admin is alerted if it keeps failing.
The late-payment refund follows the same rule (test_webhooks: a refund failing at Stripe)."""

from __future__ import annotations

from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository
from lutea.domain.owed_effects import ALERT_AFTER, retry_owed_effects

from tests.support.accounts import admin_session
from tests.support.catalogue import booking_body
from tests.support.outbox import read_outbox


def _stored(booking_id):
    return get_db()["bookings"].find_one({"_id": ObjectId(booking_id)})


def _refunds(fake, pi_id):
    return [r for r in fake.refunds.values() if r["payment_intent"] == pi_id]


def _paid_and_confirmed(make_client, api, retreat, fake):
    admin, _ = admin_session(make_client)
    booking = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    pi = fake.add_payment_intent(amount=round(booking["prixTotal"] * 100), metadata={"bookingId": booking["_id"]})
    fake.succeed(pi["id"])
    assert admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": pi["id"]}).status == 200
    return admin, booking["_id"], pi["id"]


def _kinds(outbox_dir):
    return [m.kind for m in read_outbox(outbox_dir)]


def test_stripe_down_during_an_admin_cancel_owes_the_refund_and_the_job_does_it_once(
    make_client, api, retreat, stripe_fake, outbox_dir, frozen_clock
):
    admin, booking_id, pi_id = _paid_and_confirmed(make_client, api, retreat, stripe_fake)
    stripe_fake.failures.extend([500] * 4)  # the first attempt and the SDK's retry, then the job's first run

    res = admin.patch(f"/bookings/admin/{booking_id}/cancel", json={"raison": "Météo"})
    assert res.status == 200
    assert (res.json()["statut"], res.json()["statutPaiement"]) == ("CANCELLED", "PAID")
    assert SeatRepository().held(retreat["dates"][0]["_id"]) == 0
    assert _refunds(stripe_fake, pi_id) == []

    frozen_clock.advance(minutes=2)
    assert retry_owed_effects() == {"done": 0, "failed": 1}  # Stripe still down: kept, later
    assert _stored(booking_id)["statutPaiement"] == "PAID"
    frozen_clock.advance(minutes=3)
    assert retry_owed_effects()["done"] == 2  # the refund, then the email it owed
    assert _stored(booking_id)["statutPaiement"] == "REFUNDED"
    assert "owed" not in _stored(booking_id)
    assert len(_refunds(stripe_fake, pi_id)) == 1
    assert _kinds(outbox_dir).count("booking_cancelled") == 1
    [mail] = [m for m in read_outbox(outbox_dir) if m.kind == "booking_cancelled"]
    assert "remboursé" in mail.text

    # Nothing left to do: later runs and a second cancel change nothing and refund nothing.
    frozen_clock.advance(minutes=10)  # within the admin's 15-minute access token
    assert retry_owed_effects() == {"done": 0, "failed": 0}
    assert admin.patch(f"/bookings/admin/{booking_id}/cancel", json={}).status == 200
    assert len(_refunds(stripe_fake, pi_id)) == 1
    assert _kinds(outbox_dir).count("booking_cancelled") == 1


def test_a_refund_that_keeps_failing_alerts_the_admin_once_and_is_still_retried(
    make_client, api, retreat, stripe_fake, outbox_dir, frozen_clock
):
    admin, booking_id, pi_id = _paid_and_confirmed(make_client, api, retreat, stripe_fake)
    stripe_fake.failures.extend([500] * 100)
    admin.patch(f"/bookings/admin/{booking_id}/cancel", json={})
    for _ in range(ALERT_AFTER + 2):
        frozen_clock.advance(hours=1)
        retry_owed_effects()
    alerts = [m for m in read_outbox(outbox_dir) if m.kind == "admin_alert"]
    assert len(alerts) == 1
    assert "booking_refund" in alerts[0].text and booking_id in alerts[0].text
    assert "zoe" not in alerts[0].text  # no personal data in the alert
    assert _stored(booking_id)["owed"][f"refund_{pi_id}"]["attempts"] == ALERT_AFTER + 3

    stripe_fake.failures.clear()
    frozen_clock.advance(hours=1)
    retry_owed_effects()
    assert _stored(booking_id)["statutPaiement"] == "REFUNDED"
    assert len(_refunds(stripe_fake, pi_id)) == 1
