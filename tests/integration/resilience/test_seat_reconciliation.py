"""The seat reconciliation job: drift between counters, bookings and retreats is repaired in the
safe direction, the admin is told what was found, and nothing younger than the grace period
(an operation in flight) is touched."""

from __future__ import annotations

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.domain.seat_reconciliation import GRACE, reconcile_seats

from tests.support.catalogue import booking_body, insert_retreat
from tests.support.outbox import read_outbox


def _counter(retreat):
    return get_db()["seatcounters"].find_one({"_id": retreat["dates"][0]["_id"]})


def _alerts(outbox_dir):
    return [m for m in read_outbox(outbox_dir) if m.kind == "admin_alert"]


def test_a_counter_from_before_holders_is_adopted_and_its_lost_seats_given_back(api, frozen_clock, outbox_dir):
    retreat = insert_retreat(places=6)
    booking = api.post("/bookings", json=booking_body(retreat, 2)).json()
    # As stored before holders existed, with one seat lost by an old crash.
    get_db()["seatcounters"].update_one({"_id": retreat["dates"][0]["_id"]}, {"$set": {"held": 3}, "$unset": {"holders": ""}})
    assert reconcile_seats().lines() == []  # everything is younger than the grace period
    frozen_clock.advance(seconds=GRACE.total_seconds() + 60)
    report = reconcile_seats()
    assert report.as_counts() == {"released": 0, "adopted": 1, "overbooked": 0, "corrected": 1}
    counter = _counter(retreat)
    assert counter["held"] == 2 and [h["bookingId"] for h in counter["holders"]] == [ObjectId(booking["_id"])]
    [alert] = _alerts(outbox_dir)
    assert booking["_id"] in alert.text and "held 3 -> 2" in alert.text
    assert "zoe" not in alert.text  # ids and numbers only
    assert reconcile_seats().lines() == []  # repaired once


def test_seats_of_a_booking_that_never_got_stored_come_back(frozen_clock, outbox_dir):
    from lutea.data.seats import SeatRepository

    retreat = insert_retreat(places=4)
    lost = ObjectId()
    assert SeatRepository().try_reserve(retreat["dates"][0]["_id"], 3, lost)  # then the function died
    frozen_clock.advance(minutes=6)
    report = reconcile_seats()
    assert report.as_counts()["released"] == 1 and str(lost) in report.released[0]
    assert _counter(retreat)["held"] == 0 and _counter(retreat)["holders"] == []


def test_a_booking_the_counter_cannot_seat_is_reported_not_forced(api, frozen_clock, outbox_dir):
    retreat = insert_retreat(places=2)
    booking = api.post("/bookings", json=booking_body(retreat, 2)).json()
    get_db()["seatcounters"].update_one(
        {"_id": retreat["dates"][0]["_id"]},
        {"$set": {"held": 2, "holders": [{"bookingId": ObjectId(), "n": 2, "at": frozen_clock.current}]}},
    )
    get_db()["bookings"].insert_one(
        {**get_db()["bookings"].find_one({"_id": ObjectId(booking["_id"])}), "_id": ObjectId()}
    )  # a second booking holding the same seats
    frozen_clock.advance(minutes=6)
    report = reconcile_seats()
    assert len(report.overbooked) == 1 and len(report.released) == 1
    counter = _counter(retreat)
    assert counter["held"] == 2 and counter["held"] <= counter["places"]  # never oversold
    assert any("overbooked" in m.text for m in _alerts(outbox_dir))


def test_a_capacity_left_by_a_killed_edit_is_the_retreats_again(frozen_clock):
    retreat = insert_retreat(places=4)
    get_db()["seatcounters"].update_one({"_id": retreat["dates"][0]["_id"]}, {"$set": {"places": 9}})
    frozen_clock.advance(minutes=6)
    reconcile_seats()
    assert _counter(retreat)["places"] == 4


def test_two_admins_editing_the_same_places_leave_the_retreat_and_its_counter_agreeing(frozen_clock, monkeypatch):
    """A edits 4 -> 9; B edits the same block to 6 while A is between its counter and its
    retreat update. B wins; A's undo must not put 4 back over B's 6 (it is conditional)."""
    from lutea.data.retreats import RetreatRepository
    from lutea.domain import retreats as domain
    from lutea.errors import Conflict

    from tests.support.catalogue import retreat_changes

    retreat = insert_retreat(places=4)
    block = retreat["dates"][0]

    def update(places):
        return retreat_changes(
            {
                "dates": [
                    {
                        "_id": str(block["_id"]),
                        "start": block["start"].isoformat(),
                        "end": block["end"].isoformat(),
                        "prix": block["prixCents"] / 100,
                        "places": places,
                        "adresseRdv": block["adresseRdv"],
                    }
                ]
            }
        )

    real = RetreatRepository.update_fields
    calls = []

    def interleaved(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            frozen_clock.advance(seconds=1)
            domain.update_retreat(retreat["_id"], update(6))  # B, in between A's two writes
        return real(self, *args, **kwargs)

    monkeypatch.setattr(RetreatRepository, "update_fields", interleaved)
    with pytest.raises(Conflict):
        domain.update_retreat(retreat["_id"], update(9))  # A loses: the retreat changed meanwhile
    stored = get_db()["retreats"].find_one({"_id": retreat["_id"]})
    assert stored["dates"][0]["places"] == _counter(retreat)["places"] == 6  # B's edit stands, whole


def test_the_job_counts_what_it_repaired_for_the_alarm(frozen_clock, capsys):
    import json
    from pathlib import Path

    from lutea.data.seats import SeatRepository

    from infra.local import gateway

    scheduled = gateway.load_function_module(Path(__file__).resolve().parents[3] / "functions" / "scheduled")
    context = gateway.LambdaContext("ReconcileSeats")
    retreat = insert_retreat(places=4)
    assert SeatRepository().try_reserve(retreat["dates"][0]["_id"], 3, ObjectId())  # then the function died
    frozen_clock.advance(minutes=6)
    from lutea.observability import metrics

    metrics.clear_metrics()  # what earlier direct calls counted and never flushed
    capsys.readouterr()
    scheduled.reconcile_seats({"source": "aws.events"}, context)
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [b["SeatReconciliationRepairs"] for b in blobs if "SeatReconciliationRepairs" in b]
    assert [v for c in counted for v in (c if isinstance(c, list) else [c])] == [1.0]
