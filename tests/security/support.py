"""Helpers of the OWASP API Top 10 suite: data set up the way the modules store it, request
bodies as the frontend sends them, and the checks every probe shares."""

from __future__ import annotations

import re
from typing import Any

from bson import ObjectId

from tests.support.catalogue import booking_body

PASSWORD = "Password1!"
FOREIGN_ORIGIN = "https://evil.example"

# Keys that must never appear in a response body, at any depth (compared lower-cased).
FORBIDDEN_KEYS = frozenset(
    {
        "password",
        "currentpassword",
        "newpassword",
        "confirmpassword",
        "passwordresettoken",
        "passwordresetexpires",
        "passwordresetattempts",
        "passwordresetlastattempt",
        "verificationcode",
        "verificationcodeexpires",
        "verificationcodeattempts",
        "verificationtoken",
        "failedloginattempts",
        "lockuntil",
        "guesttokenhash",
        "prixcents",
        "prixtotalcents",
        "seatsheld",
        "dateid",
        "currentjti",
        "refresh_token",
        "access_token",
        "stack",
        "trace",
        "traceback",
        "_doc",
        "__v",
    }
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
_PASSWORD_HASH = re.compile(r"\$(argon2(id|i|d)|2[aby])\$")
# What an exception or its traceback would look like if one leaked into a body.
_STACK_MARKERS = (
    "Traceback (most recent call last)",
    'File "/',
    '.py", line ',
    "pymongo.errors",
    "pydantic_core",
    "errors.pydantic.dev",
    "NoneType",
    "KeyError",
    "TypeError",
    "ValueError",
)


def leaks_in(payload: Any, path: str = "$") -> list[str]:
    """Every place in a JSON document where a secret or an internal would leave the server."""
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            low = str(key).lower()
            secret = "secret" in low and low not in ("client_secret", "clientsecret")
            if low in FORBIDDEN_KEYS or "hash" in low or secret:
                found.append(f"{path}.{key}")
            found.extend(leaks_in(value, f"{path}.{key}"))
    elif isinstance(payload, list):
        for i, item in enumerate(payload):
            found.extend(leaks_in(item, f"{path}[{i}]"))
    elif isinstance(payload, str):
        if _JWT.search(payload):
            found.append(f"{path}: a JWT")
        if _PASSWORD_HASH.search(payload):
            found.append(f"{path}: a password hash")
    return found


def stack_markers_in(text: str) -> list[str]:
    return [marker for marker in _STACK_MARKERS if marker in text]


def assert_error(response: Any, status: int, message: Any = None) -> dict[str, Any]:
    """The error model of API.md, and (when given) its French message."""
    assert response.status == status, (response.status, response.body)
    body = response.json()
    assert body["statusCode"] == status
    assert set(body) <= {"statusCode", "message", "timestamp", "path", "details"}
    if status == 400:
        assert body["message"] == "Données invalides"
        if message is not None:
            assert body["details"]["message"] == message, body
    elif message is not None:
        assert body["message"] == message, body
    return body


def without_timestamp(response: Any) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("timestamp", None)
    return body


# --- data ----------------------------------------------------------------------------------


def user_with_password(role: str = "client", password: str = PASSWORD, **fields: Any) -> dict[str, Any]:
    from lutea.auth.passwords import hash_password

    from tests.support.accounts import make_user

    return make_user(role, password=hash_password(password), **fields)


def retreat_body(**fields: Any) -> dict[str, Any]:
    body = {
        "titreCard": "Retraite Yoga",
        "imageCard": "https://cdn.lutea.test/card.jpg",
        "altImageCard": "Yoga",
        "imageModal": ["/images/1.jpg"],
        "altImageModal": ["Vue"],
        "texteModal": "Trois jours.",
        "dates": [
            {
                "start": "2027-05-01T09:00:00.000Z",
                "end": "2027-05-03T16:00:00.000Z",
                "prix": 750,
                "places": 10,
                "adresseRdv": "Mas des Oliviers",
            }
        ],
    }
    body.update(fields)
    return body


def book(client: Any, retreat: dict[str, Any], nb: int = 2) -> dict[str, Any]:
    response = client.post("/bookings", json=booking_body(retreat, nb))
    assert response.status == 201, response.body
    return response.json()


def guest_proof(booking: dict[str, Any]) -> dict[str, str]:
    """The header a guest's browser sends on the payment routes of its booking."""
    return {"X-Booking-Token": booking["guestToken"]}


def stored(collection: str, oid: str | ObjectId) -> dict[str, Any] | None:
    from lutea.data.mongo import get_db

    return get_db()[collection].find_one({"_id": ObjectId(str(oid))})


def seats_held(retreat: dict[str, Any]) -> int:
    from lutea.data.seats import SeatRepository

    return SeatRepository().held(retreat["dates"][0]["_id"])
