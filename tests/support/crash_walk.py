"""The crash-point walk of tests/integration/resilience/: a write path run once to count its
database writes, then replayed from a fresh state once per write, killed right after it
(tests/support/faults.py), followed by what AWS runs after a crash (Stripe's redelivery, the
scheduled jobs) and by the invariants:

- seats held on every counter == the seats of the documents holding seats there, each named
  as a holder, never more than the places (``Rig.seat_holders``: the bookings; the waiting
  list's rig adds its offers);
- money (``Rig.assert_money``): every succeeded, unrefunded PaymentIntent pays a CONFIRMED
  booking holding its seats;
- every refund made once, nothing left owed, every email sent once (``Rig.assert_emails_once``).

docs/reliability.md's table lists the crash points and how each is recovered.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from tests.support.catalogue import FROZEN_AT, booking_body
from tests.support.client import ApiClient
from tests.support.fake_stripe import FakeStripe, use_fake_stripe
from tests.support.faults import Killed, faulty_database
from tests.support.outbox import read_outbox

START = FROZEN_AT  # the rig's clock, set back here for every replay


class Rig:
    """One scenario replayed from a fresh state for every crash point."""

    def __init__(self, fake: FakeStripe, outbox: Path) -> None:
        self.fake = fake
        self.outbox = outbox
        self.now = START

    # --- state --------------------------------------------------------------------------------
    def fresh(self) -> None:
        from lutea import clock
        from lutea.data import mongo
        from lutea.data.indexes import migrate_indexes

        mongo.reset_db()
        migrate_indexes(mongo.get_db())
        shutil.rmtree(self.outbox, ignore_errors=True)
        self.fake.reset()
        self.now = START
        clock.set_clock(lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def db(self) -> Any:
        from lutea.data import mongo

        return mongo.get_db()

    def booking(self, booking_id: Any) -> dict:
        return self.db()["bookings"].find_one({"_id": ObjectId(str(booking_id))})

    def mails(self, kind: str) -> list[Any]:
        return [m for m in read_outbox(self.outbox) if m.kind == kind]

    # --- what tests do --------------------------------------------------------------------------
    def book(self, retreat: dict, nb: int = 2, client: Any = None) -> dict:
        response = (client or ApiClient()).post("/bookings", json=booking_body(retreat, nb))
        assert response.status == 201, response.body
        return response.json()

    def attach_payment(self, booking: dict, *, paid: bool) -> dict:
        from lutea.domain.booking_lifecycle import attach_payment_intent

        pi = self.fake.add_payment_intent(amount=round(booking["prixTotal"] * 100), metadata={"bookingId": booking["_id"]})
        attach_payment_intent(booking["_id"], pi["id"])
        return self.fake.succeed(pi["id"]) if paid else pi

    def deliver(self, event_type: str, obj: dict, event_id: str) -> Any:
        body, signature = self.fake.webhook(event_type, obj, event_id=event_id)
        return ApiClient(origin=None).post(
            "/stripe/webhook", body=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
        )

    def delivery(
        self, event_type: str, payload: Callable[[Any], dict], event_id: str
    ) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
        """A webhook's walk: the operation (Stripe delivers the event, answered 200) and its
        recovery (unanswered, Stripe delivers it again 3 minutes later: the dead function's
        claim is stale by then)."""

        def operation(state: Any) -> None:
            response = self.deliver(event_type, payload(state), event_id)
            assert response.status == 200, response.body

        def recover(state: Any) -> None:
            self.advance(minutes=3)
            operation(state)

        return operation, recover

    def run_jobs(self) -> None:
        """What the schedules run, past every grace period (as after a crash in AWS)."""
        from lutea.domain.booking_lifecycle import expire_pending_bookings
        from lutea.domain.owed_effects import retry_owed_effects
        from lutea.domain.seat_reconciliation import reconcile_seats

        for _ in range(2):
            self.advance(minutes=7)
            expire_pending_bookings()
            retry_owed_effects()
            reconcile_seats()

    # --- the invariants ---------------------------------------------------------------------------
    def seat_holders(self) -> list[dict]:
        """Every document holding seats on a counter (``dateId``, ``nbPlaces``)."""
        return list(self.db()["bookings"].find({"seatsHeld": True}))

    def assert_seats(self) -> None:
        holding: Counter = Counter()
        holders_of: dict[Any, set] = {}
        for doc in self.seat_holders():
            holding[doc["dateId"]] += int(doc["nbPlaces"])
            holders_of.setdefault(doc["dateId"], set()).add(doc["_id"])
        for counter in self.db()["seatcounters"].find({}):
            named = {h["bookingId"] for h in counter.get("holders") or []}
            assert counter["held"] == holding[counter["_id"]], counter
            assert counter["held"] == sum(h["n"] for h in counter.get("holders") or []), counter
            assert named == holders_of.get(counter["_id"], set()), counter
            assert counter["held"] <= counter["places"], counter

    def assert_money(self) -> None:
        db = self.db()
        for pi in self.fake.payment_intents.values():
            refunded = sum(r["amount"] for r in self.fake.refunds.values() if r["payment_intent"] == pi["id"])
            if pi["status"] == "succeeded" and refunded < pi["amount"]:
                owner = db["bookings"].find_one({"stripePaymentIntentId": pi["id"]})
                assert owner is not None and (owner["statut"], owner["statutPaiement"]) == ("CONFIRMED", "PAID")
                assert owner["seatsHeld"] is True

    def assert_done_once(self) -> None:
        """Each PaymentIntent refunded at most once; no effect left owed."""
        refunds = Counter(r["payment_intent"] for r in self.fake.refunds.values())
        assert all(n == 1 for n in refunds.values()), refunds
        assert self.db()["bookings"].count_documents({"owed": {"$exists": True, "$ne": {}}}) == 0

    def assert_emails_once(self) -> None:
        keys = Counter(m.message["Subject"] + "|" + str(m.message["To"]) for m in read_outbox(self.outbox))
        assert all(n == 1 for n in keys.values()), keys  # no email twice

    def assert_invariants(self) -> None:
        self.assert_seats()
        self.assert_money()
        self.assert_done_once()
        self.assert_emails_once()


@contextmanager
def rigged[R: Rig](rig_class: type[R], monkeypatch: pytest.MonkeyPatch, outbox: Path) -> Iterator[R]:
    """A rig over the fake Stripe, the application's clock given back afterwards."""
    from lutea import clock

    with use_fake_stripe(monkeypatch) as fake:
        yield rig_class(fake, outbox)
    clock.set_clock(None)


def walk(
    rig: Rig,
    setup: Callable[[], Any],
    operation: Callable[[Any], Any],
    recover: Callable[[Any], Any],
    check: Callable[[Any, int | None], None],
) -> int:
    """Run ``operation`` once to count its writes, then once per crash point (killed after write
    k), each from ``setup()`` on a fresh state, followed by ``recover`` and the checks."""
    rig.fresh()
    state = setup()
    with faulty_database() as db:
        operation(state)
        writes = db.writes
    assert writes > 0
    rig.run_jobs()
    rig.assert_invariants()
    check(state, None)
    for k in range(1, writes + 1):
        rig.fresh()
        state = setup()
        with faulty_database() as db:
            db.kill_after_write(k)
            with pytest.raises(Killed):
                operation(state)
            db.heal()
        recover(state)
        rig.run_jobs()
        try:
            rig.assert_invariants()
            check(state, k)
        except AssertionError as exc:
            raise AssertionError(f"killed after write {k} of {writes} ({db.write_log[k - 1]}): {exc}") from exc
    return writes


def nothing(_: Any) -> None:
    """No recovery but the jobs'."""
    return None
