"""The database down, failing over or too slow: every route answers 503 with ``Retry-After`` in
API.md's error shape, within a bound, with one client per container reused once it is back."""

from __future__ import annotations

import time

import pytest
from lutea.data import mongo
from lutea.data.seats import SeatRepository

from tests.support.catalogue import booking_body, insert_retreat
from tests.support.faults import faulty_database, pymongo_errors


def _assert_unavailable(response, path):
    assert response.status == 503, response.body
    assert response.headers["Retry-After"] == str(mongo.RETRY_AFTER_SECONDS)
    body = response.json()
    assert body["statusCode"] == 503 and body["path"] == path
    assert body["message"] == "Service temporairement indisponible" and body["timestamp"].endswith("Z")
    assert "stack" not in body


@pytest.mark.parametrize("error", pymongo_errors(), ids=lambda e: type(e).__name__)
def test_every_outage_error_is_a_503_with_retry_after(api, error):
    insert_retreat()
    with faulty_database() as db:
        db.fail_operation(1, error)  # the rate limiter's counter
        _assert_unavailable(api.get("/retreats/public"), "/retreats/public")
        db.fail_operation(2, error)  # past the limiter: the route's own query
        _assert_unavailable(api.get("/retreats/public"), "/retreats/public")
        # The database is back: the same handle serves again.
        handle = mongo.get_db()
        assert api.get("/retreats/public").status == 200
        assert mongo.get_db() is handle


def test_a_booking_insert_lost_in_an_outage_gives_its_seats_back(make_client):
    from pymongo.errors import AutoReconnect

    retreat = insert_retreat(places=4)
    with faulty_database() as db:
        db.fail_next("bookings", "insert_one", AutoReconnect("connection reset"))
        _assert_unavailable(make_client().post("/bookings", json=booking_body(retreat, 2)), "/bookings")
    assert SeatRepository().held(retreat["dates"][0]["_id"]) == 0
    assert mongo.get_db()["bookings"].count_documents({}) == 0


def test_a_booking_insert_applied_before_the_outage_keeps_its_seats_for_its_booking(make_client):
    from pymongo.errors import NetworkTimeout

    retreat = insert_retreat(places=4)
    with faulty_database() as db:
        db.fail_next("bookings", "insert_one", NetworkTimeout("timed out"), applied=True)
        _assert_unavailable(make_client().post("/bookings", json=booking_body(retreat, 2)), "/bookings")
    # Stored after all: it holds its seats until it is paid, cancelled or expires (never twice released).
    [booking] = mongo.get_db()["bookings"].find({})
    assert booking["seatsHeld"] is True
    assert SeatRepository().held(retreat["dates"][0]["_id"]) == 2


@pytest.fixture
def unreachable_mongodb(monkeypatch):
    from lutea import config

    # The URI tries to weaken the client's options: the code's win.
    monkeypatch.setenv(
        "MONGODB_URI",
        "mongodb://127.0.0.1:9/?directConnection=true&w=0"
        "&serverSelectionTimeoutMS=60000&readPreference=secondaryPreferred"
        "&retryWrites=false",
    )
    config.reset_settings()
    mongo.reset_db()
    yield
    mongo.reset_db()


def test_an_unreachable_server_answers_503_within_the_bound_with_one_client(api, unreachable_mongodb):
    bound = mongo.OPERATION_TIMEOUT_MS / 1000 + 1.5  # less than two waits
    started = time.monotonic()
    _assert_unavailable(api.get("/retreats/public"), "/retreats/public")
    elapsed = time.monotonic() - started
    assert elapsed < bound, elapsed  # one server selection, not one for the limiter and one for the route
    client = mongo._client
    assert client is not None
    _assert_unavailable(api.get("/retreats/public/000000000000000000000000"), "/retreats/public/000000000000000000000000")
    assert mongo._client is client  # no new client (and no leaked one) per failed request


def test_the_client_options_are_set_in_code_and_override_the_uri(unreachable_mongodb):
    mongo.get_db()
    client = mongo._client
    assert client.write_concern.document == {"w": "majority"}
    assert client.read_preference.mode == 0  # primary
    assert client.options.retry_writes is True and client.options.retry_reads is True
    assert client.options.server_selection_timeout == mongo.SERVER_SELECTION_TIMEOUT_MS / 1000
    assert client.options.timeout == mongo.OPERATION_TIMEOUT_MS / 1000
    assert client.options.pool_options.max_pool_size == mongo.MAX_POOL_SIZE


def test_requests_never_create_indexes(make_client, monkeypatch):
    import mongomock

    created = []
    original = mongomock.collection.Collection.create_index

    def recording(self, *args, **kwargs):
        created.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "create_index", recording)
    mongo.reset_db()  # a new container: its first requests
    retreat = insert_retreat()
    assert make_client().get("/retreats/public").status == 200
    assert make_client().post("/bookings", json=booking_body(retreat, 1)).status == 201
    assert created == []
