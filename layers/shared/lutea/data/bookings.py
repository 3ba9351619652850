"""The ``bookings`` collection.

Every status change is ONE conditional single-document update whose filter states the
precondition (the current status, ``seatsHeld: true``...): when two callers race, exactly one
matches, and only that one goes on to release seats or send emails. This repository knows how
to apply a transition; which transitions are allowed is the domain's business
(lutea.domain.booking_lifecycle).

The domain states the state a transition leaves as plain field equalities (``precondition``
of ``transition``); every other condition (a deadline passed, a field not yet set to a value,
one of several PaymentIntents) and every query is a named method here, so no query document
is ever written outside this package.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument
from pymongo.collection import Collection

from lutea.booking_status import CANCELLED, CONFIRMED, PAID, PAY_PENDING, PENDING, REFUNDED
from lutea.clock import now
from lutea.data.mongo import equalities, get_db, half_open_range, register_indexes
from lutea.data.owed import OwedRepository, with_owed

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import BookingDoc, OwedEntryDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "bookings"


def _overdue_hold(cutoff: datetime) -> dict[str, Any]:
    """PENDING bookings still holding seats whose payment window closed by ``cutoff``."""
    return {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True, "expiresAt": {"$lte": cutoff}}


@register_indexes
def _indexes(db: IndexTarget) -> None:
    col = db[COLLECTION]
    col.create_index("userId")
    col.create_index("retreatId")
    col.create_index([("dateId", 1), ("createdAt", 1)])  # a date block's roster and filter; seat reconciliation
    col.create_index([("createdAt", DESCENDING), ("_id", DESCENDING)])  # the admin list's sort
    col.create_index([("statut", 1), ("expiresAt", 1)])  # the expiry sweep
    # One booking per PaymentIntent (the webhook finds the booking by it).
    col.create_index(
        "stripePaymentIntentId",
        name="stripePaymentIntentId_unique",
        unique=True,
        partialFilterExpression={"stripePaymentIntentId": {"$type": "string"}},
    )
    col.create_index("owed", sparse=True)  # the owed-effects job
    col.create_index([("holdKeys", 1), ("statut", 1)], sparse=True)  # what one client holds unpaid
    col.create_index([("createdAt", DESCENDING), ("retreatId", 1), ("dateStart", 1)])  # discrepancy check


class BookingFilter(NamedTuple):
    """The admin's filters; ``None`` means any. ``start_from`` / ``start_before``: the stay's
    ``dateStart`` in ``[start_from, start_before)``."""

    status: str | None = None
    payment_status: str | None = None
    retreat_id: ObjectId | None = None
    date_id: ObjectId | None = None
    start_from: datetime | None = None
    start_before: datetime | None = None
    statuses: tuple[str, ...] | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.status is not None:
            query["statut"] = self.status
        elif self.statuses is not None:
            query["statut"] = {"$in": list(self.statuses)}
        if self.payment_status is not None:
            query["statutPaiement"] = self.payment_status
        if self.retreat_id is not None:
            query["retreatId"] = self.retreat_id
        if self.date_id is not None:
            query["dateId"] = self.date_id
        if (bounds := half_open_range(self.start_from, self.start_before)) is not None:
            query["dateStart"] = bounds
        return query


NEWEST_FIRST = [("createdAt", DESCENDING), ("_id", DESCENDING)]


class BookingRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._db = db if db is not None else get_db()
        self._col: Collection[BookingDoc] = self._db[COLLECTION]
        self._rows: Collection[dict[str, Any]] = self._db[COLLECTION]  # its aggregations' rows

    def insert(self, doc: BookingDoc) -> BookingDoc:
        self._col.insert_one(doc)
        return doc

    def get(self, booking_id: ObjectId) -> BookingDoc | None:
        return self._col.find_one({"_id": booking_id})

    def find_by_payment_intent(self, pi_id: str) -> BookingDoc | None:
        return self._col.find_one({"stripePaymentIntentId": pi_id})

    def list_for_user(self, user_id: ObjectId) -> list[BookingDoc]:
        return list(self._col.find({"userId": user_id}).sort([("createdAt", DESCENDING), ("_id", DESCENDING)]))

    def list_all(self) -> list[BookingDoc]:
        return list(self._col.find({}).sort(NEWEST_FIRST))

    def list_filtered(self, where: BookingFilter, *, skip: int = 0, limit: int = 0) -> list[BookingDoc]:
        """Newest first (``_id`` breaks ties, so pages never overlap); ``limit`` 0: all."""
        return list(self._col.find(where.query()).sort(NEWEST_FIRST).skip(skip).limit(limit))

    def count_filtered(self, where: BookingFilter) -> int:
        return int(self._col.count_documents(where.query()))

    def list_for_date_block(self, date_id: ObjectId, statuses: tuple[str, ...]) -> list[BookingDoc]:
        """A date block's bookings in these statuses, oldest first (the roster's order)."""
        return list(self._col.find({"dateId": date_id, "statut": {"$in": list(statuses)}}).sort([("createdAt", 1), ("_id", 1)]))

    def list_created_since(self, since: datetime) -> list[BookingDoc]:
        return list(self._col.find({"createdAt": {"$gte": since}}).sort([("createdAt", DESCENDING)]))

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._rows.aggregate([{"$group": {"_id": "$statut", "n": {"$sum": 1}}}]):
            counts[str(row["_id"])] = int(row["n"])
        return counts

    def revenue_cents(self) -> int:
        """The total (cents) of the CONFIRMED and PAID bookings."""
        rows = list(
            self._rows.aggregate(
                [
                    {"$match": {"statut": CONFIRMED, "statutPaiement": PAID}},
                    {"$group": {"_id": None, "cents": {"$sum": "$prixTotalCents"}}},
                ]
            )
        )
        return int(rows[0]["cents"]) if rows else 0

    def overdue_held_places(self, date_id: ObjectId, cutoff: datetime) -> int:
        """Seats of date block ``date_id`` held by PENDING bookings whose payment window closed
        by ``cutoff`` (they count as free: the next reservation expires them)."""
        rows = list(
            self._rows.aggregate(
                [
                    {"$match": {**_overdue_hold(cutoff), "dateId": date_id}},
                    {"$group": {"_id": None, "n": {"$sum": "$nbPlaces"}}},
                ]
            )
        )
        return int(rows[0]["n"]) if rows else 0

    def unpaid_holds(self, hold_keys: list[str], at: datetime) -> list[BookingDoc]:
        """``{holdKeys, nbPlaces, expiresAt}`` of the PENDING bookings made by any of the clients
        ``hold_keys`` (lutea.domain.bookings.hold_keys) that still hold seats in their payment
        window at ``at``: one query for all of them."""
        return list(
            self._col.find(
                {"holdKeys": {"$in": hold_keys}, "statut": "PENDING", "seatsHeld": True, "expiresAt": {"$gt": at}},
                {"_id": 0, "holdKeys": 1, "nbPlaces": 1, "expiresAt": 1},
            )
        )

    def overdue_hold_ids(self, cutoff: datetime, *, date_id: ObjectId | None = None, limit: int = 500) -> list[ObjectId]:
        """PENDING bookings still holding seats (of date block ``date_id`` when given) whose
        payment window closed by ``cutoff``."""
        match = _overdue_hold(cutoff) if date_id is None else {**_overdue_hold(cutoff), "dateId": date_id}
        return [d["_id"] for d in self._col.find(match, {"_id": 1}).limit(limit)]

    def holding_seats_on(self, date_id: ObjectId) -> list[BookingDoc]:
        """Bookings holding seats of date block ``date_id`` (the seat reconciliation)."""
        return list(self._col.find({"dateId": date_id, "seatsHeld": True}, {"nbPlaces": 1, "updatedAt": 1, "dateId": 1}))

    def states_of(self, booking_ids: list[ObjectId]) -> list[BookingDoc]:
        return list(self._col.find({"_id": {"$in": booking_ids}}, {"seatsHeld": 1, "dateId": 1, "updatedAt": 1, "nbPlaces": 1}))

    def detach_user(self, user_id: ObjectId) -> int:
        """The account is deleted: its bookings become guest-like (history and billing data
        kept, no owner)."""
        result = self._col.update_many({"userId": user_id}, {"$set": {"userId": None, "isGuest": True, "updatedAt": now()}})
        return int(result.modified_count)

    def has_pending_for_user(self, user_id: ObjectId) -> bool:
        return self._col.find_one({"userId": user_id, "statut": "PENDING"}, {"_id": 1}) is not None

    def anonymise_user_bookings(self, user_id: ObjectId, *, placeholder: str) -> int:
        """The account is erased: its bookings stay (accounting keeps them) without anything
        that names or reaches the person: participants' names and emails, billing address and
        phone replaced, notes and the guest proof removed, no owner. Country and amounts stay.
        Idempotent (a rerun finds no booking left with this owner)."""
        count = 0
        for doc in self._col.find({"userId": user_id}, {"participants": 1}):
            participants = [
                {"_id": p.get("_id"), "prenom": placeholder, "nom": placeholder, "email": ""}
                for p in doc.get("participants") or []
            ]
            result = self._col.update_one(
                {"_id": doc["_id"], "userId": user_id},
                {
                    "$set": {
                        "userId": None,
                        "isGuest": True,
                        "participants": participants,
                        "billingAddress.address": placeholder,
                        "billingAddress.city": placeholder,
                        "billingAddress.postalCode": "",
                        "billingAddress.phone": "",
                        "anonymisedAt": now(),
                        "updatedAt": now(),
                    },
                    "$unset": {"notes": "", "guestTokenHash": ""},
                },
            )
            count += int(result.modified_count)
        return count

    def transition(
        self,
        booking_id: ObjectId,
        precondition: dict[str, Any],
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        owe: dict[str, OwedEntryDoc] | None = None,
    ) -> BookingDoc | None:
        """Apply ``changes`` if the booking still matches ``precondition``, atomically, and
        record the side effects it ``owe``s in the same update (lutea.domain.owed_effects).

        Returns the document as it was BEFORE the update (so the caller sees, e.g., whether
        seats were held), or ``None`` when the precondition no longer holds (someone else won).
        """
        return self._apply(booking_id, equalities(precondition), changes, unset=unset, owe=owe)

    def _apply(
        self,
        booking_id: ObjectId,
        match: dict[str, Any],
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        owe: dict[str, OwedEntryDoc] | None = None,
    ) -> BookingDoc | None:
        update: dict[str, Any] = {"$set": {**changes, "updatedAt": now()}}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        return self._col.find_one_and_update(
            {"_id": booking_id, **match}, with_owed(update, owe), return_document=ReturnDocument.BEFORE
        )

    def expire_overdue_hold(
        self,
        booking_id: ObjectId,
        cutoff: datetime,
        *,
        date_id: ObjectId | None,
        payment_intent_id: str | None,
        changes: dict[str, Any],
        owe: dict[str, OwedEntryDoc] | None = None,
    ) -> BookingDoc | None:
        """``transition`` of a booking still an overdue hold at ``cutoff`` (see
        ``overdue_hold_ids``; on date block ``date_id`` when given) whose PaymentIntent is
        still ``payment_intent_id`` (None: it has none)."""
        match = _overdue_hold(cutoff) if date_id is None else {**_overdue_hold(cutoff), "dateId": date_id}
        return self._apply(booking_id, {**match, "stripePaymentIntentId": payment_intent_id}, changes, owe=owe)

    def cancel_unpaid_hold(
        self, booking_id: ObjectId, *, payment_intent_id: str | None, changes: dict[str, Any]
    ) -> BookingDoc | None:
        """``transition`` of a PENDING booking, payment PENDING, holding its seats; with
        ``payment_intent_id``, only while that is its PaymentIntent or it has none (an older
        attempt can't touch a booking being paid by a newer one)."""
        match: dict[str, Any] = {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}
        if payment_intent_id is not None:
            match["stripePaymentIntentId"] = {"$in": [payment_intent_id, None]}
        return self._apply(booking_id, match, changes)

    def mark_refunded_if_open(
        self, booking_id: ObjectId, changes: dict[str, Any], *, owe: dict[str, OwedEntryDoc] | None = None
    ) -> BookingDoc | None:
        """``transition`` of a booking neither REFUNDED nor CANCELLED."""
        return self._apply(booking_id, {"statutPaiement": {"$ne": REFUNDED}, "statut": {"$ne": CANCELLED}}, changes, owe=owe)

    def mark_refunded_unless_refunded(
        self, booking_id: ObjectId, changes: dict[str, Any], *, owe: dict[str, OwedEntryDoc] | None = None
    ) -> BookingDoc | None:
        """``transition`` of a booking whose payment is not REFUNDED yet (cancelled or not)."""
        return self._apply(booking_id, {"statutPaiement": {"$ne": REFUNDED}}, changes, owe=owe)

    def complete_late_refund(
        self,
        booking_id: ObjectId,
        key: str,
        *,
        payment_intent_id: str,
        changes: dict[str, Any],
        owe: dict[str, OwedEntryDoc] | None = None,
        otherwise_owe: dict[str, OwedEntryDoc] | None = None,
    ) -> BookingDoc | None:
        """Finish the owed refund ``key`` (lutea.data.owed.OwedRepository.complete): if the
        booking is still paid by ``payment_intent_id`` and not REFUNDED yet, apply ``changes``
        and owe ``owe`` in the same update; otherwise only ``otherwise_owe``. The booking as it
        was before, or None."""
        before = OwedRepository(COLLECTION, self._db).complete(
            booking_id,
            key,
            precondition={"stripePaymentIntentId": payment_intent_id},
            unless={"statutPaiement": REFUNDED},
            changes=changes,
            owe=owe,
            otherwise_owe=otherwise_owe,
        )
        return cast("BookingDoc | None", before)  # a document of this repository's collection

    def update_if(
        self,
        booking_id: ObjectId,
        precondition: dict[str, Any],
        changes: dict[str, Any],
        *,
        owe: dict[str, OwedEntryDoc] | None = None,
    ) -> BookingDoc | None:
        """As ``transition`` but returns the document AFTER the update (``None`` if no match)."""
        return self._col.find_one_and_update(
            {"_id": booking_id, **equalities(precondition)},
            with_owed({"$set": {**changes, "updatedAt": now()}}, owe),
            return_document=ReturnDocument.AFTER,
        )
