"""Refresh-token families (one per sign-in), for rotation and reuse detection (RFC 9700 §4.14.2).

A family stores the id (jti) of the only refresh token currently valid. Rotation is one
conditional update on that jti; presenting any other jti of a live family is a reuse and
revokes the family.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo.collection import Collection

from lutea.clock import as_utc, now
from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import SessionFamilyDoc
    from lutea.data.mongo import IndexTarget

COLLECTION = "refreshfamilies"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    db[COLLECTION].create_index("userId")
    db[COLLECTION].create_index("expiresAt", expireAfterSeconds=0)


def is_live(doc: SessionFamilyDoc | None, *, user_id: str | None = None) -> bool:
    """A family that exists, is not revoked, has not expired (sliding) nor ended (absolute),
    and, when ``user_id`` is given, is that user's."""
    if doc is None or doc["revoked"] or as_utc(doc["expiresAt"]) <= now():
        return False
    if user_id is not None and doc.get("userId") != user_id:
        return False
    return doc.get("endsAt") is None or as_utc(doc["endsAt"]) > now()


class SessionFamilyRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[SessionFamilyDoc] = (db if db is not None else get_db())[COLLECTION]

    def create(
        self, *, family_id: str, user_id: str, jti: str, mfa: bool, expires_at: datetime, ends_at: datetime | None = None
    ) -> None:
        """``expires_at`` slides at each rotation; ``ends_at`` never moves (the absolute end)."""
        doc: SessionFamilyDoc = {
            "_id": family_id,
            "userId": user_id,
            "currentJti": jti,
            "mfa": mfa,
            "revoked": False,
            "createdAt": now(),
            "expiresAt": expires_at,
        }
        if ends_at is not None:
            doc["endsAt"] = ends_at
        self._col.insert_one(doc)

    def get(self, family_id: str) -> SessionFamilyDoc | None:
        return self._col.find_one({"_id": family_id})

    def is_active(self, family_id: str, *, user_id: str) -> bool:
        """Live, and the session of ``user_id``: a token naming someone else's family is refused."""
        doc = self._col.find_one({"_id": family_id}, {"revoked": 1, "expiresAt": 1, "endsAt": 1, "userId": 1})
        return is_live(doc, user_id=user_id)

    def rotate(
        self, *, family_id: str, user_id: str, old_jti: str, new_jti: str, expires_at: datetime, ends_at: datetime
    ) -> SessionFamilyDoc | None:
        """The family as it was, when it is live, belongs to ``user_id`` and ``old_jti`` was its
        current token (now replaced); None otherwise (nothing changed). One round trip.
        ``ends_at`` only ever moves earlier: a family from before absolute ends gets this one."""
        current = now()
        return self._col.find_one_and_update(
            {
                "_id": family_id,
                "userId": user_id,
                "currentJti": old_jti,
                "revoked": False,
                "expiresAt": {"$gt": current},
                "$or": [{"endsAt": {"$gt": current}}, {"endsAt": {"$exists": False}}],
            },
            {"$set": {"currentJti": new_jti, "expiresAt": expires_at, "rotatedAt": current}, "$min": {"endsAt": ends_at}},
        )

    def revoke(self, family_id: str) -> None:
        self._col.update_one({"_id": family_id}, {"$set": {"revoked": True, "revokedAt": now()}})

    def revoke_all_for_user(self, user_id: str) -> int:
        result = self._col.update_many({"userId": user_id, "revoked": False}, {"$set": {"revoked": True, "revokedAt": now()}})
        return result.modified_count
