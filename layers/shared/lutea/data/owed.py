"""Side effects a document owes, stored on that document: ``owed.<key>: {kind, args, attempts,
nextAttemptAt, createdAt, lastError?, alertedAt?}``.

An entry is written in the SAME single-document update as the transition that makes it owed
(``with_owed`` adds it to any update), so a function killed right after the transition leaves
the debt on record instead of losing it. Completing an entry is one update too, which may apply
a further transition and owe the next effects (``complete``). The rules (what each kind does,
when to retry) live in lutea.domain.owed_effects.

Keys are field names: letters, digits, ``_`` and ``-`` only (no ``.`` or ``$``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.collection import Collection

from lutea.clock import now
from lutea.data.mongo import equalities, get_db

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import OwedEntryDoc

FIELD = "owed"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,120}$")


def owed_entry(kind: str, args: dict[str, Any] | None = None, *, claimed_until: datetime | None = None) -> OwedEntryDoc:
    """A new entry, due now; with ``claimed_until``, already claimed by the caller that owes it
    (it does the effect right after the transition; the job takes it only past that time)."""
    stamp = now()
    return {
        "kind": kind,
        "args": dict(args or {}),
        "attempts": 0 if claimed_until is None else 1,
        "nextAttemptAt": claimed_until or stamp,
        "createdAt": stamp,
    }


def with_owed(update: dict[str, Any], owed: dict[str, OwedEntryDoc] | None) -> dict[str, Any]:
    """``update`` (a MongoDB update document) that also records the ``owed`` entries, by key."""
    if not owed:
        return update
    sets = dict(update.get("$set") or {})
    for key, entry in owed.items():
        if not _KEY.match(key):
            raise ValueError(f"owed key {key!r} is not a plain field name")
        sets[f"{FIELD}.{key}"] = entry
    return {**update, "$set": sets}


class OwedRepository:
    """Claims, completes and reschedules the owed entries of one collection's documents.

    It serves any collection (bookings, waiting-list entries): the documents it hands back are
    whatever that collection holds, ``dict[str, Any]``; the caller knows which."""

    def __init__(self, collection: str, db: Database[Any] | None = None) -> None:
        self._col: Collection[dict[str, Any]] = (db if db is not None else get_db())[collection]

    def documents_owing(self, limit: int = 200) -> list[dict[str, Any]]:
        """Documents with an ``owed`` field (oldest first): ``{_id, owed}`` only. The field may
        be an empty map (its last entry completed): ``forget_empty`` removes it."""
        return list(self._col.find({FIELD: {"$exists": True}}, {FIELD: 1}).sort("_id", 1).limit(limit))

    def forget_empty(self, doc_id: Any) -> None:
        self._col.update_one({"_id": doc_id, FIELD: {}}, {"$unset": {FIELD: ""}})

    def get(self, doc_id: Any) -> dict[str, Any] | None:
        return self._col.find_one({"_id": doc_id})

    def owe_once(self, doc_id: Any, key: str, entry: OwedEntryDoc) -> dict[str, Any] | None:
        """Record entry ``key`` unless the document already owes one under that key (a
        redelivered event owes it once). The document after, or None when it was already owed
        or there is no such document."""
        return self._col.find_one_and_update(
            {"_id": doc_id, f"{FIELD}.{key}": {"$exists": False}},
            with_owed({"$set": {"updatedAt": now()}}, {key: entry}),
            return_document=ReturnDocument.AFTER,
        )

    def claim(self, doc_id: Any, key: str, *, lease_until: datetime) -> dict[str, Any] | None:
        """Take entry ``key`` if it is due: one conditional update, so two workers never run the
        same entry at once. Returns the whole document after the claim, or None."""
        path = f"{FIELD}.{key}"
        return self._col.find_one_and_update(
            {"_id": doc_id, f"{path}.nextAttemptAt": {"$lte": now()}},
            {"$set": {f"{path}.nextAttemptAt": lease_until}, "$inc": {f"{path}.attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def complete(
        self,
        doc_id: Any,
        key: str,
        *,
        precondition: dict[str, Any] | None = None,
        unless: dict[str, Any] | None = None,
        changes: dict[str, Any] | None = None,
        owe: dict[str, OwedEntryDoc] | None = None,
        otherwise_owe: dict[str, OwedEntryDoc] | None = None,
    ) -> dict[str, Any] | None:
        """Remove entry ``key`` and, in the same update, apply ``changes`` and owe the next
        entries, if the document still matches ``precondition`` (field equalities) and none of
        the fields of ``unless`` holds the value given there. Returns the document BEFORE the
        update, or None when the entry was already gone or the precondition no longer holds:
        then the entry is removed with only ``otherwise_owe`` owed (the transition is moot)."""
        path = f"{FIELD}.{key}"
        if not (precondition or unless or changes or owe):  # the usual case: one plain update
            self._col.update_one({"_id": doc_id, path: {"$exists": True}}, {"$unset": {path: ""}})
            return None
        differs = {field: {"$ne": value} for field, value in equalities(unless or {}).items()}
        before = self._col.find_one_and_update(
            {"_id": doc_id, path: {"$exists": True}, **equalities(precondition or {}), **differs},
            self._completion(path, changes, owe),
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            self._col.update_one({"_id": doc_id, path: {"$exists": True}}, self._completion(path, None, otherwise_owe))
        return before

    @staticmethod
    def _completion(path: str, changes: dict[str, Any] | None, owe: dict[str, OwedEntryDoc] | None) -> dict[str, Any]:
        update: dict[str, Any] = {"$unset": {path: ""}}
        if changes or owe:
            update["$set"] = {**(changes or {}), "updatedAt": now()}
        return with_owed(update, owe)

    def reschedule(self, doc_id: Any, key: str, *, next_attempt: datetime, error: str) -> None:
        path = f"{FIELD}.{key}"
        self._col.update_one(
            {"_id": doc_id, path: {"$exists": True}},
            {"$set": {f"{path}.nextAttemptAt": next_attempt, f"{path}.lastError": error[:200]}},
        )

    def make_due(self, doc_id: Any) -> None:
        """Every entry of the document due now (someone asked to try again at once)."""
        doc = self._col.find_one({"_id": doc_id}, {FIELD: 1}) or {}
        stamp = now()
        for key in doc.get(FIELD) or {}:
            self._col.update_one(
                {"_id": doc_id, f"{FIELD}.{key}": {"$exists": True}}, {"$set": {f"{FIELD}.{key}.nextAttemptAt": stamp}}
            )

    def mark_alerted(self, doc_id: Any, key: str) -> bool:
        """Note that the admin was told about entry ``key``; False when someone already did."""
        path = f"{FIELD}.{key}"
        result = self._col.update_one(
            {"_id": doc_id, path: {"$exists": True}, f"{path}.alertedAt": None}, {"$set": {f"{path}.alertedAt": now()}}
        )
        return result.modified_count == 1
