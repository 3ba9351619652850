"""Pending-booking expiry: the scheduled job, POST /bookings/admin/cleanup, and the on-the-spot
expiry when a date looks full."""

from __future__ import annotations

from pathlib import Path

from bson import ObjectId
from lutea.clock import as_utc
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository
from lutea.domain import booking_lifecycle as lifecycle

from infra.local import gateway
from tests.support.accounts import admin_session
from tests.support.catalogue import booking_body
from tests.support.concurrency import crashes, run_together, tiny_switch_interval

ROOT_DIR = Path(__file__).resolve().parents[3]
EXPIRED = "Réservation expirée : paiement non finalisé dans les 16 minutes"


def _held(retreat):
    return SeatRepository().held(retreat["dates"][0]["_id"])


def _stored(booking):
    return get_db()["bookings"].find_one({"_id": ObjectId(booking["_id"])})


def _with_payment_intent(booking, stripe_fake):
    pi = stripe_fake.add_payment_intent(amount=round(booking["prixTotal"] * 100), metadata={"bookingId": booking["_id"]})
    lifecycle.attach_payment_intent(booking["_id"], pi["id"])
    return pi["id"]


def test_cleanup_expires_pending_bookings_after_16_minutes(make_client, api, make_retreat, stripe_fake, frozen_clock):
    admin, _ = admin_session(make_client)
    retreat = make_retreat(places=10)
    paid = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=3)).json()  # CONFIRMED
    unpaid = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    paying = api.post("/bookings", json=booking_body(retreat, nb=1)).json()
    pi_id = _with_payment_intent(paying, stripe_fake)
    frozen_clock.advance(minutes=5)
    recent = api.post("/bookings", json=booking_body(retreat, nb=1)).json()
    assert _held(retreat) == 7

    frozen_clock.advance(minutes=10, seconds=59)  # 15:59 after the first two
    admin, _ = admin_session(make_client)  # access tokens last 15 minutes
    res = admin.post("/bookings/admin/cleanup")
    assert res.status == 200 and res.json() == {"message": "0 bookings expirés ont été nettoyés", "cleanedCount": 0}

    frozen_clock.advance(seconds=1)  # 16 minutes
    res = admin.post("/bookings/admin/cleanup")
    assert res.status == 200 and res.json() == {"message": "2 bookings expirés ont été nettoyés", "cleanedCount": 2}
    for booking in (unpaid, paying):
        stored = _stored(booking)
        assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "FAILED")
        assert stored["annulationRaison"] == EXPIRED and stored["seatsHeld"] is False
        assert as_utc(stored["annulationDate"]) == frozen_clock.current
    assert stripe_fake.payment_intents[pi_id]["status"] == "canceled"
    assert (_stored(paid)["statut"], _stored(recent)["statut"]) == ("CONFIRMED", "PENDING")
    assert _held(retreat) == 4  # 3 confirmed + 1 recent

    # A second run (or a late one) finds nothing and gives nothing back twice.
    assert admin.post("/bookings/admin/cleanup").json()["cleanedCount"] == 0
    assert _held(retreat) == 4


def test_a_stripe_failure_does_not_block_the_expiry(api, retreat, stripe_fake, frozen_clock):
    booking = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    pi_id = _with_payment_intent(booking, stripe_fake)
    stripe_fake.failures.extend([500] * 5)
    frozen_clock.advance(minutes=16)

    assert lifecycle.expire_pending_bookings() == 1
    assert _stored(booking)["statut"] == "CANCELLED" and _held(retreat) == 0
    assert stripe_fake.payment_intents[pi_id]["status"] == "requires_payment_method"


def test_the_scheduled_handler_expires_bookings(api, retreat, frozen_clock):
    booking = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    frozen_clock.advance(minutes=17)
    scheduled = gateway.load_function_module(ROOT_DIR / "functions" / "scheduled")

    result = scheduled.expire_pending_bookings({"source": "aws.events"}, gateway.LambdaContext("ExpirePending"))

    assert result == {"expired": 1}
    assert _stored(booking)["statut"] == "CANCELLED" and _held(retreat) == 0


def test_concurrent_sweeps_release_each_booking_once(api, make_client, make_retreat, frozen_clock):
    admin, _ = admin_session(make_client)
    retreat = make_retreat(places=20)
    admin.post("/bookings/admin/create", json=booking_body(retreat, nb=3))
    for _ in range(8):
        api.post("/bookings", json=booking_body(retreat, nb=2))
    assert _held(retreat) == 19
    frozen_clock.advance(minutes=16)

    with tiny_switch_interval():
        results = run_together([lifecycle.expire_pending_bookings] * 6)
    counts = [r for r in results if isinstance(r, int)]

    assert not crashes(results), crashes(results)[:3]
    assert sum(counts) == 8 and len(counts) == 6
    assert _held(retreat) == 3  # a double release would eat into the confirmed booking's seats
    assert get_db()["bookings"].count_documents({"statut": "CANCELLED", "annulationRaison": EXPIRED}) == 8


def test_a_full_date_frees_overdue_seats_on_the_spot(api, make_retreat, frozen_clock):
    retreat = make_retreat(places=4)
    stale = api.post("/bookings", json=booking_body(retreat, nb=3)).json()
    assert api.post("/bookings", json=booking_body(retreat, nb=2)).status == 409
    rid, date = str(retreat["_id"]), booking_body(retreat)["dateStart"]

    frozen_clock.advance(minutes=16)  # the sweep has not run yet
    assert api.post("/bookings/available-places", json={"retreatId": rid, "date": date}).json() == {"placesDisponibles": 4}
    res = api.post("/bookings", json=booking_body(retreat, nb=2))
    assert res.status == 201
    assert _stored(stale)["statut"] == "CANCELLED" and _stored(stale)["annulationRaison"] == EXPIRED
    assert _held(retreat) == 2
