"""Accounts for tests of other modules: a user document and a signed-in client, minted with
the layer's own token and session primitives (no dependency on the auth routes)."""

from __future__ import annotations

import itertools
from typing import Any

from bson import ObjectId
from lutea.auth import tokens
from lutea.clock import now
from lutea.data.mongo import get_db
from lutea.data.sessions import SessionFamilyRepository

_seq = itertools.count(1)


def make_user(role: str = "client", email: str | None = None, **fields: Any) -> dict[str, Any]:
    n = next(_seq)
    stamp = now()
    doc = {
        "_id": ObjectId(),
        "email": (email or f"user{n}@example.test").lower(),
        "password": "!unusable",
        "firstName": f"Prénom{n}",
        "lastName": f"Nom{n}",
        "role": role,
        "isEmailVerified": True,
        "failedLoginAttempts": 0,
        "phone": "0600000000",
        "address": "1 rue de la Paix",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
        "createdAt": stamp,
        "updatedAt": stamp,
        **fields,
    }
    get_db()["users"].insert_one(doc)
    return doc


def sign_in(client: Any, user: dict[str, Any], *, mfa: bool | None = None, bearer: bool = False) -> Any:
    """Put a valid session on ``client`` (cookies by default, or a Bearer token)."""
    family_id, jti = tokens.new_id(), tokens.new_id()
    mfa = user["role"] == "admin" if mfa is None else mfa
    SessionFamilyRepository().create(
        family_id=family_id, user_id=str(user["_id"]), jti=jti, mfa=mfa, expires_at=now() + tokens.REFRESH_TTL
    )
    access = tokens.issue_access(user_id=str(user["_id"]), email=user["email"], role=user["role"], family_id=family_id, mfa=mfa)
    if bearer:
        client.bearer = access
    else:
        client.cookies["access_token"] = access
        client.cookies["refresh_token"] = tokens.issue_refresh(user_id=str(user["_id"]), family_id=family_id, jti=jti)
    return client


def client_session(make_client: Any, **user_fields: Any) -> tuple[Any, dict[str, Any]]:
    user = make_user("client", **user_fields)
    return sign_in(make_client(), user), user


def admin_session(make_client: Any, **user_fields: Any) -> tuple[Any, dict[str, Any]]:
    user = make_user("admin", **user_fields)
    return sign_in(make_client(), user), user
