"""The ``users`` and ``temporaryusers`` collections.

Emails are stored lower-cased and trimmed and looked up by that exact value (never a pattern).
Every change that must be atomic (lockout counter, one-time codes, single-use tokens, email
quotas) is one conditional single-document update; the thresholds come from the domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, cast, overload

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from lutea.clock import now
from lutea.data.mongo import get_db, register_indexes

if TYPE_CHECKING:
    from pymongo.database import Database

    from lutea.data.documents import TemporaryUserDoc, UserDoc
    from lutea.data.mongo import IndexTarget

USERS = "users"
TEMPORARY_USERS = "temporaryusers"


@register_indexes
def _indexes(db: IndexTarget) -> None:
    db[USERS].create_index("email", unique=True)
    db[USERS].create_index("role")
    db[USERS].create_index([("createdAt", -1)])
    db[USERS].create_index("passwordResetToken", sparse=True)
    db[TEMPORARY_USERS].create_index("email", unique=True)
    db[TEMPORARY_USERS].create_index("verificationToken")
    db[TEMPORARY_USERS].create_index("expiresAt")


@overload
def normalize_email(email: str) -> str: ...
@overload
def normalize_email(email: object) -> str | None: ...
def normalize_email(email: object) -> str | None:
    """The stored form of an address; None for anything that is not a string."""
    if not isinstance(email, str):
        return None
    return email.strip().lower()


def _claim_email_slot[D: (UserDoc, TemporaryUserDoc)](  # the two collections keyed by a unique email
    col: Collection[D],
    doc_id: ObjectId,
    *,
    at: datetime,
    window: timedelta,
    limit: int,
    count_field: str,
    last_field: str,
    extra: Mapping[str, Any],
) -> bool:
    """Count one email against a quota of ``limit`` per ``window`` (the window restarts after
    ``window`` without any email) and apply ``extra`` when allowed. Two conditional updates:
    concurrent callers are serialised by the document, so the quota holds."""
    restarted = col.update_one(
        {"_id": doc_id, "$or": [{last_field: None}, {last_field: {"$lte": at - window}}]},
        {"$set": {count_field: 1, last_field: at, **extra}},
    )
    if restarted.modified_count == 1:
        return True
    counted = col.update_one(
        {"_id": doc_id, count_field: {"$lt": limit}},
        {"$inc": {count_field: 1}, "$set": {last_field: at, **extra}},
    )
    return counted.modified_count == 1


def _insert_unique_email[D: (UserDoc, TemporaryUserDoc)](collection: Collection[D], doc: D) -> D | None:
    """Insert with timestamps and the normalised email; None when the unique email index refuses."""
    stamp = now()
    stored: D = {"createdAt": stamp, "updatedAt": stamp, **doc, "email": normalize_email(doc["email"])}
    try:
        collection.insert_one(stored)
    except DuplicateKeyError:
        return None
    return stored


class UserFilter(NamedTuple):
    """The admin's filters; ``None`` means any. Registered (``createdAt``) in
    ``[created_from, created_before)``."""

    role: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.role is not None:
            query["role"] = self.role
        if self.created_from is not None or self.created_before is not None:
            query["createdAt"] = _range(self.created_from, self.created_before)
        return query


def _range(start: datetime | None, end: datetime | None) -> dict[str, datetime]:
    bounds: dict[str, datetime] = {}
    if start is not None:
        bounds["$gte"] = start
    if end is not None:
        bounds["$lt"] = end
    return bounds


class UserRepository:
    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[UserDoc] = (db if db is not None else get_db())[USERS]

    # --- reads ---------------------------------------------------------------------------
    def get(self, user_id: ObjectId) -> UserDoc | None:
        if not isinstance(user_id, ObjectId):
            return None
        return self._col.find_one({"_id": user_id})

    def find_by_ids(self, ids: Iterable[ObjectId]) -> dict[ObjectId, UserDoc]:
        wanted = list({i for i in ids if isinstance(i, ObjectId)})
        if not wanted:
            return {}
        return {doc["_id"]: doc for doc in self._col.find({"_id": {"$in": wanted}})}

    def find_by_email(self, email: str) -> UserDoc | None:
        normalized = normalize_email(email)
        if not normalized:
            return None
        return self._col.find_one({"email": normalized})

    def list_all(self) -> list[UserDoc]:
        return list(self._col.find({}).sort("_id", 1))

    def list_filtered(self, where: UserFilter, *, skip: int = 0, limit: int = 0) -> list[UserDoc]:
        """As ``list_all`` (oldest first), filtered; ``limit`` 0: all."""
        return list(self._col.find(where.query()).sort("_id", 1).skip(skip).limit(limit))

    def count_filtered(self, where: UserFilter) -> int:
        return int(self._col.count_documents(where.query()))

    # --- writes --------------------------------------------------------------------------
    def create(self, doc: UserDoc) -> UserDoc | None:
        """Insert a user; None when the email is already taken."""
        return _insert_unique_email(self._col, doc)

    def upsert_by_email(self, email: str, fields: dict[str, Any], on_insert: dict[str, Any]) -> UserDoc:
        stamp = now()
        upserted = self._col.find_one_and_update(
            {"email": normalize_email(email)},
            {"$set": {**fields, "updatedAt": stamp}, "$setOnInsert": {**on_insert, "createdAt": stamp}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return cast("UserDoc", upserted)  # an upsert returning the document after: never None

    def update_fields(self, user_id: ObjectId, fields: dict[str, Any]) -> UserDoc | None:
        return self._col.find_one_and_update(
            {"_id": user_id},
            {"$set": {**fields, "updatedAt": now()}},
            return_document=ReturnDocument.AFTER,
        )

    def replace_password_hash(self, user_id: ObjectId, old_hash: str, new_hash: str) -> bool:
        """Rehash on sign-in, only if the password was not changed meanwhile."""
        result = self._col.update_one(
            {"_id": user_id, "password": old_hash}, {"$set": {"password": new_hash, "updatedAt": now()}}
        )
        return result.modified_count == 1

    def delete(self, user_id: ObjectId) -> bool:
        return self._col.delete_one({"_id": user_id}).deleted_count == 1

    # --- lockout -------------------------------------------------------------------------
    def record_login_success(self, user_id: ObjectId, *, signed_in: bool) -> None:
        """Reset the failure count (and stamp ``lastLogin`` when this was a sign-in)."""
        fields: dict[str, Any] = {"failedLoginAttempts": 0}
        if signed_in:
            fields["lastLogin"] = now()
        self._col.update_one({"_id": user_id}, {"$set": fields, "$unset": {"lockUntil": ""}})

    def reserve_login_attempt(self, user_id: ObjectId, *, threshold: int, lock_for: timedelta) -> str | None:
        """Count one password check before it is made (so parallel guesses can't all pass a
        stale read): ``"counted"``, ``"locking"`` when this is the ``threshold``-th consecutive
        attempt (the account is locked by this same update: a right password lifts it through
        ``record_login_success``), or None when the account is locked (no check may be made)."""
        _, attempt = self._reserve_login_attempt({"_id": user_id}, threshold=threshold, lock_for=lock_for)
        return attempt

    def reserve_login_attempt_by_email(
        self, email: str, *, threshold: int, lock_for: timedelta
    ) -> tuple[UserDoc | None, str | None]:
        """As ``reserve_login_attempt``, for the account of ``email``, in the same single
        command that finds it: (the account as updated, ``"counted"`` or ``"locking"``), or
        (None, None) when there is no such account or it is locked: one round trip either way."""
        normalized = normalize_email(email)
        if not normalized:
            return None, None
        return self._reserve_login_attempt({"email": normalized}, threshold=threshold, lock_for=lock_for)

    def _reserve_login_attempt(
        self, where: dict[str, Any], *, threshold: int, lock_for: timedelta
    ) -> tuple[UserDoc | None, str | None]:
        """One conditional update of an unlocked account: the count goes up by one, or, at the
        ``threshold``-th consecutive attempt, back to 0 with ``lockUntil`` set (an update
        pipeline: which of the two is decided on the stored count, atomically)."""
        at = now()
        not_locked = {"$or": [{"lockUntil": None}, {"lockUntil": {"$lte": at}}]}
        counted = {"$add": [{"$ifNull": ["$failedLoginAttempts", 0]}, 1]}
        locking = {"$gte": [counted, threshold]}
        doc = self._col.find_one_and_update(
            {**where, **not_locked},
            [
                {
                    "$set": {
                        "failedLoginAttempts": {"$cond": [locking, 0, counted]},
                        "lockUntil": {"$cond": [locking, at + lock_for, "$lockUntil"]},
                    }
                }
            ],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None, None
        # A count is at least 1 after this update; 0 is the lock it just took.
        return doc, "locking" if doc.get("failedLoginAttempts") == 0 else "counted"

    # --- admin sign-in code --------------------------------------------------------------
    def set_two_factor_code(self, user_id: ObjectId, code_hash: str, expires_at: datetime) -> None:
        self._col.update_one(
            {"_id": user_id},
            {
                "$set": {
                    "verificationCode": code_hash,
                    "verificationCodeExpires": expires_at,
                    "verificationCodeAttempts": 0,
                }
            },
        )

    def reserve_two_factor_attempt(self, user_id: ObjectId, *, max_attempts: int) -> str | None:
        """Count one attempt at the live code before comparing it: the stored code hash when an
        attempt was left (and is now used), else None. Parallel guesses can't exceed the limit."""
        doc = self._col.find_one_and_update(
            {
                "_id": user_id,
                "verificationCode": {"$ne": None},
                "verificationCodeExpires": {"$gt": now()},
                "$or": [{"verificationCodeAttempts": None}, {"verificationCodeAttempts": {"$lt": max_attempts}}],
            },
            {"$inc": {"verificationCodeAttempts": 1}},
            projection={"verificationCode": 1},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else str(doc["verificationCode"])

    def use_two_factor_code(self, user_id: ObjectId, code_hash: str) -> bool:
        """The code matched: use it up (once, whoever else matched it at the same time)."""
        used = self._col.update_one(
            {"_id": user_id, "verificationCode": code_hash, "verificationCodeExpires": {"$gt": now()}},
            {"$unset": {"verificationCode": "", "verificationCodeExpires": ""}, "$set": {"verificationCodeAttempts": 0}},
        )
        return used.modified_count == 1

    def void_exhausted_two_factor_code(self, user_id: ObjectId, *, max_attempts: int) -> None:
        self._col.update_one(
            {"_id": user_id, "verificationCodeAttempts": {"$gte": max_attempts}},
            {"$unset": {"verificationCode": "", "verificationCodeExpires": ""}},
        )

    # --- password reset ------------------------------------------------------------------
    def claim_reset_email(
        self, user_id: ObjectId, *, token_hash: str, expires_at: datetime, window: timedelta, limit: int
    ) -> bool:
        """Store a new reset token if the account's email quota allows one more email."""
        return _claim_email_slot(
            self._col,
            user_id,
            at=now(),
            window=window,
            limit=limit,
            count_field="passwordResetAttempts",
            last_field="passwordResetLastAttempt",
            extra={"passwordResetToken": token_hash, "passwordResetExpires": expires_at},
        )

    def renew_reset_token(self, user_id: ObjectId, *, old_hash: str, new_hash: str, expires_at: datetime) -> bool:
        """Put a fresh reset token in place of ``old_hash`` (only if it is still the live one)."""
        result = self._col.update_one(
            {"_id": user_id, "passwordResetToken": old_hash, "passwordResetExpires": {"$gt": now()}},
            {"$set": {"passwordResetToken": new_hash, "passwordResetExpires": expires_at}},
        )
        return result.modified_count == 1

    # --- registration attempts on an existing account -----------------------------------
    def record_registration_attempt(
        self, user_id: ObjectId, *, looks_pending_until: datetime, window: timedelta, limit: int
    ) -> bool:
        """Someone registered this account's address. Until ``looks_pending_until`` the
        pending-registration probe answers as for a new registration; True when the owner may
        be emailed a notice (at most ``limit`` per ``window``)."""
        self._col.update_one({"_id": user_id}, {"$set": {"registrationLooksPendingUntil": looks_pending_until}})
        return _claim_email_slot(
            self._col,
            user_id,
            at=now(),
            window=window,
            limit=limit,
            count_field="registrationNoticesSent",
            last_field="registrationNoticeLastSent",
            extra={},
        )

    def find_by_reset_token(self, token_hash: str) -> UserDoc | None:
        return self._col.find_one({"passwordResetToken": token_hash, "passwordResetExpires": {"$gt": now()}})

    def consume_reset_token(self, user_id: ObjectId, token_hash: str, new_password_hash: str) -> bool:
        """Single use: the token is removed by the same update that sets the password (and
        lifts a lockout: the email owner proved who they are)."""
        result = self._col.update_one(
            {"_id": user_id, "passwordResetToken": token_hash, "passwordResetExpires": {"$gt": now()}},
            {
                "$set": {"password": new_password_hash, "failedLoginAttempts": 0, "updatedAt": now()},
                "$unset": {"passwordResetToken": "", "passwordResetExpires": "", "lockUntil": ""},
            },
        )
        return result.modified_count == 1


class TemporaryUserRepository:
    """Registrations awaiting email validation (24 h)."""

    def __init__(self, db: Database[Any] | None = None) -> None:
        self._col: Collection[TemporaryUserDoc] = (db if db is not None else get_db())[TEMPORARY_USERS]

    def create(self, doc: TemporaryUserDoc) -> TemporaryUserDoc | None:
        """Insert; None when a registration for this email is already pending."""
        return _insert_unique_email(self._col, doc)

    def find_by_email(self, email: str) -> TemporaryUserDoc | None:
        normalized = normalize_email(email)
        if not normalized:
            return None
        return self._col.find_one({"email": normalized})

    def find_by_token(self, token_hash: str) -> TemporaryUserDoc | None:
        return self._col.find_one({"verificationToken": token_hash})

    def register(self, email: str, fields: TemporaryUserDoc, *, window: timedelta, limit: int) -> bool:
        """Store a registration for ``email``: a pending one for the same address is replaced
        whole (its token dies with it). True when its link may be emailed: at most ``limit``
        links per ``window`` per address; past that the registration is still replaced, silently
        (the newest registration always wins, so an earlier stranger's one can't be completed)."""
        normalized = normalize_email(email)
        at = now()
        fields = {**fields, "email": normalized, "updatedAt": at}
        for _ in range(2):  # a concurrent first registration of the address: retry as a replacement
            pending = self._col.find_one({"email": normalized}, {"_id": 1})
            if pending is None:
                first: TemporaryUserDoc = {**fields, "linkEmailsSent": 1, "linkEmailLastSent": at}
                if _insert_unique_email(self._col, first):
                    return True
                continue
            if _claim_email_slot(
                self._col,
                pending["_id"],
                at=at,
                window=window,
                limit=limit,
                count_field="linkEmailsSent",
                last_field="linkEmailLastSent",
                extra={**fields, "createdAt": at},
            ):
                return True
            self._col.update_one({"_id": pending["_id"]}, {"$set": {**fields, "createdAt": at}})
            return False
        return False

    def renew_token(self, temp_id: ObjectId, *, old_hash: str, new_hash: str) -> bool:
        """Put a fresh token in place of ``old_hash`` (only if it is still the current one)."""
        result = self._col.update_one(
            {"_id": temp_id, "verificationToken": old_hash}, {"$set": {"verificationToken": new_hash, "updatedAt": now()}}
        )
        return result.modified_count == 1

    def delete(self, temp_id: ObjectId) -> bool:
        return self._col.delete_one({"_id": temp_id}).deleted_count == 1

    def delete_if_expired(self, temp_id: ObjectId) -> bool:
        return self._col.delete_one({"_id": temp_id, "expiresAt": {"$lte": now()}}).deleted_count == 1

    def delete_expired(self) -> int:
        return self._col.delete_many({"expiresAt": {"$lte": now()}}).deleted_count
