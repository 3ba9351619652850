"""POST /bookings, availability, my-bookings and GET /bookings/:id through the real handler."""

from __future__ import annotations

import hashlib

from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository

from tests.support.accounts import client_session, make_user, sign_in
from tests.support.catalogue import START, booking_body

BOOKING_KEYS = [
    "_id",
    "userId",
    "isGuest",
    "isStripeBooking",
    "retreatId",
    "retreatName",
    "retreatAddress",
    "retreatHeureArrivee",
    "retreatHeureDepart",
    "dateStart",
    "dateEnd",
    "nbPlaces",
    "prixTotal",
    "participants",
    "billingAddress",
    "statut",
    "statutPaiement",
    "createdAt",
    "updatedAt",
]


def _held(retreat, block=0):
    return SeatRepository().held(retreat["dates"][block]["_id"])


def test_guest_booking_response_field_by_field(api, retreat, frozen_clock):
    body = booking_body(retreat, nb=2, notes="Végétarien")
    res = api.post("/bookings", json=body)

    assert res.status == 201
    data = res.json()
    assert list(data) == [*BOOKING_KEYS[:-2], "notes", "createdAt", "updatedAt", "guestToken"]
    assert ObjectId.is_valid(data["_id"])
    assert data["userId"] is None and data["isGuest"] is True and data["isStripeBooking"] is True
    assert data["retreatId"] == str(retreat["_id"])
    assert data["retreatName"] == "Retraite Équinoxe"
    assert data["retreatAddress"] == "12 chemin des Oliviers, Lodève"
    assert (data["retreatHeureArrivee"], data["retreatHeureDepart"]) == ("10h00", "17h00")
    assert data["dateStart"] == f"{START.year}-03-12T09:00:00.000Z" and data["dateEnd"] == f"{START.year}-03-14T09:00:00.000Z"
    assert data["nbPlaces"] == 2 and data["prixTotal"] == 240
    assert [(p["prenom"], p["nom"], p["email"]) for p in data["participants"]] == [
        ("Zoé0", "Lefèvre", "zoe0@example.test"),
        ("Zoé1", "Lefèvre", "zoe1@example.test"),
    ]
    assert all(ObjectId.is_valid(p["_id"]) for p in data["participants"])
    assert data["billingAddress"] == body["billingAddress"]
    assert (data["statut"], data["statutPaiement"]) == ("PENDING", "PENDING")
    assert data["notes"] == "Végétarien"
    assert data["createdAt"] == data["updatedAt"] == "2026-12-01T09:00:00.000Z"
    assert len(data["guestToken"]) >= 40

    stored = get_db()["bookings"].find_one({"_id": ObjectId(data["_id"])})
    assert stored["userId"] is None and "userId" in stored  # present, not omitted
    assert stored["prixTotalCents"] == 24_000 and stored["seatsHeld"] is True
    assert stored["dateId"] == retreat["dates"][0]["_id"]
    assert stored["guestTokenHash"] == hashlib.sha256(data["guestToken"].encode()).hexdigest()
    assert (stored["expiresAt"] - stored["createdAt"]).total_seconds() == 16 * 60
    assert _held(retreat) == 2


def test_price_and_derived_fields_come_from_the_server(api, make_retreat):
    retreat = make_retreat(prix_cents=9_950, extra_blocks=1)  # second block: 109.50 €
    forged = booking_body(
        retreat,
        nb=3,
        block=1,
        prixTotal=1,
        statut="CONFIRMED",
        statutPaiement="PAID",
        retreatName="Autre",
        retreatAddress="Ailleurs",
        retreatHeureArrivee="00h00",
        retreatHeureDepart="23h59",
        userId=str(ObjectId()),
        isGuest=False,
        dateEnd="2030-01-01T00:00:00Z",
    )
    res = api.post("/bookings", json=forged)

    assert res.status == 201
    data = res.json()
    assert data["prixTotal"] == 328.5  # 3 × 109.50, computed from the date block
    assert (data["statut"], data["statutPaiement"]) == ("PENDING", "PENDING")
    assert data["retreatName"] == "Retraite Équinoxe" and data["retreatAddress"].startswith("12 chemin")
    assert (data["retreatHeureArrivee"], data["retreatHeureDepart"]) == ("10h00", "17h00")
    assert data["userId"] is None and data["isGuest"] is True
    assert data["dateEnd"] == f"{START.year}-04-13T09:00:00.000Z"  # the block's end, not the one sent


def test_date_start_matches_the_same_instant_in_any_iso_form(api, retreat):
    res = api.post("/bookings", json=booking_body(retreat, dateStart=f"{START.year}-03-12T10:00:00+01:00", nb=1))
    assert res.status == 201 and res.json()["dateStart"] == f"{START.year}-03-12T09:00:00.000Z"


