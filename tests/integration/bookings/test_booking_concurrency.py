"""Seats can never be oversold: many simultaneous POST /bookings for the last seats of a date.

Each thread has its own copy of the bookings function (its own resolver), as concurrent Lambda
invocations run in separate containers; they share the database, which is what is under test.
On mongomock the shared store is serialised by the lock of lutea.data.mongo; with MONGODB_URI
set, the same test runs against a real MongoDB.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository

from infra.local import gateway
from tests.support.catalogue import booking_body
from tests.support.concurrency import crashes, run_together

ROOT = Path(__file__).resolve().parents[3]
REQUESTS = 60
ROUNDS = 15


def _container(n: int):
    """A fresh copy of functions/bookings/app.py, as in another Lambda container."""
    name = f"lutea_function_bookings_container_{n}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "bookings" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _post_event(body: dict) -> dict:
    return gateway.build_event(
        "POST",
        "/bookings",
        resource="/bookings",
        headers={"Content-Type": "application/json", "Origin": "http://localhost:3000"},
        body=json.dumps(body),
    )


def _fire(handlers, bodies):
    """Every handler called at once, each with its own body: each response, or what it raised."""
    events = [_post_event(body) for body in bodies]
    return run_together(
        [lambda h=h, e=e: h(e, gateway.LambdaContext("BookingsFunction")) for h, e in zip(handlers, events, strict=True)]
    )


@pytest.mark.usefixtures("tiny_switch_interval")
def test_last_seats_are_sold_exactly_once(make_retreat, monkeypatch):
    from lutea import observability

    # Powertools' metrics buffer is per container (one invocation at a time in Lambda); here
    # the "containers" share one process, so give each flush a consistent view.
    lock = threading.RLock()
    provider = observability.metrics.provider
    for name in ("add_metric", "flush_metrics"):
        original = getattr(provider, name)
        monkeypatch.setattr(provider, name, lambda *a, _f=original, **k: _locked(lock, _f, *a, **k))

    handlers = [_container(i) for i in range(REQUESTS)]
    for _ in range(ROUNDS):  # each round races for the last 3 seats of a fresh date
        retreat = make_retreat(places=12)
        date_id = retreat["dates"][0]["_id"]
        assert SeatRepository().try_reserve(date_id, 9, ObjectId())  # sold earlier: 3 seats left

        results = _fire(handlers, [booking_body(retreat, nb=1) for _ in range(REQUESTS)])

        crashed = crashes(results)
        assert not crashed, crashed[:3]
        statuses = [r["statusCode"] for r in results]
        assert set(statuses) <= {201, 409}, statuses
        created = [json.loads(r["body"]) for r in results if r["statusCode"] == 201]
        refused = [json.loads(r["body"]) for r in results if r["statusCode"] == 409]
        # Exactly the 3 seats left are sold, by the counter and by the bookings actually stored...
        assert len(created) == 3 and len(refused) == REQUESTS - 3
        assert SeatRepository().held(date_id) == 12
        stored = sorted(str(b["_id"]) for b in get_db()["bookings"].find({"dateId": date_id}))
        assert stored == sorted(b["_id"] for b in created)
        # ...and every other request was told so.
        assert all(r["message"].startswith("Seulement ") and r["message"].endswith(" places disponibles") for r in refused)


def _locked(lock, func, *args, **kwargs):
    with lock:
        return func(*args, **kwargs)
