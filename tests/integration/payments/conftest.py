"""Fixtures of the payments tests: a retreat with its seat counters, bookings made through
``POST /bookings``, and Stripe as the real SDK talking to tests/support/fake_stripe.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from tests.support import catalogue
from tests.support.catalogue import PRICE_CENTS, booking_body
from tests.support.fake_stripe import FakeStripe, use_fake_stripe

ROOT_DIR = Path(__file__).resolve().parents[3]


def insert_retreat(*, places: int = 10, prix_cents: int = PRICE_CENTS) -> dict[str, Any]:
    """The payments tests' retreat: one date block, no modal images."""
    return catalogue.insert_retreat(places=places, prix_cents=prix_cents, imageModal=[], altImageModal=[])


@dataclass
class Booked:
    id: str
    guest_token: str | None
    body: dict[str, Any]
    client: Any = None  # who booked: a signed-in user's session pays with it

    def stored(self) -> dict[str, Any]:
        from lutea.data.mongo import get_db

        return get_db()["bookings"].find_one({"_id": ObjectId(self.id)})


@dataclass
class Payments:
    """What the payments tests do again and again."""

    fake: FakeStripe
    make_client: Any

    def book(self, retreat: dict[str, Any], *, nb: int = 2, client: Any = None) -> Booked:
        client = client or self.make_client()
        response = client.post("/bookings", json=booking_body(retreat, nb))
        assert response.status == 201, response.body
        body = response.json()
        return Booked(body["_id"], body.get("guestToken"), body, client)

    @staticmethod
    def proof(booking: Booked) -> dict[str, str]:
        """The guest's proof of a booking, as the frontend sends it on the payment routes."""
        assert booking.guest_token, "a guest booking"
        return {"X-Booking-Token": booking.guest_token}

    def create_intent(self, booking: Booked, **extra: Any) -> dict[str, Any]:
        """The owner starts paying: a guest with its proof, a user with the session that booked."""
        payer, headers = (self.make_client(), self.proof(booking)) if booking.guest_token else (booking.client, {})
        response = payer.post(
            "/stripe/create-payment-intent",
            json={"amount": 24_000, "currency": "eur", "metadata": {"bookingId": booking.id}, **extra},
            headers=headers,
        )
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
