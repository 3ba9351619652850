"""The ``bookings`` collection.

Every status change is ONE conditional single-document update whose filter states the
precondition (the current status, ``seatsHeld: true``...): when two callers race, exactly one
matches, and only that one goes on to release seats or send emails. This repository knows how
to apply a transition; which transitions are allowed is the domain's business
(lutea.domain.booking_lifecycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument

from lutea.clock import now
from lutea.data.mongo import get_db, half_open_range, register_indexes
from lutea.data.owed import with_owed

COLLECTION = "bookings"


@register_indexes
def _indexes(db: Any) -> None:
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


@dataclass(frozen=True)
class BookingFilter:
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
    def __init__(self, db: Any = None) -> None:
        self._col = (db or get_db())[COLLECTION]

    def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        self._col.insert_one(doc)
        return doc

    def get(self, booking_id: ObjectId) -> dict | None:
        return self._col.find_one({"_id": booking_id})

    def find_by_payment_intent(self, pi_id: str) -> dict | None:
        return self._col.find_one({"stripePaymentIntentId": pi_id})

    def list_for_user(self, user_id: ObjectId) -> list[dict]:
        return list(self._col.find({"userId": user_id}).sort([("createdAt", DESCENDING), ("_id", DESCENDING)]))

    def list_all(self) -> list[dict]:
        return list(self._col.find({}).sort(NEWEST_FIRST))

    def list_filtered(self, where: BookingFilter, *, skip: int = 0, limit: int = 0) -> list[dict]:
        """Newest first (``_id`` breaks ties, so pages never overlap); ``limit`` 0: all."""
        return list(self._col.find(where.query()).sort(NEWEST_FIRST).skip(skip).limit(limit))

    def count_filtered(self, where: BookingFilter) -> int:
        return int(self._col.count_documents(where.query()))

    def list_for_date_block(self, date_id: ObjectId, statuses: tuple[str, ...]) -> list[dict]:
        """A date block's bookings in these statuses, oldest first (the roster's order)."""
        return list(self._col.find({"dateId": date_id, "statut": {"$in": list(statuses)}}).sort([("createdAt", 1), ("_id", 1)]))

    def list_created_since(self, since: datetime) -> list[dict]:
        return list(self._col.find({"createdAt": {"$gte": since}}).sort([("createdAt", DESCENDING)]))

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._col.aggregate([{"$group": {"_id": "$statut", "n": {"$sum": 1}}}]):
            counts[str(row["_id"])] = int(row["n"])
        return counts

    def sum_total_cents(self, match: dict[str, Any]) -> int:
        rows = list(
            self._col.aggregate(
                [
                    {"$match": match},
                    {"$group": {"_id": None, "cents": {"$sum": "$prixTotalCents"}}},
                ]
            )
        )
        return int(rows[0]["cents"]) if rows else 0

    def sum_places(self, match: dict[str, Any]) -> int:
        rows = list(
            self._col.aggregate(
                [
                    {"$match": match},
                    {"$group": {"_id": None, "n": {"$sum": "$nbPlaces"}}},
                ]
            )
        )
        return int(rows[0]["n"]) if rows else 0

    def unpaid_holds(self, hold_keys: list[str], at: datetime) -> list[dict[str, Any]]:
        """``{holdKeys, nbPlaces, expiresAt}`` of the PENDING bookings made by any of the clients
        ``hold_keys`` (lutea.domain.bookings.hold_keys) that still hold seats in their payment
        window at ``at``: one query for all of them."""
        return list(
            self._col.find(
                {"holdKeys": {"$in": hold_keys}, "statut": "PENDING", "seatsHeld": True, "expiresAt": {"$gt": at}},
                {"_id": 0, "holdKeys": 1, "nbPlaces": 1, "expiresAt": 1},
            )
        )

    def ids_matching(self, match: dict[str, Any], limit: int = 500) -> list[ObjectId]:
        return [d["_id"] for d in self._col.find(match, {"_id": 1}).limit(limit)]

    def holding_seats_on(self, date_id: ObjectId) -> list[dict]:
        """Bookings holding seats of date block ``date_id`` (the seat reconciliation)."""
        return list(self._col.find({"dateId": date_id, "seatsHeld": True}, {"nbPlaces": 1, "updatedAt": 1, "dateId": 1}))

    def states_of(self, booking_ids: list[ObjectId]) -> list[dict]:
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
        owe: dict[str, dict[str, Any]] | None = None,
    ) -> dict | None:
        """Apply ``changes`` if the booking still matches ``precondition``, atomically, and
        record the side effects it ``owe``s in the same update (lutea.domain.owed_effects).

        Returns the document as it was BEFORE the update (so the caller sees, e.g., whether
        seats were held), or ``None`` when the precondition no longer holds (someone else won).
        """
        update: dict[str, Any] = {"$set": {**changes, "updatedAt": now()}}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        return self._col.find_one_and_update(
            {"_id": booking_id, **precondition}, with_owed(update, owe), return_document=ReturnDocument.BEFORE
        )

    def update_if(
        self,
        booking_id: ObjectId,
        precondition: dict[str, Any],
        changes: dict[str, Any],
        *,
        owe: dict[str, dict[str, Any]] | None = None,
    ) -> dict | None:
        """As ``transition`` but returns the document AFTER the update (``None`` if no match)."""
        return self._col.find_one_and_update(
            {"_id": booking_id, **precondition},
            with_owed({"$set": {**changes, "updatedAt": now()}}, owe),
            return_document=ReturnDocument.AFTER,
        )
