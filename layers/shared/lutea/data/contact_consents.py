"""The ``contactconsents`` collection: proof that a visitor accepted the privacy notice of the
contact form (``rgpd: true``) before her message went to the team. The message itself is not
stored (it is emailed). ``{_id, email, consentedAt, expiresAt}``; MongoDB deletes each record at
``expiresAt`` (TTL index), three years after the consent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo.collection import Collection

from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import ContactConsentDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "contactconsents"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    col = db[COLLECTION]
    col.create_index("email")
    col.create_index("expiresAt", expireAfterSeconds=0)


class ContactConsentRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[ContactConsentDoc] = (db if db is not None else get_db())[COLLECTION]

    def record(self, email: str, *, at: datetime, expires_at: datetime) -> None:
        self._col.insert_one({"_id": ObjectId(), "email": email, "consentedAt": at, "expiresAt": expires_at})

    def list_for(self, email: str) -> list[ContactConsentDoc]:
        return list(self._col.find({"email": email}).sort("consentedAt", 1))

    def delete_for(self, email: str) -> int:
        return int(self._col.delete_many({"email": email}).deleted_count)
