"""Seat counters, one document per retreat date: ``{_id: dateId, retreatId, places, held}``.

The only place where seats are taken or given back. Every change is one conditional
single-document update, atomic on MongoDB (and on the locked stand-in): a reservation can
never push ``held`` past ``places``, a release never below zero, and ``places`` can never be
set below what is held.
"""
from __future__ import annotations

from typing import Any

from bson import ObjectId

from lutea.clock import now
from lutea.data.mongo import get_db, register_indexes

COLLECTION = "seatcounters"


@register_indexes
def _indexes(db: Any) -> None:
    db[COLLECTION].create_index("retreatId")


class SeatRepository:
    def __init__(self, db: Any = None) -> None:
        self._col = (db or get_db())[COLLECTION]

    def ensure(self, *, retreat_id: ObjectId, date_id: ObjectId, places: int) -> None:
        """Create the counter of a new date block (``held`` starts at 0)."""
        self._col.update_one(
            {"_id": date_id},
            {"$setOnInsert": {"retreatId": retreat_id, "places": places, "held": 0, "createdAt": now()}},
            upsert=True,
        )

    def try_reserve(self, date_id: ObjectId, seats: int) -> bool:
        """Take ``seats`` if they are free; False (nothing changed) otherwise."""
        taken = self._col.find_one_and_update(
            {"_id": date_id, "$expr": {"$lte": [{"$add": ["$held", seats]}, "$places"]}},
            {"$inc": {"held": seats}, "$set": {"updatedAt": now()}},
        )
        return taken is not None

    def release(self, date_id: ObjectId, seats: int) -> bool:
        """Give back ``seats``. Callers release once per booking (guarded by the booking's own
        conditional transition); the ``held >= seats`` condition keeps the count sane anyway."""
        result = self._col.update_one(
            {"_id": date_id, "held": {"$gte": seats}},
            {"$inc": {"held": -seats}, "$set": {"updatedAt": now()}},
        )
        return result.modified_count == 1

    def set_places(self, date_id: ObjectId, places: int) -> bool:
        """Change the capacity; False when fewer than the seats already held."""
        result = self._col.update_one(
            {"_id": date_id, "held": {"$lte": places}}, {"$set": {"places": places, "updatedAt": now()}}
        )
        return result.matched_count == 1

    def get(self, date_id: ObjectId) -> dict | None:
        return self._col.find_one({"_id": date_id})

    def held(self, date_id: ObjectId) -> int:
        doc = self._col.find_one({"_id": date_id}, {"held": 1})
        return int(doc["held"]) if doc else 0

    def held_by_date(self, retreat_id: ObjectId) -> dict[ObjectId, int]:
        return {d["_id"]: int(d["held"]) for d in self._col.find({"retreatId": retreat_id}, {"held": 1})}

    def delete_unheld(self, date_id: ObjectId) -> bool:
        """Remove the counter of a date block that holds no seat."""
        return self._col.delete_one({"_id": date_id, "held": 0}).deleted_count == 1

    def delete_for_retreat(self, retreat_id: ObjectId) -> int:
        return self._col.delete_many({"retreatId": retreat_id}).deleted_count
