"""The ``retreats`` collection: storage and queries only (the rules live in lutea.domain.retreats).

Document: ``_id, titreCard, imageCard, altImageCard, imageModal[], altImageModal[], texteModal,
boutonPdfLabel?, pdfUrl?, prestationsIncluses?, dates[] of {_id, start, end, heureArrivee?, heureDepart?, prixCents,
places, adresseRdv}, aVenir, isActive, createdAt, updatedAt`` (older documents may also carry
top-level ``prix`` in euros, ``places``, ``adresseRdv``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.collection import Collection

from lutea.data.mongo import get_db, half_open_range, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import RetreatDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "retreats"
# ``updatedAt`` of the document as read, for a conditional update; MISSING skips the check.
MISSING: Any = object()


@register_indexes
def _indexes(db: IndexTarget) -> None:
    col = db[COLLECTION]
    col.create_index([("isActive", 1), ("aVenir", 1)])
    col.create_index("dates.start")
    col.create_index([("createdAt", -1)])


def _public_query(now: datetime) -> dict[str, Any]:
    """Active retreats that are "coming soon" or have a date block starting after ``now``."""
    return {
        "isActive": {"$ne": False},  # absent means active (the schema default)
        "$or": [{"aVenir": True}, {"dates": {"$elemMatch": {"start": {"$gt": now}}}}],
    }


class RetreatFilter(NamedTuple):
    """The admin's filters; ``None`` means any. ``is_active``: visible or hidden retreats;
    a date block starting in ``[start_from, start_before)``."""

    is_active: bool | None = None
    start_from: datetime | None = None
    start_before: datetime | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.is_active is not None:
            query["isActive"] = {"$ne": False} if self.is_active else False
        if (bounds := half_open_range(self.start_from, self.start_before)) is not None:
            query["dates"] = {"$elemMatch": {"start": bounds}}
        return query


class RetreatRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[RetreatDoc] = (db if db is not None else get_db())[COLLECTION]

    def get(self, retreat_id: ObjectId) -> RetreatDoc | None:
        return self._col.find_one({"_id": retreat_id})

    def list_all(self) -> list[RetreatDoc]:
        """Newest first, as the original's findAll."""
        return list(self._col.find({}).sort([("createdAt", -1), ("_id", -1)]))

    def list_filtered(self, where: RetreatFilter, *, skip: int = 0, limit: int = 0) -> list[RetreatDoc]:
        """As ``list_all`` (newest first), filtered; ``limit`` 0: all."""
        return list(self._col.find(where.query()).sort([("createdAt", -1), ("_id", -1)]).skip(skip).limit(limit))

    def count_filtered(self, where: RetreatFilter) -> int:
        return int(self._col.count_documents(where.query()))

    def list_public(self, now: datetime) -> list[RetreatDoc]:
        """Active retreats that are "coming soon" or have a date block starting after ``now``,
        in one query. The original applied no sort (natural order): ``_id`` order is insertion
        order, deterministic on every server."""
        return list(self._col.find(_public_query(now)).sort("_id", 1))

    def public_versions(self, now: datetime) -> list[tuple[ObjectId, Any]]:
        """``(_id, updatedAt)`` of the retreats ``list_public`` would return, in the same order:
        a light query that tells whether the catalogue changed."""
        return [(d["_id"], d.get("updatedAt")) for d in self._col.find(_public_query(now), {"updatedAt": 1}).sort("_id", 1)]

    def search(
        self,
        *,
        title: str | None = None,
        is_active: bool | None = None,
        min_cents: int | None = None,
        max_cents: int | None = None,
    ) -> list[RetreatDoc]:
        """``title``: case-insensitive substring of the literal text. Price bounds: the retreat
        has date blocks and none is priced outside ``[min_cents, max_cents]``."""
        query: dict[str, Any] = {}
        if title:
            query["titreCard"] = {"$regex": re.escape(title), "$options": "i"}
        if is_active is not None:
            query["isActive"] = {"$ne": False} if is_active else False
        if min_cents is not None or max_cents is not None:
            outside: list[dict[str, Any]] = []
            in_euros: dict[str, float] = {}
            if min_cents is not None:
                outside.append({"prixCents": {"$lt": min_cents}})
                in_euros["$gte"] = min_cents / 100
            if max_cents is not None:
                outside.append({"prixCents": {"$gt": max_cents}})
                in_euros["$lte"] = max_cents / 100
            # A block stored before prices moved to cents: its euro ``prix`` decides (none: no match).
            outside.append({"prixCents": {"$exists": False}, "prix": {"$not": in_euros}})
            query["dates.0"] = {"$exists": True}
            query["dates"] = {"$not": {"$elemMatch": {"$or": outside}}}
        return list(self._col.find(query).sort([("createdAt", -1), ("_id", -1)]))

    def insert(self, doc: RetreatDoc) -> RetreatDoc:
        self._col.insert_one(doc)
        return doc

    def update_fields(
        self,
        retreat_id: ObjectId,
        set_fields: dict[str, Any],
        unset_fields: list[str] | tuple[str, ...] = (),
        *,
        expected_updated_at: Any = MISSING,
    ) -> RetreatDoc | None:
        """Apply ``$set``/``$unset`` in one update and return the new document; ``None`` when the
        retreat is gone or (with ``expected_updated_at``) was changed since it was read."""
        query: dict[str, Any] = {"_id": retreat_id}
        if expected_updated_at is not MISSING:
            query["updatedAt"] = expected_updated_at
        update: dict[str, Any] = {"$set": set_fields}
        if unset_fields:
            update["$unset"] = {name: "" for name in unset_fields}
        return self._col.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)

    def set_active(self, retreat_id: ObjectId, *, was_active: bool, active: bool, updated_at: datetime) -> RetreatDoc | None:
        """Flip ``isActive`` only if it still has the value read (absent counts as active)."""
        query = {"_id": retreat_id, "isActive": {"$ne": False} if was_active else False}
        return self._col.find_one_and_update(
            query, {"$set": {"isActive": active, "updatedAt": updated_at}}, return_document=ReturnDocument.AFTER
        )

    def delete(self, retreat_id: ObjectId) -> bool:
        return self._col.delete_one({"_id": retreat_id}).deleted_count == 1