def test_unknown_date_or_retreat_is_404(api, retreat):
    res = api.post("/bookings", json=booking_body(retreat, dateStart=f"{START.year}-03-12T09:00:01Z"))
    assert res.status == 404 and res.json()["message"] == "Date de retraite non trouvée"
    res = api.post("/bookings", json=booking_body(retreat, retreatId=str(ObjectId())))
    assert res.status == 404 and res.json()["message"] == "Retraite non trouvée"
    assert _held(retreat) == 0


def test_validation_errors_are_400(api, retreat):
    cases = [
        booking_body(retreat, nbPlaces=21),
        booking_body(retreat, nbPlaces=0),
        booking_body(retreat, nbPlaces="2"),
        booking_body(retreat, nb=1, participants=[{"prenom": "A", "nom": "B", "email": "a@example.test"}] * 2),
        booking_body(retreat, participants=[]),
        booking_body(retreat, retreatId="not-an-id"),
        booking_body(retreat, dateStart="demain"),
        booking_body(retreat, surprise=True),  # not one of the fields API.md says are ignored
        {**booking_body(retreat), "billingAddress": {"address": "x", "city": "y"}},
        booking_body(retreat, participants=[{"prenom": "A", "nom": "B", "email": "pas-un-email"}]),
        booking_body(retreat, retreatId={"$ne": None}),
    ]
    for body in cases:
        res = api.post("/bookings", json=body)
        assert res.status == 400, body
        assert res.json()["message"] == "Données invalides" and res.json()["details"]["error"] == "Bad Request"
    unknown = api.post("/bookings", json=booking_body(retreat, surprise=True)).json()
    assert unknown["details"]["message"] == ["property surprise should not exist"]
    assert get_db()["bookings"].count_documents({}) == 0 and _held(retreat) == 0


def test_not_enough_places_is_409_with_what_is_left(api, make_retreat):
    retreat = make_retreat(places=5)
    assert api.post("/bookings", json=booking_body(retreat, nb=3)).status == 201
    res = api.post("/bookings", json=booking_body(retreat, nb=3))
    assert res.status == 409
    assert res.json()["message"] == "Seulement 2 places disponibles"
    assert _held(retreat) == 3 and get_db()["bookings"].count_documents({}) == 1


def test_inactive_retreat_cannot_be_booked(api, make_retreat):
    retreat = make_retreat(isActive=False)
    res = api.post("/bookings", json=booking_body(retreat))
    assert res.status == 404 and res.json()["message"] == "Retraite non trouvée"


def test_signed_in_booking_belongs_to_the_user_by_cookie_or_bearer(make_client, retreat):
    client, user = client_session(make_client)
    res = client.post("/bookings", json=booking_body(retreat, nb=1))
    assert res.status == 201
    data = res.json()
    assert data["userId"] == str(user["_id"]) and data["isGuest"] is False and "guestToken" not in data
    assert "guestTokenHash" not in get_db()["bookings"].find_one({"_id": ObjectId(data["_id"])})

    bearer = sign_in(make_client(origin=None), make_user(), bearer=True)
    res = bearer.post("/bookings", json=booking_body(retreat, nb=1))
    assert res.status == 201 and res.json()["userId"] != data["userId"] and res.json()["isGuest"] is False


def test_invalid_token_books_as_a_guest(make_client, retreat):
    client = make_client()
    client.cookies["access_token"] = "garbage"
    res = client.post("/bookings", json=booking_body(retreat, nb=1))
    assert res.status == 201 and res.json()["userId"] is None and "guestToken" in res.json()


