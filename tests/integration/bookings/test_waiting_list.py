"""The waiting list over the API (docs/waiting-list.md): joining a full block, offers made when
seats free up (held on the counter, never oversold), booking through an offer, expiry to the
next in line, leaving, the admin's view."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from tests.support.catalogue import START, booking_body, insert_retreat
from tests.support.outbox import read_outbox


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


ISO_START = _iso(START)


@pytest.fixture
def retreat() -> dict:
    return insert_retreat(places=3)


def _held(retreat: dict) -> int:
    from lutea.data.seats import SeatRepository

    return SeatRepository().held(retreat["dates"][0]["_id"])


def _join(client: Any, retreat: dict, nb: int, address: str, **extra: Any) -> Any:
    body = {
        "retreatId": str(retreat["_id"]),
        "dateStart": ISO_START,
        "nbPlaces": nb,
        "email": address,
        "prenom": "Léa",
        **extra,
    }
    return client.post("/bookings/waiting-list", json=body)


def _fill(api: Any, retreat: dict, nb: int = 3) -> dict:
    response = api.post("/bookings", json=booking_body(retreat, nb))
    assert response.status == 201, response.body
    return response.json()


def _token(outbox_dir: Any, kind: str, to: str) -> str:
    mails = [m for m in read_outbox(outbox_dir) if m.kind == kind and to in m.to]
    assert mails, f"no {kind} email to {to}"
    return re.search(r"token=([0-9a-f]{24}\.[A-Za-z0-9_-]{43})", mails[-1].text).group(1)


def _entry(email: str) -> dict:
    from lutea.data.mongo import get_db

    return get_db()["waitinglist"].find_one({"email": email})


def _cancel_pending(booking: dict) -> None:
    from lutea.domain.booking_lifecycle import admin_cancel

    admin_cancel(ObjectId(booking["_id"]), None)


def test_joining_a_full_block_and_the_same_answer_twice(api, retreat, outbox_dir, frozen_clock):
    _fill(api, retreat)
    first = _join(api, retreat, 2, "Lea@Example.test")
    assert first.status == 201, first.body
    assert first.json() == {"message": first.json()["message"], "email": "lea@example.test", "nbPlaces": 2}
    again = _join(api, retreat, 2, "lea@example.test")
    assert again.status == 201 and again.json() == first.json()
    from lutea.data.mongo import get_db

    assert get_db()["waitinglist"].count_documents({}) == 1
    mails = [m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_joined"]
    assert len(mails) == 2 and "quitter" in mails[0].text
    # Joining again killed the first link: of the two, only the newer one is known.
    tokens = [re.search(r"token=(\S+)", m.text).group(1) for m in mails]
    statuses = sorted(api.post("/bookings/waiting-list/offer", json={"token": t}).status for t in tokens)
    assert statuses == [404, 409]  # 409: a live link, but no offer yet
    for _ in range(3):
        _join(api, retreat, 2, "lea@example.test")
    assert len([m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_joined"]) == 3  # 3 an hour


def test_joining_is_refused_when_seats_are_free_or_the_block_started(api, retreat, frozen_clock):
    _fill(api, retreat, 2)
    response = _join(api, retreat, 1, "a@example.test")
    assert response.status == 409 and "réservez-les directement" in response.json()["message"]
    assert _join(api, retreat, 2, "a@example.test").status == 201  # 2 > the 1 free seat
    frozen_clock.set(START + timedelta(minutes=1))
    assert _join(api, retreat, 2, "b@example.test").status == 409


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nbPlaces", 0),
        ("nbPlaces", 21),
        ("nbPlaces", "2"),
        ("email", "pas-un-email"),
        ("prenom", ""),
        ("retreatId", "123"),
        ("dateStart", "demain"),
        ("extra", 1),
    ],
)
def test_bad_join_bodies_are_400(api, retreat, field, value):
    response = _join(api, retreat, 2, "a@example.test", **{field: value})
    assert response.status == 400 and response.json()["message"] == "Données invalides"


def test_unknown_block_is_404(api, retreat):
    body = {
        "retreatId": str(ObjectId()),
        "dateStart": ISO_START,
        "nbPlaces": 1,
        "email": "a@example.test",
        "prenom": "A",
    }
    assert api.post("/bookings/waiting-list", json=body).status == 404
    body["retreatId"], body["dateStart"] = str(retreat["_id"]), _iso(START + timedelta(days=1))
    assert api.post("/bookings/waiting-list", json=body).json()["message"] == "Date de retraite non trouvée"


def test_freed_seats_are_offered_to_the_first_whose_request_fits(api, retreat, outbox_dir, frozen_clock):
    booking = _fill(api, retreat)
    assert _join(api, retreat, 3, "big@example.test").status == 201
    assert _join(api, retreat, 2, "two@example.test").status == 201
    assert _join(api, retreat, 1, "one@example.test").status == 201
    other = _fill(api, insert_retreat(places=3))  # another block's release offers nothing here
    _cancel_pending(other)
    assert _held(retreat) == 3

    _cancel_pending(booking)  # 3 seats back: the first in line wants 3
    assert _entry("big@example.test")["statut"] == "OFFERED"
    assert (_entry("two@example.test")["statut"], _entry("one@example.test")["statut"]) == ("WAITING", "WAITING")
    assert _held(retreat) == 3  # held for the offer: nobody else can book them
    assert api.post("/bookings", json=booking_body(retreat, 1)).status == 409
    offer = [m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_offer"]
    assert len(offer) == 1 and offer[0].to == ["big@example.test"] and "360" in offer[0].text

    # The offer is not taken within 24 h: it passes on; 3 seats fit "two" then "one".
    from lutea.domain.waiting_list import run_offers

    frozen_clock.advance(hours=23)
    assert run_offers()["expired"] == 0
    frozen_clock.advance(hours=1, seconds=1)
    assert run_offers()["expired"] == 1
    assert _entry("big@example.test")["statut"] == "EXPIRED"
    assert (_entry("two@example.test")["statut"], _entry("one@example.test")["statut"]) == ("OFFERED", "OFFERED")
    assert _held(retreat) == 3
    token = _token(outbox_dir, "waiting_list_offer", "big@example.test")
    assert api.post("/bookings/waiting-list/offer", json={"token": token}).status == 409


def test_booking_through_the_offer_keeps_the_seats_and_pays_the_server_price(api, retreat, outbox_dir, frozen_clock):
    booking = _fill(api, retreat)
    _join(api, retreat, 2, "lea@example.test")
    _cancel_pending(booking)
    token = _token(outbox_dir, "waiting_list_offer", "lea@example.test")
    offer = api.post("/bookings/waiting-list/offer", json={"token": token})
    assert offer.status == 200, offer.body
    body = offer.json()
    assert (body["nbPlaces"], body["prixTotal"], body["retreatName"]) == (2, 240, "Retraite Équinoxe")
    assert body["offreExpireLe"] == "2026-12-02T09:00:00.000Z" and "Conditions d'annulation" in body["politiqueAnnulation"]
    assert _held(retreat) == 2  # the third seat is free: nobody waiting fits... it stays free
    booked = api.post(
        "/bookings/waiting-list/offer/book",
        json={
            "token": token,
            "participants": booking_body(retreat, 2)["participants"],
            "billingAddress": booking_body(retreat)["billingAddress"],
        },
    )
    assert booked.status == 201, booked.body
    created = booked.json()
    assert (created["statut"], created["nbPlaces"], created["prixTotal"]) == ("PENDING", 2, 240)
    assert created["guestToken"] and "waitingListEntryId" not in created
    assert _held(retreat) == 2  # handed over, not taken twice
    assert _entry("lea@example.test")["statut"] == "BOOKED"
    again = api.post(
        "/bookings/waiting-list/offer/book",
        json={
            "token": token,
            "participants": booking_body(retreat, 1)["participants"],
            "billingAddress": booking_body(retreat)["billingAddress"],
        },
    )
    assert again.status == 409

    # Not paid within 16 minutes: the seats go back and, nobody waiting, are free.
    from lutea.domain.booking_lifecycle import expire_pending_bookings

    frozen_clock.advance(minutes=17)
    assert expire_pending_bookings() == 1
    assert _held(retreat) == 0


def test_offer_booking_bodies_are_checked(api, retreat, outbox_dir, frozen_clock):
    booking = _fill(api, retreat)
    _join(api, retreat, 1, "lea@example.test")
    _cancel_pending(booking)
    token = _token(outbox_dir, "waiting_list_offer", "lea@example.test")
    participants = booking_body(retreat, 2)["participants"]
    billing = booking_body(retreat)["billingAddress"]
    too_many = api.post(
        "/bookings/waiting-list/offer/book", json={"token": token, "participants": participants, "billingAddress": billing}
    )
    assert too_many.status == 400
    for bad in (
        {"token": "x"},
        {"token": token, "participants": participants[:1]},
        {"token": token, "participants": participants[:1], "billingAddress": billing, "nbPlaces": 3},
    ):
        assert api.post("/bookings/waiting-list/offer/book", json=bad).status == 400
    forged = token[:-4] + "AAAA"
    assert api.post("/bookings/waiting-list/offer", json={"token": forged}).status == 404
    assert api.post("/bookings/waiting-list/offer", json={"token": str(ObjectId()) + token[24:]}).status == 404
    assert _entry("lea@example.test")["statut"] == "OFFERED" and _held(retreat) == 1


def test_leaving_gives_an_offer_back_to_the_next(api, retreat, outbox_dir, frozen_clock):
    booking = _fill(api, retreat)
    _join(api, retreat, 3, "first@example.test")
    _join(api, retreat, 3, "second@example.test")
    leave = _token(outbox_dir, "waiting_list_joined", "second@example.test")
    _cancel_pending(booking)
    token = _token(outbox_dir, "waiting_list_offer", "first@example.test")
    response = api.post("/bookings/waiting-list/leave", json={"token": token})
    assert response.status == 200 and response.json()["message"].startswith("Vous avez quitté")
    assert _entry("first@example.test")["statut"] == "LEFT"
    assert _entry("second@example.test")["statut"] == "OFFERED" and _held(retreat) == 3
    assert api.post("/bookings/waiting-list/leave", json={"token": token}).status == 200  # twice is fine
    assert api.post("/bookings/waiting-list/leave", json={"token": leave}).status == 200  # the joined email's link
    assert _entry("second@example.test")["statut"] == "LEFT" and _held(retreat) == 0


def test_an_admin_raising_places_offers_them(api, make_client, retreat, outbox_dir, frozen_clock):
    from tests.support.accounts import admin_session

    _fill(api, retreat)
    _join(api, retreat, 2, "lea@example.test")
    admin, _ = admin_session(make_client)
    block = retreat["dates"][0]
    response = admin.patch(
        f"/retreats/admin/{retreat['_id']}",
        json={
            "dates": [
                {
                    "_id": str(block["_id"]),
                    "start": ISO_START,
                    "end": _iso(block["end"]),
                    "prix": 120,
                    "places": 5,
                    "adresseRdv": "Lodève",
                }
            ]
        },
    )
    assert response.status == 200, response.body
    assert _entry("lea@example.test")["statut"] == "OFFERED" and _held(retreat) == 5

    view = admin.get(f"/bookings/admin/waiting-list/{retreat['_id']}")
    assert view.status == 200, view.body
    [row] = view.json()
    assert (row["places"], row["placesDisponibles"], row["placesOffertes"]) == (5, 0, 2)
    [entry] = row["inscriptions"]
    assert (entry["email"], entry["statut"], entry["position"], entry["nbPlaces"]) == ("lea@example.test", "OFFERED", None, 2)
    assert entry["offreExpireLe"] == "2026-12-02T09:00:00.000Z"
    assert admin.get("/bookings/admin/waiting-list/123").status == 400
    assert admin.get(f"/bookings/admin/waiting-list/{ObjectId()}").status == 404
    assert api.get(f"/bookings/admin/waiting-list/{retreat['_id']}").status == 401


def test_concurrent_offers_never_oversell(api, retreat, frozen_clock, tiny_switch_interval):
    from lutea.data.mongo import get_db
    from lutea.data.seats import SeatRepository
    from lutea.domain.waiting_list import offer_freed_seats

    from tests.support.concurrency import crashes, run_together

    booking = _fill(api, retreat)
    for i in range(6):
        _join(api, retreat, 1, f"p{i}@example.test")
    # The booking's seats go back without the hook, so that the offers are made by the race.
    get_db()["bookings"].update_one({"_id": ObjectId(booking["_id"])}, {"$set": {"statut": "CANCELLED", "seatsHeld": False}})
    date_id = retreat["dates"][0]["_id"]
    SeatRepository().release(date_id, 3, ObjectId(booking["_id"]))
    results = run_together([lambda: offer_freed_seats(date_id) for _ in range(8)])
    assert crashes(results) == [] and sum(results) == 3
    assert get_db()["waitinglist"].count_documents({"statut": "OFFERED", "seatsHeld": True}) == 3
    assert _held(retreat) == 3


def test_an_offer_email_a_crash_prevented_is_sent_by_the_job(api, retreat, outbox_dir, frozen_clock, monkeypatch):
    from lutea.domain import waiting_list

    booking = _fill(api, retreat)
    _join(api, retreat, 2, "lea@example.test")
    monkeypatch.setattr(waiting_list, "_send_offer", lambda *a, **k: None)  # the process stops before sending
    _cancel_pending(booking)
    monkeypatch.undo()
    assert _entry("lea@example.test")["offerEmailOwed"] is True
    assert not [m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_offer"]
    assert waiting_list.run_offers()["emailsResent"] == 0  # the request's own grace first
    frozen_clock.advance(minutes=3)
    assert waiting_list.run_offers()["emailsResent"] == 1
    assert waiting_list.run_offers()["emailsResent"] == 0
    assert len([m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_offer"]) == 1


def test_two_requests_booking_the_same_offer_make_one_booking(
    api, make_client, retreat, outbox_dir, frozen_clock, tiny_switch_interval
):
    from lutea.data.mongo import get_db

    from tests.support.concurrency import crashes, run_together

    booking = _fill(api, retreat)
    _join(api, retreat, 2, "lea@example.test")
    _cancel_pending(booking)
    token = _token(outbox_dir, "waiting_list_offer", "lea@example.test")
    body = {
        "token": token,
        "participants": booking_body(retreat, 2)["participants"],
        "billingAddress": booking_body(retreat)["billingAddress"],
    }
    results = run_together([lambda: make_client().post("/bookings/waiting-list/offer/book", json=body) for _ in range(6)])
    assert crashes(results) == []
    assert sorted(r.status for r in results) == [201] + [409] * 5
    assert get_db()["bookings"].count_documents({"waitingListEntryId": {"$exists": True}}) == 1
    assert _held(retreat) == 2


def test_an_offer_expiring_while_it_is_booked_ends_one_way_only(
    api, make_client, retreat, outbox_dir, frozen_clock, tiny_switch_interval
):
    from lutea.data.mongo import get_db
    from lutea.domain.waiting_list import expire_offers

    from tests.support.concurrency import crashes, run_together

    booking = _fill(api, retreat)
    _join(api, retreat, 3, "lea@example.test")
    _cancel_pending(booking)
    token = _token(outbox_dir, "waiting_list_offer", "lea@example.test")
    frozen_clock.advance(hours=24)  # the very last instant: booking and expiry race
    body = {
        "token": token,
        "participants": booking_body(retreat, 1)["participants"],
        "billingAddress": booking_body(retreat)["billingAddress"],
    }
    frozen_clock.advance(seconds=-1)

    def book() -> Any:
        return make_client().post("/bookings/waiting-list/offer/book", json=body).status

    def expire() -> Any:
        frozen_clock.advance(seconds=1)
        return expire_offers()

    results = run_together([book, expire])
    assert crashes(results) == []
    entry = _entry("lea@example.test")
    booked = get_db()["bookings"].count_documents({"waitingListEntryId": entry["_id"]})
    if entry["statut"] == "BOOKED":
        assert booked == 1 and _held(retreat) == 3
    else:
        assert entry["statut"] == "EXPIRED" and booked == 0 and _held(retreat) == 0
