"""The ``emailfailures`` collection: emails that could not be delivered, kept for a later retry.

Storage and queries only. What a stored message holds, and how it is sent again, is the email
package's business (lutea.email.failures); this module never sees an email object, only the
document it was turned into. Documents expire after ``RETENTION`` (they carry addresses:
personal data).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.collection import Collection

from lutea.clock import as_utc, now
from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import EmailFailureDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "emailfailures"
RETENTION = timedelta(days=30)
MAX_ATTEMPTS = 6  # the original failure plus five retries
# Between retries: 5 min, 15 min, 45 min, ... (a claimed document is also hidden this long).
BASE_DELAY = timedelta(minutes=5)


@register_indexes
def _indexes(db: IndexTarget) -> None:
    db[COLLECTION].create_index([("status", 1), ("nextAttemptAt", 1)])
    db[COLLECTION].create_index("expiresAt", expireAfterSeconds=0)


def _backoff(attempts: int) -> timedelta:
    factor: int = 3 ** max(0, attempts - 1)  # a non-negative exponent: an int
    return BASE_DELAY * factor


class EmailFailureRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[EmailFailureDoc] = (db if db is not None else get_db())[COLLECTION]

    def record(self, message_document: EmailFailureDoc, error: str) -> ObjectId:
        """Keep a message (as lutea.email.failures.message_to_document wrote it) for a retry."""
        stamp = now()
        doc: EmailFailureDoc = {
            **message_document,
            "status": "pending",
            "attempts": 1,
            "lastError": error,
            "createdAt": stamp,
            "updatedAt": stamp,
            "nextAttemptAt": stamp + _backoff(1),
            "expiresAt": stamp + RETENTION,
        }
        inserted: ObjectId = self._col.insert_one(doc).inserted_id  # pymongo gives it an ObjectId
        return inserted

    def claim_due(self) -> EmailFailureDoc | None:
        """Take one due message: one conditional update, so two workers never send the same one."""
        stamp = now()
        return self._col.find_one_and_update(
            {"status": "pending", "nextAttemptAt": {"$lte": stamp}},
            {"$set": {"nextAttemptAt": stamp + BASE_DELAY, "updatedAt": stamp}, "$inc": {"attempts": 1}},
            sort=[("nextAttemptAt", 1)],
            return_document=True,
        )

    def mark_sent(self, failure_id: ObjectId) -> None:
        self._col.delete_one({"_id": failure_id})

    def mark_failed(self, failure_id: ObjectId, attempts: int, error: str) -> bool:
        """True when the message is abandoned (too many attempts)."""
        stamp = now()
        abandoned = attempts >= MAX_ATTEMPTS
        self._col.update_one(
            {"_id": failure_id},
            {
                "$set": {
                    "status": "abandoned" if abandoned else "pending",
                    "lastError": error,
                    "updatedAt": stamp,
                    "nextAttemptAt": stamp + _backoff(attempts),
                }
            },
        )
        return abandoned

    def list(self, status: str | None = None) -> list[EmailFailureDoc]:
        query = {} if status is None else {"status": status}
        return list(self._col.find(query).sort("createdAt", 1))

    def oldest_pending_since(self) -> datetime | None:
        """When the oldest message still owed (pending a retry) first failed, if any."""
        doc = self._col.find_one({"status": "pending"}, {"createdAt": 1}, sort=[("createdAt", 1)])
        return as_utc(doc["createdAt"]) if doc else None


__all__ = ["COLLECTION", "MAX_ATTEMPTS", "RETENTION", "EmailFailureRepository"]
