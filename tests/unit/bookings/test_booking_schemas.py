"""Request models and the wire shape of a booking (lutea.schemas.bookings)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from lutea.schemas.bookings import AdminBookingIn, BookingIn, CancelBookingIn, booking_out
from pydantic import ValidationError

BODY = {
    "retreatId": "a" * 24,
    "dateStart": "2027-03-12T10:00:00+01:00",
    "dateEnd": "2027-03-14T09:00:00Z",
    "nbPlaces": 2,
    "participants": [{"prenom": "Zoé", "nom": "Lefèvre", "email": " Zoe@Example.TEST "}],
    "billingAddress": {"address": "1 rue", "city": "Nîmes", "postalCode": "30000", "country": "France", "phone": "06"},
}


def test_booking_in_parses_instants_and_ignores_the_listed_fields():
    ignored = {
        "retreatName": "x",
        "retreatAddress": "y",
        "retreatHeureArrivee": "z",
        "retreatHeureDepart": "w",
        "statut": "CONFIRMED",
        "statutPaiement": "PAID",
        "userId": "u",
        "prixTotal": 1,
        "isGuest": False,
    }
    model = BookingIn.model_validate({**BODY, **ignored})
    assert model.dateStart == datetime(2027, 3, 12, 9, 0, tzinfo=UTC)
    assert model.participants[0].email == "zoe@example.test"
    assert set(model.model_dump()) == {"retreatId", "dateStart", "dateEnd", "nbPlaces", "participants", "billingAddress", "notes"}


@pytest.mark.parametrize(
    "change",
    [
        {"unknown": 1},
        {"nbPlaces": 2.0},
        {"nbPlaces": True},
        {"nbPlaces": 21},
        {"dateStart": 1767225600},
        {"dateStart": "x" * 65},
        {"retreatId": "g" * 24},
        {"notes": "n" * 2001},
        {"participants": [{"prenom": "A", "nom": "B", "email": "a@b.fr", "age": 3}]},
        {"participants": [{"prenom": "", "nom": "B", "email": "a@b.fr"}]},
        {"billingAddress": {**BODY["billingAddress"], "phone": "0" * 41}},
    ],
)
def test_booking_in_rejects(change):
    with pytest.raises(ValidationError):
        BookingIn.model_validate({**BODY, **change})


def test_admin_body_keeps_user_and_status():
    model = AdminBookingIn.model_validate({**BODY, "userId": "b" * 24, "statut": "PENDING"})
    assert (model.userId, model.statut.value) == ("b" * 24, "PENDING")
    with pytest.raises(ValidationError):
        AdminBookingIn.model_validate({**BODY, "userId": "not-an-id"})
    assert CancelBookingIn().raison is None


def test_booking_out_shows_euros_and_hides_internal_fields():
    oid, stamp = ObjectId(), datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
    doc = {
        "_id": oid,
        "userId": None,
        "dateId": ObjectId(),
        "nbPlaces": 3,
        "prixTotalCents": 32_850,
        "participants": [{"_id": oid, "prenom": "A"}],
        "seatsHeld": True,
        "guestTokenHash": "h",
        "expiresAt": stamp,
        "statut": "PENDING",
        "createdAt": stamp,
    }
    assert booking_out(doc) == {
        "_id": str(oid),
        "userId": None,
        "nbPlaces": 3,
        "prixTotal": 328.5,
        "participants": [{"_id": str(oid), "prenom": "A"}],
        "statut": "PENDING",
        "createdAt": "2026-12-01T09:00:00.123Z",
    }
    assert booking_out({"prixTotalCents": 12_000})["prixTotal"] == 120
