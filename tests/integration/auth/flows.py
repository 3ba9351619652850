"""Shared steps of the auth and users integration tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lutea.auth.passwords import hash_password

from tests.support.accounts import make_user
from tests.support.outbox import mails_to

PASSWORD = "Password1!"
NEW_PASSWORD = "Nouveau2@mdp"

SESSION_USER_KEYS = {"id", "_id", "email", "firstName", "lastName", "role", "isEmailVerified"}
PUBLIC_USER_KEYS = {
    "_id",
    "email",
    "firstName",
    "lastName",
    "role",
    "isEmailVerified",
    "phone",
    "address",
    "city",
    "postalCode",
    "country",
    "createdAt",
    "updatedAt",
}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def registration(email: str = "alice@example.test", **over: Any) -> dict[str, Any]:
    body = {
        "email": email,
        "password": PASSWORD,
        "firstName": "Alice",
        "lastName": "Martin",
        "phone": "0612345678",
        "address": "1 rue des Lilas",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
    }
    body.update(over)
    return body


def token_from(outbox_dir: Path, email: str, kind: str) -> str:
    mails = mails_to(outbox_dir, email, kind)
    assert mails, f"no {kind} email to {email}"
    found = re.search(r"token=([A-Za-z0-9_\-]+)", mails[-1].text)
    assert found, mails[-1].text
    return found.group(1)


def code_from(outbox_dir: Path, email: str) -> str:
    mails = mails_to(outbox_dir, email, "two_factor_code")
    assert mails, f"no code email to {email}"
    found = re.search(r"\b(\d{8})\b", mails[-1].text)
    assert found
    return found.group(1)


def signed_up(make_client: Any, outbox_dir: Path, email: str = "alice@example.test") -> Any:
    """A client that registered and validated its email (signed in by cookies)."""
    client = make_client()
    assert client.post("/auth/register", json=registration(email)).status == 201
    assert client.post("/auth/validate-email", json={"token": token_from(outbox_dir, email, "validation_link")}).status == 200
    return client


def user_with_password(role: str = "client", password: str = PASSWORD, **fields: Any) -> dict[str, Any]:
    return make_user(role, password=hash_password(password), **fields)


def assert_session_user(user: dict[str, Any], doc: dict[str, Any] | None = None, **expected: Any) -> None:
    assert set(user) == SESSION_USER_KEYS
    assert HEX24.match(user["id"]) and user["_id"] == user["id"]
    assert isinstance(user["isEmailVerified"], bool)
    if doc is not None:
        assert user["id"] == str(doc["_id"])
        assert user["email"] == doc["email"]
        assert user["firstName"] == doc["firstName"]
        assert user["lastName"] == doc["lastName"]
        assert user["role"] == doc["role"]
    for key, value in expected.items():
        assert user[key] == value, key


def assert_public_user(user: dict[str, Any], doc: dict[str, Any]) -> None:
    """Field by field, and nothing secret (an allow-list: any other key fails)."""
    assert set(user) <= PUBLIC_USER_KEYS | {"lastLogin"}
    assert set(user) >= PUBLIC_USER_KEYS
    assert user["_id"] == str(doc["_id"])
    for key in ("email", "firstName", "lastName", "role", "isEmailVerified", "phone", "address", "city", "postalCode", "country"):
        assert user[key] == doc[key], key
    assert ISO_MS.match(user["createdAt"]) and ISO_MS.match(user["updatedAt"])
    if "lastLogin" in user:
        assert ISO_MS.match(user["lastLogin"])


def assert_error(response: Any, status: int, message: Any) -> None:
    assert response.status == status, response.body
    body = response.json()
    assert body["statusCode"] == status
    if status == 400:
        assert body["message"] == "Données invalides"
        assert body["details"]["message"] == message
    else:
        assert body["message"] == message
