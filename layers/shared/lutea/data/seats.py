"""Seat counters, one document per retreat date:
``{_id: dateId, retreatId, places, held, holders: [{bookingId, n, at}]}``.

The only place where seats are taken or given back. Every change is one conditional
single-document update, atomic on MongoDB (and on the locked stand-in): a reservation can
never push ``held`` past ``places``, a release never below zero, and ``places`` can never be
set below what is held.

``holders`` names the booking behind every held seat: a reservation pushes its holder in the
same update as its ``$inc``, a release pulls it in the same update as its ``$dec``, so
``held == sum(holders.n)`` always, a booking holds at most once, and releasing twice gives
back once. A function killed between a counter update and the booking's own update leaves a
holder whose booking does not hold (or does not exist): the reconciliation job
(lutea.domain.seat_reconciliation) finds it and gives those seats back. Counters written
before holders existed (no ``holders`` field) are released the old way and adopted by the
reconciliation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.collection import Collection

from lutea.clock import now
from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import SeatCounterDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "seatcounters"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    db[COLLECTION].create_index("retreatId")


class SeatRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[SeatCounterDoc] = (db if db is not None else get_db())[COLLECTION]

    def ensure(self, *, retreat_id: ObjectId, date_id: ObjectId, places: int) -> None:
        """Create the counter of a new date block (``held`` starts at 0)."""
        self._col.update_one(
            {"_id": date_id},
            {
                "$setOnInsert": {
                    "retreatId": retreat_id,
                    "places": places,
                    "held": 0,
                    "holders": [],
                    "createdAt": now(),
                    "updatedAt": now(),
                }
            },
            upsert=True,
        )

    def try_reserve(self, date_id: ObjectId, seats: int, booking_id: ObjectId) -> bool:
        """Take ``seats`` for ``booking_id`` if they are free; False (nothing changed) otherwise,
        also when ``booking_id`` already holds seats here (see ``holds``)."""
        stamp = now()
        taken = self._col.find_one_and_update(
            {
                "_id": date_id,
                "holders.bookingId": {"$ne": booking_id},
                "$expr": {"$lte": [{"$add": ["$held", seats]}, "$places"]},
            },
            {
                "$inc": {"held": seats},
                "$set": {"updatedAt": stamp},
                "$push": {"holders": {"bookingId": booking_id, "n": seats, "at": stamp}},
            },
            projection={"_id": 1},
        )
        return taken is not None

    def holds(self, date_id: ObjectId, holder_id: ObjectId) -> bool:
        """Whether ``holder_id`` holds seats on this counter (a retry after a crash finds its own)."""
        return self._col.find_one({"_id": date_id, "holders.bookingId": holder_id}, {"_id": 1}) is not None

    def release(self, date_id: ObjectId, seats: int, booking_id: ObjectId) -> bool:
        """Give back the ``seats`` of ``booking_id``: idempotent (the holder is pulled in the same
        update, a second release finds nothing). A counter from before holders existed is
        released by count. False when nothing was held for this booking."""
        result = self._col.update_one(
            {"_id": date_id, "holders": {"$elemMatch": {"bookingId": booking_id, "n": seats}}},
            {"$inc": {"held": -seats}, "$pull": {"holders": {"bookingId": booking_id}}, "$set": {"updatedAt": now()}},
        )
        if result.modified_count == 1:
            return True
        result = self._col.update_one(
            {"_id": date_id, "holders": {"$exists": False}, "held": {"$gte": seats}},
            {"$inc": {"held": -seats}, "$set": {"updatedAt": now()}},
        )
        return result.modified_count == 1

    def transfer(self, date_id: ObjectId, from_id: ObjectId, to_id: ObjectId) -> bool:
        """The seats held by ``from_id`` are now ``to_id``'s (a waiting-list offer becoming a
        booking): one update, ``held`` unchanged."""
        result = self._col.update_one(
            {"_id": date_id, "holders.bookingId": from_id}, {"$set": {"holders.$.bookingId": to_id, "updatedAt": now()}}
        )
        return result.modified_count == 1

    def set_places(self, date_id: ObjectId, places: int, *, expected: int) -> bool:
        """Change the capacity from ``expected`` (the value the caller read) to ``places``; False
        when someone changed it meanwhile or fewer than the seats already held."""
        result = self._col.update_one(
            {"_id": date_id, "places": expected, "held": {"$lte": places}}, {"$set": {"places": places, "updatedAt": now()}}
        )
        return result.matched_count == 1

    # --- the reconciliation (lutea.domain.seat_reconciliation) ---------------------------------

    def all_counters(self) -> list[SeatCounterDoc]:
        return list(self._col.find({}).sort("_id", 1))

    def adopt_holder(self, counter: SeatCounterDoc, booking_id: ObjectId, seats: int, *, already_counted: bool) -> bool:
        """Name ``booking_id`` as the holder of ``seats``: seats already in ``held`` but unnamed
        (a counter from before holders), or not counted at all (then taken if free). Conditional
        on the counter as read (``updatedAt``), so a concurrent change makes it retry later."""
        query: dict[str, Any] = {
            "_id": counter["_id"],
            "updatedAt": counter.get("updatedAt"),
            "holders.bookingId": {"$ne": booking_id},
        }
        update: dict[str, Any] = {
            "$push": {"holders": {"bookingId": booking_id, "n": seats, "at": now()}},
            "$set": {"updatedAt": now()},
        }
        if not already_counted:
            query["$expr"] = {"$lte": [{"$add": ["$held", seats]}, "$places"]}
            update["$inc"] = {"held": seats}
        return self._col.update_one(query, update).modified_count == 1

    def set_held(self, counter: SeatCounterDoc, held: int) -> bool:
        """Correct ``held`` to ``held`` (the sum of its holders), if the counter is as read."""
        result = self._col.update_one(
            {"_id": counter["_id"], "updatedAt": counter.get("updatedAt"), "held": counter["held"]},
            {"$set": {"held": held, "holders": counter.get("holders") or [], "updatedAt": now()}},
        )
        return result.modified_count == 1

    def restore_places(self, counter: SeatCounterDoc, places: int) -> bool:
        """The retreat's capacity back on a counter left with another by a crash, if it is as
        read and holds no more than ``places``."""
        result = self._col.update_one(
            {"_id": counter["_id"], "places": counter["places"], "updatedAt": counter.get("updatedAt"), "held": {"$lte": places}},
            {"$set": {"places": places, "updatedAt": now()}},
        )
        return result.modified_count == 1

    def get(self, date_id: ObjectId) -> SeatCounterDoc | None:
        return self._col.find_one({"_id": date_id})

    def held(self, date_id: ObjectId) -> int:
        doc = self._col.find_one({"_id": date_id}, {"held": 1})
        return int(doc["held"]) if doc else 0

    def held_by_date(self, retreat_id: ObjectId) -> dict[ObjectId, int]:
        return {d["_id"]: int(d["held"]) for d in self._col.find({"retreatId": retreat_id}, {"held": 1})}

    def delete_unheld(self, date_id: ObjectId, *, expected_places: int | None = None) -> bool:
        """Remove the counter of a date block that holds no seat (and still has the capacity the
        caller read, when ``expected_places`` is given)."""
        query: dict[str, Any] = {"_id": date_id, "held": 0}
        if expected_places is not None:
            query["places"] = expected_places
        return self._col.delete_one(query).deleted_count == 1

    def delete_for_retreat(self, retreat_id: ObjectId) -> int:
        return self._col.delete_many({"retreatId": retreat_id}).deleted_count
