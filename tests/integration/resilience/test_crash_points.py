"""Every write path killed after each of its database writes in turn (tests/support/faults.py,
walked by tests/support/crash_walk.py), then what runs after a crash in AWS: Stripe redelivers
an unanswered webhook, the scheduled jobs run (expiry, owed effects, seat reconciliation).
After each, the invariants hold:

- seats held on every counter == the seats of the bookings holding seats there (and of its
  named holders), never more than its places;
- no money kept without a seat: every succeeded, unrefunded PaymentIntent pays a CONFIRMED
  booking holding its seats;
- every owed email or refund done, and exactly once;
- the path's own promise (below, per path).

The table of docs/reliability.md lists these crash points and how each is recovered.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import admin_session, client_session
from tests.support.catalogue import booking_body, insert_retreat
from tests.support.client import ApiClient
from tests.support.crash_walk import Rig, nothing, rigged, walk


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch, outbox_dir: Path) -> Any:
    with rigged(Rig, monkeypatch, outbox_dir) as made:
        yield made


# --- book ----------------------------------------------------------------------------------------


def test_book(rig: Rig) -> None:
    def setup() -> dict:
        return {"retreat": insert_retreat(places=4)}

    def operation(state: dict) -> None:
        state["booking"] = rig.book(state["retreat"], nb=2)

    def check(state: dict, k: int | None) -> None:
        counter = rig.db()["seatcounters"].find_one({"_id": state["retreat"]["dates"][0]["_id"]})
        assert counter["held"] in (0, 2)  # the booking exists and holds, or nothing is held

    assert walk(rig, setup, operation, nothing, check) >= 3  # rate limit, seats, booking


# --- pay (the webhook), and a late payment refunded ------------------------------------------------


def test_pay(rig: Rig) -> None:
    def setup() -> dict:
        retreat = insert_retreat(places=4)
        booking = rig.book(retreat)
        return {"booking": booking, "pi": rig.attach_payment(booking, paid=True)}

    operation, recover = rig.delivery("payment_intent.succeeded", lambda state: state["pi"], "evt_paid")

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        assert (booking["statut"], booking["statutPaiement"]) == ("CONFIRMED", "PAID")
        assert len(rig.mails("booking_confirmation")) == 1

    walk(rig, setup, operation, recover, check)


def test_late_payment_refund(rig: Rig) -> None:
    def setup() -> dict:
        retreat = insert_retreat(places=2)
        late = rig.book(retreat)
        pi = rig.attach_payment(late, paid=False)
        rig.fake.payment_intents[pi["id"]]["status"] = "processing"  # Stripe refuses to cancel it
        rig.advance(minutes=17)
        rig.book(retreat)  # expires the late one on the spot and takes its seats
        return {"late": late, "pi": rig.fake.succeed(pi["id"])}

    operation, recover = rig.delivery("payment_intent.succeeded", lambda state: state["pi"], "evt_late")

    def check(state: dict, k: int | None) -> None:
        assert rig.booking(state["late"]["_id"])["statutPaiement"] == "REFUNDED"
        assert len(rig.mails("late_payment_refunded")) == 1

    walk(rig, setup, operation, recover, check)


# --- expire ------------------------------------------------------------------------------------


def test_expire(rig: Rig) -> None:
    from lutea.domain.booking_lifecycle import expire_pending_bookings

    def setup() -> dict:
        retreat = insert_retreat(places=4)
        booking = rig.book(retreat)
        pi = rig.attach_payment(booking, paid=False)
        rig.advance(minutes=17)
        return {"booking": booking, "pi": pi}

    def operation(state: dict) -> None:
        expire_pending_bookings()

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        assert (booking["statut"], booking["statutPaiement"], booking["seatsHeld"]) == ("CANCELLED", "FAILED", False)
        assert rig.fake.payment_intents[state["pi"]["id"]]["status"] == "canceled"

    walk(rig, setup, operation, nothing, check)


# --- cancel (admin, a paid booking: refund) ----------------------------------------------------------


def test_admin_cancel_of_a_paid_booking(rig: Rig, make_client: Any) -> None:
    def setup() -> dict:
        retreat = insert_retreat(places=4)
        booking = rig.book(retreat)
        pi = rig.attach_payment(booking, paid=True)
        assert rig.deliver("payment_intent.succeeded", pi, "evt_paid").status == 200
        admin, _ = admin_session(make_client)
        return {"booking": booking, "pi": pi, "admin": admin}

    def operation(state: dict) -> None:
        assert state["admin"].patch(f"/bookings/admin/{state['booking']['_id']}/cancel", json={}).status == 200

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        if booking["statut"] == "CONFIRMED":  # killed before the cancellation was written: nothing happened
            assert k is not None and len(rig.fake.refunds) == 0
            return
        assert (booking["statut"], booking["statutPaiement"]) == ("CANCELLED", "REFUNDED")
        assert len(rig.fake.refunds) == 1
        assert len(rig.mails("booking_cancelled")) == 1

    walk(rig, setup, operation, nothing, check)


# --- refund made at Stripe (charge.refunded) ------------------------------------------------------


def test_refund_from_the_dashboard(rig: Rig) -> None:
    def setup() -> dict:
        from lutea.payments.gateway import get_gateway

        retreat = insert_retreat(places=4)
        booking = rig.book(retreat)
        pi = rig.attach_payment(booking, paid=True)
        assert rig.deliver("payment_intent.succeeded", pi, "evt_paid").status == 200
        get_gateway().refund(pi["id"])
        return {"booking": booking, "charge": rig.fake.charge_of(pi["id"])}

    operation, recover = rig.delivery("charge.refunded", lambda state: state["charge"], "evt_refunded")

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        assert (booking["statut"], booking["statutPaiement"], booking["seatsHeld"]) == ("CANCELLED", "REFUNDED", False)
        assert len(rig.mails("booking_cancelled")) == 1

    walk(rig, setup, operation, recover, check)


# --- admin edits of a retreat's date blocks ----------------------------------------------------------


def test_admin_edit_of_date_blocks(rig: Rig, make_client: Any) -> None:
    def setup() -> dict:
        retreat = insert_retreat(places=4, extra_blocks=1)
        rig.book(retreat, nb=2)
        admin, _ = admin_session(make_client)
        return {"retreat": retreat, "admin": admin}

    def operation(state: dict) -> None:
        kept, removed = state["retreat"]["dates"]
        new = {**kept, "start": kept["start"] + timedelta(days=60), "end": kept["end"] + timedelta(days=60)}
        body = {"dates": [_block_body(kept, places=6), _block_body(new, places=3, with_id=False)]}
        assert removed["_id"]  # the second block goes: it holds nothing
        response = state["admin"].patch(f"/retreats/admin/{state['retreat']['_id']}", json=body)
        assert response.status == 200, response.body

    def check(state: dict, k: int | None) -> None:
        retreat = rig.db()["retreats"].find_one({"_id": state["retreat"]["_id"]})
        counters = {c["_id"]: c for c in rig.db()["seatcounters"].find({"retreatId": retreat["_id"]})}
        blocks = {b["_id"]: b for b in retreat["dates"]}
        assert set(counters) == set(blocks)  # a counter per block, none without
        for date_id, block in blocks.items():
            assert counters[date_id]["places"] == block["places"]

    walk(rig, setup, operation, nothing, check)


def _block_body(block: dict, *, places: int, with_id: bool = True) -> dict:
    body = {
        "start": block["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "end": block["end"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "prix": block["prixCents"] / 100,
        "places": places,
        "adresseRdv": block["adresseRdv"],
    }
    if with_id:
        body["_id"] = str(block["_id"])
    return body


# --- account deletion --------------------------------------------------------------------------


def test_account_deletion(rig: Rig, make_client: Any) -> None:
    def setup() -> dict:
        client, user = client_session(make_client)
        rig.book(insert_retreat(places=4), client=client)
        return {"client": client, "user": user}

    def operation(state: dict) -> None:
        assert state["client"].delete("/users/profile").status == 200

    def check(state: dict, k: int | None) -> None:
        user_id = state["user"]["_id"]
        db = rig.db()
        if db["users"].find_one({"_id": user_id}) is None:  # deleted: then nothing of it is left alive
            assert db["refreshfamilies"].count_documents({"userId": str(user_id), "revoked": False}) == 0
            assert db["bookings"].count_documents({"userId": user_id}) == 0
            return
        assert k is not None  # killed before the end: the account is still there, and deleting it again works
        admin, _ = admin_session(make_client)
        assert admin.delete(f"/users/{user_id}").status == 200
        assert db["refreshfamilies"].count_documents({"userId": str(user_id), "revoked": False}) == 0
        assert db["bookings"].count_documents({"userId": user_id}) == 0

    walk(rig, setup, operation, nothing, check)


# --- admin confirm of a pending booking (its payment checked at Stripe) ----------------------------


def test_admin_confirm(rig: Rig, make_client: Any) -> None:
    def setup() -> dict:
        retreat = insert_retreat(places=4)
        booking = rig.book(retreat)
        pi = rig.attach_payment(booking, paid=True)  # paid at Stripe; its webhook has not come yet
        admin, _ = admin_session(make_client)
        return {"booking": booking, "pi": pi, "admin": admin}

    def confirm(state: dict) -> Any:
        path = f"/bookings/admin/{state['booking']['_id']}/confirm"
        return state["admin"].patch(path, json={"stripePaymentIntentId": state["pi"]["id"]})

    def operation(state: dict) -> None:
        response = confirm(state)
        assert response.status == 200, response.body

    def recover(state: dict) -> None:
        rig.advance(minutes=3)
        # The admin saw no answer and confirms again: done, or already done (not pending any more).
        assert confirm(state).status in (200, 400)
        # Stripe's own word comes too.
        assert rig.deliver("payment_intent.succeeded", state["pi"], "evt_paid").status == 200

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        assert (booking["statut"], booking["statutPaiement"], booking["seatsHeld"]) == ("CONFIRMED", "PAID", True)
        assert booking["stripePaymentIntentId"] == state["pi"]["id"]
        assert len(rig.mails("booking_confirmation")) == 1

    assert walk(rig, setup, operation, recover, check) >= 2  # rate limit, booking confirmed (email owed)


# --- admin manual booking (no Stripe) ----------------------------------------------------------------


@pytest.mark.parametrize("statut", ["CONFIRMED", "PENDING"])
def test_admin_manual_booking(rig: Rig, make_client: Any, statut: str) -> None:
    def setup() -> dict:
        admin, _ = admin_session(make_client)
        return {"retreat": insert_retreat(places=4), "admin": admin}

    def operation(state: dict) -> None:
        body = booking_body(state["retreat"], 2, statut=statut)
        response = state["admin"].post("/bookings/admin/create", json=body)
        assert response.status == 201, response.body

    def check(state: dict, k: int | None) -> None:
        counter = rig.db()["seatcounters"].find_one({"_id": state["retreat"]["dates"][0]["_id"]})
        bookings = list(rig.db()["bookings"].find({}))
        if not bookings:  # killed before the booking was stored: no seat kept for nobody
            assert k is not None and counter["held"] == 0
            return
        [booking] = bookings
        paid = "PAID" if statut == "CONFIRMED" else "PENDING"
        assert (booking["statut"], booking["statutPaiement"], booking["seatsHeld"]) == (statut, paid, True)
        assert booking["isStripeBooking"] is False
        assert counter["held"] == 2
        rig.advance(minutes=17)  # past any payment window: an admin's booking has none
        rig.run_jobs()
        assert rig.booking(booking["_id"])["statut"] == statut
        assert rig.db()["seatcounters"].find_one({"_id": counter["_id"]})["held"] == 2

    assert walk(rig, setup, operation, nothing, check) == 3  # rate limit, seats, booking


# --- the customer cancels their PaymentIntent (POST /stripe/cancel-payment-intent) --------------------


def test_customer_cancel_of_a_payment(rig: Rig) -> None:
    def setup() -> dict:
        booking = rig.book(insert_retreat(places=4))
        return {"booking": booking, "pi": rig.attach_payment(booking, paid=False)}

    def cancel(state: dict) -> Any:
        return ApiClient().post(
            "/stripe/cancel-payment-intent",
            json={"paymentIntentId": state["pi"]["id"]},
            headers={"X-Booking-Token": state["booking"]["guestToken"]},
        )

    def operation(state: dict) -> None:
        response = cancel(state)
        assert response.status == 200, response.body

    def recover(state: dict) -> None:
        rig.advance(minutes=3)
        pi = rig.fake.payment_intents[state["pi"]["id"]]
        if pi["status"] == "canceled":  # Stripe says so to the webhook
            assert rig.deliver("payment_intent.canceled", pi, "evt_canceled").status == 200
        else:  # killed before Stripe heard of it: the customer's page asks again
            assert cancel(state).status == 200

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        assert (booking["statut"], booking["statutPaiement"], booking["seatsHeld"]) == ("CANCELLED", "FAILED", False)
        assert rig.fake.payment_intents[state["pi"]["id"]]["status"] == "canceled"
        counter = rig.db()["seatcounters"].find_one({"_id": booking["dateId"]})
        assert counter["held"] == 0

    assert walk(rig, setup, operation, recover, check) == 3  # rate limit, booking cancelled, seats released
