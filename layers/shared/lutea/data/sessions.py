"""Refresh-token families (one per sign-in), for rotation and reuse detection (RFC 9700 §4.14.2).

A family stores the id (jti) of the only refresh token currently valid. Rotation is one
conditional update on that jti; presenting any other jti of a live family is a reuse and
revokes the family.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from lutea.clock import as_utc, now
from lutea.data.mongo import get_db, register_indexes

COLLECTION = "refreshfamilies"


@register_indexes
def _indexes(db: Any) -> None:
    db[COLLECTION].create_index("userId")
    db[COLLECTION].create_index("expiresAt", expireAfterSeconds=0)


def is_live(doc: dict | None) -> bool:
    """A family that exists, is not revoked and has not expired."""
    return doc is not None and not doc["revoked"] and as_utc(doc["expiresAt"]) > now()


class SessionFamilyRepository:
    def __init__(self, db: Any = None) -> None:
        self._col = (db or get_db())[COLLECTION]

    def create(self, *, family_id: str, user_id: str, jti: str, mfa: bool, expires_at: datetime) -> None:
        self._col.insert_one({
            "_id": family_id, "userId": user_id, "currentJti": jti, "mfa": mfa,
            "revoked": False, "createdAt": now(), "expiresAt": expires_at,
        })

    def get(self, family_id: str) -> dict | None:
        return self._col.find_one({"_id": family_id})

    def is_active(self, family_id: str) -> bool:
        return is_live(self._col.find_one({"_id": family_id}, {"revoked": 1, "expiresAt": 1}))

    def rotate(self, *, family_id: str, user_id: str, old_jti: str, new_jti: str,
               expires_at: datetime) -> dict | None:
        """The family as it was, when it is live, belongs to ``user_id`` and ``old_jti`` was its
        current token (now replaced); None otherwise (nothing changed). One round trip."""
        return self._col.find_one_and_update(
            {"_id": family_id, "userId": user_id, "currentJti": old_jti, "revoked": False,
             "expiresAt": {"$gt": now()}},
            {"$set": {"currentJti": new_jti, "expiresAt": expires_at, "rotatedAt": now()}},
        )

    def revoke(self, family_id: str) -> None:
        self._col.update_one({"_id": family_id}, {"$set": {"revoked": True, "revokedAt": now()}})

    def revoke_all_for_user(self, user_id: str) -> int:
        result = self._col.update_many({"userId": user_id, "revoked": False},
                                       {"$set": {"revoked": True, "revokedAt": now()}})
        return result.modified_count
