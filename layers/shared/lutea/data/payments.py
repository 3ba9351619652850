"""Stripe webhook events we have processed, one document per event id (``stripeevents``).

The unique index on ``eventId`` is what makes a webhook apply once: a delivery first claims
its event with an insert, and only the claimant applies it. The claim carries a status so a
delivery whose processing failed (or whose Lambda died mid-way) can be claimed again by
Stripe's next retry; a successful one never can.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from lutea.clock import now
from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import StripeEventDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "stripeevents"
# Stripe retries a delivery for up to 3 days: remember event ids well beyond that.
RETENTION = timedelta(days=30)

PROCESSING = "processing"
DONE = "done"
FAILED = "failed"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    col = db[COLLECTION]
    col.create_index("eventId", unique=True)
    col.create_index("expiresAt", expireAfterSeconds=0)


class ProcessedEventRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[StripeEventDoc] = (db if db is not None else get_db())[COLLECTION]

    def insert_claim(self, event_id: str, event_type: str) -> bool:
        """Claim a never-seen event; False when the event id is already known."""
        stamp = now()
        try:
            self._col.insert_one(
                {
                    "eventId": event_id,
                    "type": event_type,
                    "status": PROCESSING,
                    "attempts": 1,
                    "claimedAt": stamp,
                    "createdAt": stamp,
                    "expiresAt": stamp + RETENTION,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    def reclaim(self, event_id: str, *, stale_before: datetime) -> bool:
        """Claim again an event whose processing failed, or was claimed before ``stale_before``
        and never finished (its claimant died). One conditional update: one winner."""
        result = self._col.update_one(
            {
                "eventId": event_id,
                "$or": [
                    {"status": FAILED},
                    {"status": PROCESSING, "claimedAt": {"$lt": stale_before}},
                ],
            },
            {"$set": {"status": PROCESSING, "claimedAt": now()}, "$inc": {"attempts": 1}},
        )
        return result.modified_count == 1

    def mark_done(self, event_id: str) -> None:
        self._col.update_one({"eventId": event_id}, {"$set": {"status": DONE, "processedAt": now()}, "$unset": {"error": ""}})

    def mark_failed(self, event_id: str, error: str) -> None:
        self._col.update_one(
            {"eventId": event_id, "status": PROCESSING}, {"$set": {"status": FAILED, "error": error[:200], "failedAt": now()}}
        )

    def get(self, event_id: str) -> StripeEventDoc | None:
        return self._col.find_one({"eventId": event_id})
