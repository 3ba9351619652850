"""Repositories own every query: the domain names the state a transition leaves by field
equalities, and any other condition is a named repository method (lutea.data.README)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bson import ObjectId
from lutea.booking_status import BookingStatus, PaymentStatus
from lutea.clock import now
from lutea.data.bookings import BookingRepository
from lutea.data.owed import OwedRepository, owed_entry
from lutea.data.waiting_list import OFFERED, WaitingListRepository


def _booking(**fields):
    doc = {"_id": ObjectId(), "statut": "PENDING", "statutPaiement": "PENDING", "seatsHeld": True, "nbPlaces": 2}
    doc.update(fields)
    return BookingRepository().insert(doc)


def test_a_precondition_with_an_operator_is_refused_not_applied():
    booking = _booking(expiresAt=now() - timedelta(minutes=1))
    with pytest.raises(ValueError, match="expiresAt"):
        BookingRepository().transition(booking["_id"], {"expiresAt": {"$lte": now()}}, {"statut": "CANCELLED"})
    with pytest.raises(ValueError):
        BookingRepository().transition(booking["_id"], {"$or": [{"statut": "PENDING"}]}, {"statut": "CANCELLED"})
    entry = WaitingListRepository().insert({"_id": ObjectId(), "statut": OFFERED, "email": "a@example.test"})
    with pytest.raises(ValueError, match="offerExpiresAt"):
        WaitingListRepository().transition(entry["_id"], {"offerExpiresAt": {"$gt": now()}}, {"statut": "EXPIRED"})
    assert BookingRepository().get(booking["_id"])["statut"] == "PENDING"


def test_overdue_holds_are_pending_unpaid_seat_holders_past_the_cutoff():
    cutoff = now()
    block, other_block = ObjectId(), ObjectId()
    overdue = _booking(dateId=block, expiresAt=cutoff - timedelta(seconds=1))
    on_time = _booking(dateId=block, expiresAt=cutoff + timedelta(seconds=1))
    elsewhere = _booking(dateId=other_block, expiresAt=cutoff)
    _booking(dateId=block, expiresAt=cutoff - timedelta(minutes=1), seatsHeld=False)
    _booking(dateId=block, expiresAt=cutoff - timedelta(minutes=1), statut="CONFIRMED", statutPaiement="PAID")
    repo = BookingRepository()
    assert set(repo.overdue_hold_ids(cutoff)) == {overdue["_id"], elsewhere["_id"]}
    assert repo.overdue_hold_ids(cutoff, date_id=block) == [overdue["_id"]]
    assert repo.overdue_held_places(block, cutoff) == 2
    changes = {"statut": "CANCELLED", "seatsHeld": False}
    assert repo.expire_overdue_hold(on_time["_id"], cutoff, date_id=block, payment_intent_id=None, changes=changes) is None
    assert repo.expire_overdue_hold(overdue["_id"], cutoff, date_id=block, payment_intent_id="pi_x", changes=changes) is None
    assert repo.expire_overdue_hold(overdue["_id"], cutoff, date_id=block, payment_intent_id=None, changes=changes) is not None


def test_a_debt_recorded_twice_is_owed_once():
    booking = _booking()
    owed = OwedRepository("bookings")
    first = owed_entry("booking_refund", {"pi": "pi_1"})
    assert owed.owe_once(booking["_id"], "refund_pi_1", first) is not None
    assert owed.owe_once(booking["_id"], "refund_pi_1", owed_entry("booking_refund", {"pi": "other"})) is None
    assert BookingRepository().get(booking["_id"])["owed"]["refund_pi_1"]["args"] == {"pi": "pi_1"}
    assert owed.owe_once(ObjectId(), "refund_pi_1", first) is None  # no such document


def test_the_repository_stores_the_wire_status_values():
    from lutea.data import bookings

    assert (
        BookingStatus.PENDING.value,
        BookingStatus.CONFIRMED.value,
        BookingStatus.CANCELLED.value,
    ) == (bookings.PENDING, bookings.CONFIRMED, bookings.CANCELLED)
    assert (
        PaymentStatus.PENDING.value,
        PaymentStatus.PAID.value,
        PaymentStatus.REFUNDED.value,
    ) == (bookings.PAY_PENDING, bookings.PAID, bookings.REFUNDED)


def test_completing_a_debt_states_its_condition_as_equalities_and_exclusions():
    booking = _booking(stripePaymentIntentId="pi_1", statutPaiement="REFUNDED")
    owed = OwedRepository("bookings")
    owed.owe_once(booking["_id"], "refund_pi_1", owed_entry("booking_refund", {"pi": "pi_1"}))
    with pytest.raises(ValueError, match="statutPaiement"):
        owed.complete(booking["_id"], "refund_pi_1", precondition={"statutPaiement": {"$ne": "REFUNDED"}}, changes={})
    assert "refund_pi_1" in BookingRepository().get(booking["_id"])["owed"]  # refused: nothing changed
    before = owed.complete(
        booking["_id"],
        "refund_pi_1",
        precondition={"stripePaymentIntentId": "pi_1"},
        unless={"statutPaiement": "REFUNDED"},
        changes={"statut": "CANCELLED"},
    )
    stored = BookingRepository().get(booking["_id"])
    assert before is None and stored["statut"] == "PENDING"  # already refunded: the change is moot
    assert "refund_pi_1" not in stored["owed"]  # the entry is done all the same
