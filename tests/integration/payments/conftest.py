"""Fixtures of the payments tests: a retreat with its seat counters, bookings made through
``POST /bookings``, and Stripe as the real SDK talking to tests/support/fake_stripe.py."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from tests.support.fake_stripe import FakeStripe, use_fake_stripe

START = datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
PRICE_CENTS = 12_000
ROOT_DIR = Path(__file__).resolve().parents[3]


def insert_retreat(*, places: int = 10, prix_cents: int = PRICE_CENTS) -> dict[str, Any]:
    from lutea.clock import now
    from lutea.data.mongo import get_db
    from lutea.data.seats import SeatRepository

    block = {"_id": ObjectId(), "start": START, "end": START + timedelta(days=2), "heureArrivee": "10h00",
             "heureDepart": "17h00", "prixCents": prix_cents, "places": places,
             "adresseRdv": "12 chemin des Oliviers, Lodève"}
    stamp = now()
    doc = {"_id": ObjectId(), "titreCard": "Retraite Équinoxe", "imageCard": "/img/a.jpg", "altImageCard": "a",
           "imageModal": [], "altImageModal": [], "texteModal": "Texte", "dates": [block], "aVenir": False,
           "isActive": True, "createdAt": stamp, "updatedAt": stamp}
    get_db()["retreats"].insert_one(doc)
    SeatRepository().ensure(retreat_id=doc["_id"], date_id=block["_id"], places=places)
    return doc


def booking_body(retreat: dict[str, Any], nb: int = 2) -> dict[str, Any]:
    block = retreat["dates"][0]
    return {
        "retreatId": str(retreat["_id"]),
        "dateStart": block["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "dateEnd": block["end"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "nbPlaces": nb,
        "participants": [{"prenom": f"Zoé{i}", "nom": "Lefèvre", "email": f"zoe{i}@example.test"} for i in range(nb)],
        "billingAddress": {"address": "3 rue Émile Zola", "city": "Nîmes", "postalCode": "30000",
                           "country": "France", "phone": "0611223344"},
    }


@dataclass
class Booked:
    id: str
    guest_token: str | None
    body: dict[str, Any]

    def stored(self) -> dict[str, Any]:
        from lutea.data.mongo import get_db

        return get_db()["bookings"].find_one({"_id": ObjectId(self.id)})


@dataclass
class Payments:
    """What the payments tests do again and again."""

    fake: FakeStripe
    make_client: Any

    def book(self, retreat: dict[str, Any], *, nb: int = 2, client: Any = None) -> Booked:
        response = (client or self.make_client()).post("/bookings", json=booking_body(retreat, nb))
        assert response.status == 201, response.body
        body = response.json()
        return Booked(body["_id"], body.get("guestToken"), body)

    def create_intent(self, booking: Booked, **extra: Any) -> dict[str, Any]:
        response = self.make_client().post("/stripe/create-payment-intent", json={
            "amount": 24_000, "currency": "eur", "metadata": {"bookingId": booking.id}, **extra})
        assert response.status == 200, response.body
        return response.json()

    def deliver(self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> Any:
        body, signature = self.fake.webhook(event_type, obj, event_id=event_id)
        return self.post_webhook(body, signature)

    def post_webhook(self, body: str, signature: str | None, header: str = "Stripe-Signature") -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[header] = signature
        return self.make_client(origin=None).post("/stripe/webhook", body=body, headers=headers)

    def seats_held(self, retreat: dict[str, Any]) -> int:
        from lutea.data.seats import SeatRepository

        return SeatRepository().held(retreat["dates"][0]["_id"])


@pytest.fixture
def stripe_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with use_fake_stripe(monkeypatch) as fake:
        yield fake


@pytest.fixture
def payments(stripe_fake: FakeStripe, make_client: Any) -> Payments:
    return Payments(stripe_fake, make_client)


@pytest.fixture
def retreat() -> dict[str, Any]:
    return insert_retreat()
