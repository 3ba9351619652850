"""The write paths of self-service cancellation and of the waiting list, killed after each of
their database writes in turn (tests/support/crash_walk.py), then what runs after a crash
in AWS (the scheduled jobs, the waiting-list job included). After each:

- seats held on every counter == the seats of the bookings AND of the waiting-list offers
  holding seats there, each named as a holder, never more than the places;
- money: every succeeded PaymentIntent either pays a CONFIRMED booking holding its seats, or
  belongs to a booking its owner cancelled and was refunded exactly the share the policy gave;
- every owed refund and email done, each once; no seat lost or sold twice.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from tests.support.catalogue import booking_body, insert_retreat
from tests.support.client import ApiClient
from tests.support.crash_walk import START, Rig, nothing, rigged, walk


class WaitingRig(Rig):
    """The rig with the waiting list's job, its offers among the seat holders, and the money
    and emails of a customer's own cancellation."""

    def run_jobs(self) -> None:
        from lutea.domain.waiting_list import run_offers

        super().run_jobs()
        run_offers()

    def seat_holders(self) -> list[dict]:
        return [*super().seat_holders(), *self.db()["waitinglist"].find({"seatsHeld": True})]

    def assert_money(self) -> None:
        """Every succeeded PaymentIntent either pays a CONFIRMED booking holding its seats, or
        belongs to a booking its owner cancelled and was refunded exactly the policy's share."""
        db = self.db()
        for pi in self.fake.payment_intents.values():
            if pi["status"] != "succeeded":
                continue
            refunded = sum(r["amount"] for r in self.fake.refunds.values() if r["payment_intent"] == pi["id"])
            owner = db["bookings"].find_one({"stripePaymentIntentId": pi["id"]})
            assert owner is not None
            if owner.get("annulePar") == "client":
                assert refunded == int(owner["montantRembourseCents"]), (refunded, owner)
            elif refunded < pi["amount"]:
                assert (owner["statut"], owner["statutPaiement"], owner["seatsHeld"]) == ("CONFIRMED", "PAID", True)

    def assert_emails_once(self) -> None:
        kinds = ("booking_cancelled_by_customer", "booking_cancelled_admin", "waiting_list_offer")
        keys = Counter(f"{m.message['Subject']}|{m.message['To']}" for kind in kinds for m in self.mails(kind))
        assert all(n == 1 for n in keys.values()), keys


@pytest.fixture
def waiting_rig(monkeypatch: pytest.MonkeyPatch, outbox_dir: Any) -> Any:
    with rigged(WaitingRig, monkeypatch, outbox_dir) as made:
        yield made


def _confirmed(rig: Rig, retreat: dict, nb: int) -> dict:
    booking = rig.book(retreat, nb=nb)
    pi = rig.attach_payment(booking, paid=True)
    assert rig.deliver("payment_intent.succeeded", pi, f"evt_{booking['_id']}").status == 200
    return booking


def _join(retreat: dict, nb: int, email: str) -> None:
    response = ApiClient().post(
        "/bookings/waiting-list",
        json={
            "retreatId": str(retreat["_id"]),
            "dateStart": retreat["dates"][0]["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "nbPlaces": nb,
            "email": email,
            "prenom": "Léa",
        },
    )
    assert response.status == 201, response.body


def _offer_token(rig: Rig, email: str) -> str:
    mail = [m for m in rig.mails("waiting_list_offer") if email in m.to][-1]
    return re.search(r"token=([0-9a-f]{24}\.[A-Za-z0-9_-]{43})", mail.text).group(1)


def test_customer_cancellation_with_someone_waiting(waiting_rig: WaitingRig) -> None:
    rig = waiting_rig

    def setup() -> dict:
        retreat = insert_retreat(places=2, start=START + timedelta(days=20))  # 50 % back
        booking = _confirmed(rig, retreat, 2)
        _join(retreat, 2, "lea@example.test")
        return {"retreat": retreat, "booking": booking}

    def operation(state: dict) -> None:
        response = ApiClient(origin=None).post(
            f"/bookings/{state['booking']['_id']}/cancel", headers={"X-Booking-Token": state["booking"]["guestToken"]}
        )
        assert response.status == 200, response.body

    def check(state: dict, k: int | None) -> None:
        booking = rig.booking(state["booking"]["_id"])
        entry = rig.db()["waitinglist"].find_one({"email": "lea@example.test"})
        if booking["statut"] == "CONFIRMED":  # killed before the cancellation was written
            assert k is not None and rig.fake.refunds == {} and entry["statut"] == "WAITING"
            return
        assert [r["amount"] for r in rig.fake.refunds.values()] == [round(booking["prixTotalCents"] / 2)]
        assert entry["statut"] == "OFFERED" and entry["seatsHeld"] is True  # the seats went to the list
        assert len(rig.mails("booking_cancelled_by_customer")) == 1 and len(rig.mails("waiting_list_offer")) == 1

    walk(rig, setup, operation, nothing, check)


def test_booking_through_an_offer(waiting_rig: WaitingRig) -> None:
    rig = waiting_rig

    def setup() -> dict:
        from lutea.domain.booking_lifecycle import admin_cancel

        retreat = insert_retreat(places=2)
        first = rig.book(retreat, nb=2)
        _join(retreat, 2, "lea@example.test")
        from bson import ObjectId

        admin_cancel(ObjectId(first["_id"]), None)
        return {"retreat": retreat, "token": _offer_token(rig, "lea@example.test")}

    def operation(state: dict) -> None:
        body = {
            "token": state["token"],
            "participants": booking_body(state["retreat"], 1)["participants"],
            "billingAddress": booking_body(state["retreat"])["billingAddress"],
        }
        response = ApiClient().post("/bookings/waiting-list/offer/book", json=body)
        assert response.status == 201, response.body

    def check(state: dict, k: int | None) -> None:
        entry = rig.db()["waitinglist"].find_one({"email": "lea@example.test"})
        booked = rig.db()["bookings"].find_one({"waitingListEntryId": entry["_id"]})
        if booked is not None:
            assert entry["statut"] == "BOOKED" and entry["bookingId"] == booked["_id"]
        else:  # killed before the booking was stored: the offer holds its seats, or gave them back
            assert k is not None and entry["statut"] in ("OFFERED", "BOOKED")

    walk(rig, setup, operation, nothing, check)


def test_an_offer_expiring_to_the_next_in_line(waiting_rig: WaitingRig) -> None:
    rig = waiting_rig

    def setup() -> dict:
        from bson import ObjectId
        from lutea.domain.booking_lifecycle import admin_cancel

        retreat = insert_retreat(places=2)
        first = rig.book(retreat, nb=2)
        _join(retreat, 2, "lea@example.test")
        _join(retreat, 1, "max@example.test")
        admin_cancel(ObjectId(first["_id"]), None)
        rig.advance(hours=25)
        return {"retreat": retreat}

    def operation(state: dict) -> None:
        from lutea.domain.waiting_list import run_offers

        assert run_offers()["expired"] == 1

    def check(state: dict, k: int | None) -> None:
        entries = {e["email"]: e for e in rig.db()["waitinglist"].find({})}
        assert entries["lea@example.test"]["statut"] == "EXPIRED"
        assert entries["max@example.test"]["statut"] == "OFFERED"

    walk(rig, setup, operation, nothing, check)
