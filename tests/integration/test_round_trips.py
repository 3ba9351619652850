"""Database round trips of the busiest writes, counted per request (bench/dbcount.py, the same
counter as ``make bench``): each is a network round trip to MongoDB in AWS. Counts, not times."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.dbcount import CommandCounter
from tests.support.accounts import client_session, make_user, sign_in
from tests.support.catalogue import booking_body, insert_retreat
from tests.support.fake_stripe import use_fake_stripe

_counter: CommandCounter | None = None


def _route_commands(counter: CommandCounter) -> list[tuple[str, str]]:
    """The route's own commands: not the rig's fresh database building its indexes, nor the
    rate-limit counters (tests/security covers those)."""
    return [c for c in counter.commands if c[0] != "createIndexes" and c[1] != "ratelimits"]


@pytest.fixture
def counter() -> Iterator[CommandCounter]:
    global _counter
    if _counter is None:  # wraps the stand-in's methods once per process
        _counter = CommandCounter().install()
    _counter.reset()
    yield _counter


def test_a_refresh_rotates_in_one_round_trip_then_reads_the_user(counter: CommandCounter, make_client: Any) -> None:
    client = sign_in(make_client(), make_user("client"))
    counter.reset()
    assert client.post("/auth/refresh").status == 200
    assert _route_commands(counter) == [("findAndModify", "refreshfamilies"), ("find", "users")]


def test_a_booking_takes_its_seats_without_reading_the_counter_first(counter: CommandCounter, make_client: Any) -> None:
    client, _ = client_session(make_client)
    retreat = insert_retreat(places=5)
    counter.reset()
    assert client.post("/bookings", json=booking_body(retreat, 1)).status == 201
    # One read of what the client already holds unpaid (its limits), then the seats and the insert.
    assert _route_commands(counter) == [
        ("find", "refreshfamilies"),
        ("find", "retreats"),
        ("find", "bookings"),
        ("findAndModify", "seatcounters"),
        ("insert", "bookings"),
    ]


def test_starting_a_payment_reads_the_booking_once(
    counter: CommandCounter, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with use_fake_stripe(monkeypatch):
        client, _ = client_session(make_client)
        retreat = insert_retreat(places=5)
        booking_id = client.post("/bookings", json=booking_body(retreat, 1)).json()["_id"]
        counter.reset()
        response = client.post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking_id}})
    assert response.status == 200, response.body
    assert _route_commands(counter) == [("find", "refreshfamilies"), ("find", "bookings"), ("findAndModify", "bookings")]


def test_a_paid_webhook_confirms_in_one_round_trip_on_the_booking(
    counter: CommandCounter, make_client: Any, monkeypatch: pytest.MonkeyPatch, outbox_dir: Any
) -> None:
    with use_fake_stripe(monkeypatch) as fake:
        client, _ = client_session(make_client)
        retreat = insert_retreat(places=5)
        booking_id = client.post("/bookings", json=booking_body(retreat, 1)).json()["_id"]
        pi_id = client.post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking_id}}).json()["id"]
        body, signature = fake.webhook("payment_intent.succeeded", fake.succeed(pi_id))
        counter.reset()
        response = make_client(origin=None).post(
            "/stripe/webhook", body=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
        )
    assert response.status == 200, response.body
    # The confirmation email is owed by the transition itself and recorded done by one update
    # (a crash between the two leaves it owed, never lost: lutea.domain.owed_effects).
    assert _route_commands(counter) == [
        ("insert", "stripeevents"),
        ("findAndModify", "bookings"),
        ("update", "bookings"),
        ("update", "stripeevents"),
    ]
    from bson import ObjectId
    from lutea.data.mongo import get_db

    assert get_db()["bookings"].find_one({"_id": ObjectId(booking_id)})["statut"] == "CONFIRMED"


def test_login_finds_the_account_and_reserves_its_attempt_in_one_command(counter: CommandCounter, make_client: Any) -> None:
    from lutea.auth.passwords import hash_password

    password = "Secret1!x"
    user = make_user("client", password=hash_password(password))
    counter.reset()
    assert make_client().post("/auth/login", json={"email": user["email"], "password": password}).status == 200
    assert _route_commands(counter) == [
        ("findAndModify", "users"),  # found and its attempt counted (or the lock taken) at once
        ("update", "users"),  # lastLogin stamped, the count reset
        ("insert", "refreshfamilies"),
    ]
    # A wrong password and an unknown address cost the same: that one command, then the hash.
    for email, wrong in ((user["email"], "Wrong1!xx"), ("nobody@example.test", password)):
        counter.reset()
        assert make_client().post("/auth/login", json={"email": email, "password": wrong}).status == 401
        assert _route_commands(counter) == [("findAndModify", "users")]
