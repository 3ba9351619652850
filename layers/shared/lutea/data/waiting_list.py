"""The ``waitinglist`` collection: one entry per person waiting for seats of a date block.

``{_id, retreatId, dateId, nbPlaces, email, prenom, userId, statut, tokenVersion, seatsHeld,
offeredAt?, offerExpiresAt?, offerEmailOwed?, bookingId?, joinEmails, active, createdAt, updatedAt}``

``active`` is true exactly while ``statut`` is WAITING or OFFERED (kept so by ``insert`` and
``transition``): a partial unique index on ``(email, dateId)`` over active entries puts one
address in a block's line once, however many joins race.

As for bookings, every status change is one conditional single-document update whose filter
is the state it leaves (lutea.domain.waiting_list decides which changes are allowed): when two
callers race, one wins and only the winner touches the seat counter or sends an email.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from lutea.clock import as_utc, now
from lutea.data.mongo import equalities, get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import WaitingListEntryDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "waitinglist"
WAITING, OFFERED, BOOKED, LEFT, EXPIRED = "WAITING", "OFFERED", "BOOKED", "LEFT", "EXPIRED"
ACTIVE = (WAITING, OFFERED)


@register_indexes
def _indexes(db: IndexTarget) -> None:
    col = db[COLLECTION]
    col.create_index([("dateId", ASCENDING), ("statut", ASCENDING), ("createdAt", ASCENDING), ("_id", ASCENDING)])
    col.create_index([("statut", ASCENDING), ("offerExpiresAt", ASCENDING)])
    col.create_index([("retreatId", ASCENDING), ("createdAt", ASCENDING)])
    col.create_index([("email", ASCENDING), ("dateId", ASCENDING)])
    col.create_index(
        [("email", ASCENDING), ("dateId", ASCENDING)],
        unique=True,
        partialFilterExpression={"active": True},
        name="one_active_entry_per_address",
    )


class WaitingListRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[WaitingListEntryDoc] = (db if db is not None else get_db())[COLLECTION]

    def insert(self, doc: WaitingListEntryDoc) -> WaitingListEntryDoc:
        doc["active"] = doc.get("statut") in ACTIVE
        self._col.insert_one(doc)
        return doc

    def insert_unless_active(self, doc: WaitingListEntryDoc) -> tuple[WaitingListEntryDoc, bool]:
        """``(entry, True)`` once ``doc`` is stored; ``(the address's active entry on that
        block, False)`` when one exists, even one a concurrent join has just inserted."""
        try:
            return self.insert(doc), True
        except DuplicateKeyError:
            existing = self.active_for(doc["email"], doc["dateId"])
            if existing is None:  # it left the line meanwhile: this join is a new one
                return self.insert(doc), True
            return existing, False

    def get(self, entry_id: ObjectId) -> WaitingListEntryDoc | None:
        return self._col.find_one({"_id": entry_id})

    def list_for_person(self, user_id: ObjectId, email: str) -> list[WaitingListEntryDoc]:
        """Every entry of one person: made while signed in, or under her address."""
        return list(self._col.find({"$or": [{"userId": user_id}, {"email": email}]}).sort("createdAt", ASCENDING))

    def delete_ended(self, entry_id: ObjectId) -> bool:
        """Delete an entry that no longer holds seats (left, expired, booked)."""
        return self._col.delete_one({"_id": entry_id, "statut": {"$nin": list(ACTIVE)}}).deleted_count == 1

    def active_for(self, email: str, date_id: ObjectId) -> WaitingListEntryDoc | None:
        """The person's entry still waiting or offered on this date block."""
        return self._col.find_one({"email": email, "dateId": date_id, "statut": {"$in": list(ACTIVE)}})

    def first_fitting(self, date_id: ObjectId, free: int) -> WaitingListEntryDoc | None:
        """The first in line (oldest) still waiting whose request fits in ``free`` seats."""
        found = (
            self._col.find({"dateId": date_id, "statut": WAITING, "nbPlaces": {"$lte": free}})
            .sort([("createdAt", ASCENDING), ("_id", ASCENDING)])
            .limit(1)
        )
        return next(iter(found), None)

    def waiting_ahead(self, entry: WaitingListEntryDoc) -> int:
        """How many entries of the same block were waiting before this one."""
        return self._col.count_documents(
            {
                "dateId": entry["dateId"],
                "statut": WAITING,
                "$or": [
                    {"createdAt": {"$lt": entry["createdAt"]}},
                    {"createdAt": entry["createdAt"], "_id": {"$lt": entry["_id"]}},
                ],
            }
        )

    def dates_with_waiting(self, limit: int = 500) -> list[ObjectId]:
        return list(self._col.distinct("dateId", {"statut": WAITING}))[:limit]

    def overdue_offer_ids(self, at: datetime, limit: int = 200) -> list[ObjectId]:
        return [
            d["_id"]
            for d in self._col.find({"statut": OFFERED, "seatsHeld": True, "offerExpiresAt": {"$lte": at}}, {"_id": 1}).limit(
                limit
            )
        ]

    def owed_offer_email_ids(self, offered_before: datetime, limit: int = 200) -> list[ObjectId]:
        return [
            d["_id"]
            for d in self._col.find(
                {"statut": OFFERED, "offerEmailOwed": True, "offeredAt": {"$lte": offered_before}}, {"_id": 1}
            ).limit(limit)
        ]

    def holding_seats_on(self, date_id: ObjectId) -> list[WaitingListEntryDoc]:
        """Offers holding seats of date block ``date_id`` (the seat reconciliation)."""
        return list(self._col.find({"dateId": date_id, "seatsHeld": True}, {"nbPlaces": 1, "updatedAt": 1}))

    def list_for_retreat(self, retreat_id: ObjectId) -> list[WaitingListEntryDoc]:
        return list(self._col.find({"retreatId": retreat_id}).sort([("createdAt", ASCENDING), ("_id", ASCENDING)]))

    def transition_live_offer(self, entry_id: ObjectId, *, at: datetime, changes: dict[str, Any]) -> WaitingListEntryDoc | None:
        """``transition`` of an offer still OFFERED, holding its seats, unexpired at ``at``."""
        return self._apply(entry_id, {"statut": OFFERED, "seatsHeld": True, "offerExpiresAt": {"$gt": at}}, changes)

    def transition_overdue_offer(
        self, entry_id: ObjectId, *, at: datetime, changes: dict[str, Any]
    ) -> WaitingListEntryDoc | None:
        """``transition`` of an offer still OFFERED, holding its seats, expired by ``at``."""
        return self._apply(entry_id, {"statut": OFFERED, "seatsHeld": True, "offerExpiresAt": {"$lte": at}}, changes)

    def transition(
        self,
        entry_id: ObjectId,
        precondition: dict[str, Any],
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        inc: dict[str, int] | None = None,
    ) -> WaitingListEntryDoc | None:
        """Apply ``changes`` if the entry still matches ``precondition`` (field equalities: any
        other condition is a named method), atomically; the entry as it was BEFORE, or None when
        someone else changed it first."""
        return self._apply(entry_id, equalities(precondition), changes, unset=unset, inc=inc)

    def _apply(
        self,
        entry_id: ObjectId,
        precondition: dict[str, Any],
        changes: dict[str, Any],
        *,
        unset: tuple[str, ...] = (),
        inc: dict[str, int] | None = None,
    ) -> WaitingListEntryDoc | None:
        update: dict[str, Any] = {"$set": {**changes, "updatedAt": now()}}
        if "statut" in changes:
            update["$set"]["active"] = changes["statut"] in ACTIVE
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        if inc:
            update["$inc"] = inc
        try:
            return self._col.find_one_and_update({"_id": entry_id, **precondition}, update, return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:
            # Back in line (an offer whose booking could not be stored) while the address
            # joined again meanwhile: the move still happens, outside the unique index.
            update["$set"]["active"] = False
            return self._col.find_one_and_update({"_id": entry_id, **precondition}, update, return_document=ReturnDocument.BEFORE)

    def record_join_email(self, entry_id: ObjectId, since: datetime, limit: int) -> bool:
        """Count one more confirmation email if fewer than ``limit`` went out since ``since``
        (at most a few per hour per entry, whoever asks)."""
        entry = self._col.find_one({"_id": entry_id}, {"joinEmails": 1}) or {}
        recent = [t for t in entry.get("joinEmails") or [] if as_utc(t) >= since]
        if len(recent) >= limit:
            return False
        result = self._col.update_one(
            {"_id": entry_id, "joinEmails": entry.get("joinEmails") or []}, {"$set": {"joinEmails": [*recent, now()]}}
        )
        return result.modified_count == 1