def test_available_places_and_availability(api, make_retreat):
    retreat = make_retreat(places=6)
    rid = str(retreat["_id"])
    api.post("/bookings", json=booking_body(retreat, nb=4))

    res = api.post("/bookings/available-places", json={"retreatId": rid, "date": f"{START.year}-03-12T10:00:00+01:00"})
    assert res.status == 200 and res.json() == {"placesDisponibles": 2}

    res = api.get(f"/bookings/availability/{rid}", query={"date": f"{START.year}-03-12T09:00:00.000Z"})
    assert res.status == 200
    assert res.json() == {
        "retreatId": rid,
        "date": f"{START.year}-03-12T09:00:00.000Z",
        "placesDisponibles": 2,
        "message": "2 places disponibles",
    }
    api.post("/bookings", json=booking_body(retreat, nb=2))
    res = api.get(f"/bookings/availability/{rid}", query={"date": f"{START.year}-03-12T09:00:00Z"})
    assert res.json()["placesDisponibles"] == 0 and res.json()["message"] == "Aucune place disponible"

    missing = api.get(f"/bookings/availability/{rid}")
    assert missing.status == 400 and missing.json()["details"]["message"] == "Paramètre date requis"
    for bad in ("demain", f"{START.year}-03-12T09:00:00Z" + " " * 60):
        res = api.get(f"/bookings/availability/{rid}", query={"date": bad})
        assert res.status == 400 and res.json()["details"]["message"] == "La date doit être une date valide"
    bad_id = api.post("/bookings/available-places", json={"retreatId": "xyz", "date": f"{START.year}-03-12T09:00:00Z"})
    assert bad_id.status == 400 and bad_id.json()["details"]["message"] == "ID de retraite invalide"
    other_date = api.post("/bookings/available-places", json={"retreatId": rid, "date": f"{START.year}-03-13T09:00:00Z"})
    assert other_date.status == 404 and other_date.json()["message"] == "Date de retraite non trouvée"
    assert api.get(f"/bookings/availability/{ObjectId()}", query={"date": START.isoformat()}).status == 404


def test_my_bookings_newest_first_with_plain_ids(make_client, retreat, frozen_clock):
    client, user = client_session(make_client)
    first = client.post("/bookings", json=booking_body(retreat, nb=1)).json()
    frozen_clock.advance(minutes=1)
    second = client.post("/bookings", json=booking_body(retreat, nb=2)).json()
    make_client().post("/bookings", json=booking_body(retreat, nb=1))  # a guest's: not listed

    res = client.get("/bookings/my-bookings")
    assert res.status == 200
    assert [b["_id"] for b in res.json()] == [second["_id"], first["_id"]]
    assert all(b["retreatId"] == str(retreat["_id"]) and b["userId"] == str(user["_id"]) for b in res.json())
    assert all("seatsHeld" not in b and "prixTotalCents" not in b for b in res.json())
    assert make_client().get("/bookings/my-bookings").status == 401


def test_get_booking_is_for_its_owner_only(make_client, retreat):
    owner, _ = client_session(make_client)
    stranger, _ = client_session(make_client)
    booking = owner.post("/bookings", json=booking_body(retreat, nb=1)).json()
    guest = make_client().post("/bookings", json=booking_body(retreat, nb=1)).json()

    res = owner.get(f"/bookings/{booking['_id']}")
    assert res.status == 200 and res.json() == {**booking, "updatedAt": res.json()["updatedAt"]}
    for path in (f"/bookings/{booking['_id']}", f"/bookings/{guest['_id']}", f"/bookings/{ObjectId()}"):
        res = stranger.get(path)
        assert res.status == 404 and res.json()["message"] == "Booking non trouvé"
    assert owner.get("/bookings/123").status == 400
    assert owner.get("/bookings/123").json()["details"]["message"] == "ID de booking invalide"
    assert make_client().get(f"/bookings/{booking['_id']}").status == 401


def test_a_block_without_seat_counter_is_not_bookable_and_none_is_created(api, retreat):
    # A booking racing an admin who removes the block must not bring its counter back.
    date_id = retreat["dates"][0]["_id"]
    get_db()["seatcounters"].delete_one({"_id": date_id})
    res = api.post("/bookings", json=booking_body(retreat, nb=1))
    assert res.status == 404 and res.json()["message"] == "Date de retraite non trouvée"
    assert SeatRepository().get(date_id) is None
    assert get_db()["bookings"].count_documents({}) == 0


def test_an_insert_that_fails_gives_the_seats_back_unless_the_booking_was_stored(api, retreat, monkeypatch):
    from lutea.data.bookings import BookingRepository
    from pymongo.errors import AutoReconnect

    real_insert = BookingRepository.insert

    def lost_before_the_server(self, doc):
        raise AutoReconnect("connection reset")

    def lost_after_the_server(self, doc):
        real_insert(self, doc)
        raise AutoReconnect("connection reset after the write")

    monkeypatch.setattr(BookingRepository, "insert", lost_before_the_server)
    assert api.post("/bookings", json=booking_body(retreat, nb=2)).status == 503  # an outage: API.md's 503 with Retry-After
    assert _held(retreat) == 0 and get_db()["bookings"].count_documents({}) == 0

    monkeypatch.setattr(BookingRepository, "insert", lost_after_the_server)
    assert api.post("/bookings", json=booking_body(retreat, nb=2)).status == 503  # an outage: API.md's 503 with Retry-After
    # Stored after all: it holds its seats until it expires or is cancelled (released once then).
    assert get_db()["bookings"].count_documents({"seatsHeld": True}) == 1 and _held(retreat) == 2
