"""Helpers of the retreats integration tests: request bodies, direct reads of the stores."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from lutea.data.mongo import get_db

RETREAT_KEYS = {
    "_id",
    "titreCard",
    "imageCard",
    "altImageCard",
    "imageModal",
    "altImageModal",
    "texteModal",
    "dates",
    "aVenir",
    "isActive",
    "createdAt",
    "updatedAt",
}
DATE_KEYS = {"_id", "start", "end", "prix", "places", "adresseRdv"}


def date_body(start: str = "2027-03-01T09:00:00.000Z", end: str = "2027-03-04T16:00:00.000Z", **fields: Any) -> dict:
    return {"start": start, "end": end, "prix": 750, "places": 10, "adresseRdv": "Mas des Oliviers, Grabels", **fields}


def retreat_body(**fields: Any) -> dict:
    body = {
        "titreCard": "Retraite Yoga & Pilates",
        "imageCard": "https://cdn.lutea.test/card.jpg",
        "altImageCard": "Une salle de yoga",
        "imageModal": ["/images/retreats/1.jpg", "https://cdn.lutea.test/2.jpg"],
        "altImageModal": ["Vue du mas", "Atelier"],
        "texteModal": "Trois jours de yoga, de pilates et d'ateliers.",
        "dates": [date_body()],
    }
    body.update(fields)
    return body


def create(admin: Any, **fields: Any) -> dict:
    response = admin.post("/retreats/admin", json=retreat_body(**fields))
    assert response.status == 201, response.body
    return response.json()


def stored(retreat_id: str) -> dict | None:
    return get_db()["retreats"].find_one({"_id": ObjectId(retreat_id)})


def counter(date_id: str) -> dict | None:
    return get_db()["seatcounters"].find_one({"_id": ObjectId(date_id)})


def count(collection: str) -> int:
    return get_db()[collection].count_documents({})


def hold(date_id: str, seats: int) -> None:
    """Seats held by bookings (the bookings module takes them this way)."""
    from lutea.data.seats import SeatRepository

    assert SeatRepository().try_reserve(ObjectId(date_id), seats, ObjectId())
