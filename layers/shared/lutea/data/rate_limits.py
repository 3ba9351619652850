"""Rate-limit counters shared by every Lambda container: one document per (bucket, client,
minute), incremented atomically, removed by a TTL index once the window has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import RateLimitCounterDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "ratelimits"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    db[COLLECTION].create_index("expiresAt", expireAfterSeconds=0)


class RateLimitRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[RateLimitCounterDoc] = (db if db is not None else get_db())[COLLECTION]

    def hit(self, key: str, window_end: datetime) -> int:
        """Count one request in the window ending at ``window_end``; returns the new count."""
        for _ in range(2):  # two first hits racing on the upsert: the loser retries as an update
            try:
                doc = self._col.find_one_and_update(
                    {"_id": key},
                    {"$inc": {"count": 1}, "$setOnInsert": {"expiresAt": window_end + timedelta(seconds=60)}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                return cast("RateLimitCounterDoc", doc)["count"]  # an upsert returning the document after: never None
            except DuplicateKeyError:
                continue
        raise RuntimeError("rate-limit counter unavailable")
