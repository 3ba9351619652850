"""The original's JavaScript arithmetic and object-key rules, reproduced in plain Python (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lutea.domain import analytics as a

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _ev(code, seconds=0, data=None):
    return {"code_EventType": code, "event_ts": T0 + timedelta(seconds=seconds), "event_data": data}


def test_rounding_is_javascripts():
    assert a.js_round(2.5) == 3 and a.js_round(-2.5) == -2 and round(2.5) == 2
    assert a.percent(1, 8) == 12.5 and a.percent(2, 3) == 66.67 and a.percent(1, 0) == 0
    assert a.percent(3, 3) == 100 and isinstance(a.percent(3, 3), int)
    assert a.round2(0.125) == 0.13


def test_abandonment_point_keys_and_ties():
    events = [
        _ev("booking_abandoned", data={"step": 3}),
        _ev("booking_abandoned", data={"step": "2"}),
        _ev("booking_abandoned", data={"step": 2}),
        _ev("booking_abandoned", data={"step": 3}),
        _ev("booking_abandoned", data=None),
        _ev("booking_abandoned", data={"step": 0}),
    ]
    # keys 0 (x2), 2 (x2: "2" and 2 are the same key), 3 (x2): the first in key order wins the tie
    assert a.abandonment_point(events) == {"step": 0, "count": 2, "percentage": 33.33}
    assert a.abandonment_point([_ev("booking_abandoned", data={"step": "paiement"})])["step"] is None  # NaN


def test_retreat_modal_stats_group_by_id_and_keep_the_first_title():
    events = [
        _ev("retreat_modal_opened", data={"retreat_id": "b", "retreat_title": "B"}),
        _ev("retreat_modal_opened", data={"retreat_id": "a"}),
        _ev("retreat_modal_opened", data={"retreat_id": "b", "retreat_title": "B2"}),
        _ev("retreat_modal_opened", data={}),
        _ev("retreat_modal_opened", data={"retreat_id": 7, "retreat_title": "Sept"}),
    ]
    assert a.retreat_modal_statistics(events) == [
        {"retreat_id": "b", "retreat_title": "B", "count": 2},
        {"retreat_id": "7", "retreat_title": "Sept", "count": 1},  # integer-like keys first, as in JavaScript
        {"retreat_id": "a", "retreat_title": "Retraite inconnue", "count": 1},
        {"retreat_id": "unknown", "retreat_title": "Retraite inconnue", "count": 1},
    ]


def test_journey_times_need_the_next_step_or_the_payment():
    journey = a.analyse_journey(
        [
            _ev("booking_funnel_started", 0),
            _ev("booking_step_1", 10),
            _ev("booking_step_1", 15),
            _ev("booking_step_3", 40),
            _ev("booking_step_5", 100),
            _ev("payment_succeeded", 90),
            _ev("payment_succeeded", 130),
        ]
    )
    assert journey.completed is True
    assert journey.last_step == 5
    # step 1 -> no step 2: 0; step 3 -> no step 4: 0; step 5 -> first payment after it: 30 s
    assert journey.step_times == {1: 0, 2: 0, 3: 0, 4: 0, 5: 30}


def test_a_started_tunnel_counts_as_step_one():
    journey = a.analyse_journey([_ev("booking_funnel_started", 0)])
    assert (journey.completed, journey.last_step) == (False, 1)
