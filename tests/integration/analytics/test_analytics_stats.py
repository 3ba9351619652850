"""GET /analytics/stats on a small known dataset: every figure computed by hand from the
original's getStats() rules, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.accounts import admin_session

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def event(api, session_id: str, code: str, seconds: int, page: str | None = None, data: dict | None = None) -> None:
    body = {"session_id": session_id, "event_type_code": code, "event_ts": at(seconds)}
    if page is not None:
        body["page_path"] = page
    if data is not None:
        body["event_data"] = data
    assert api.post("/analytics/event", json=body).status == 201


def seed(api) -> None:
    # S1: desktop Chrome, signed out, goes through the whole tunnel and pays.
    api.post("/analytics/session", json={"session_id": "s1", "started_at": at(0), "browser": "Chrome", "device_type": "desktop"})
    event(api, "s1", "page_view", 0, "/")
    event(api, "s1", "page_exit", 40, "/")
    event(api, "s1", "page_view", 40, "/retraites?x=1")
    event(api, "s1", "retreat_modal_opened", 45, data={"retreat_id": "r1", "retreat_title": "Hiver"})
    event(api, "s1", "booking_funnel_started", 50)
    for step, seconds in ((1, 60), (2, 90), (3, 150), (4, 170), (5, 200)):
        event(api, "s1", f"booking_step_{step}", seconds)
    event(api, "s1", "payment_button_clicked", 210)
    event(api, "s1", "payment_succeeded", 260)
    api.patch("/analytics/session/s1", json={"ended_at": at(300)})
    # S2: mobile Firefox, signs in, opens two modals, abandons at step 2.
    api.post("/analytics/session", json={"session_id": "s2", "started_at": at(0), "browser": "Firefox", "device_type": "mobile"})
    event(api, "s2", "page_view", 5, "/retraites")
    event(api, "s2", "retreat_modal_opened", 10, data={"retreat_id": "r1", "retreat_title": "Hiver"})
    event(api, "s2", "retreat_modal_opened", 12, data={"retreat_id": "r2", "retreat_title": "Été"})
    event(api, "s2", "booking_funnel_started", 20)
    event(api, "s2", "booking_step_1", 20)
    event(api, "s2", "booking_step_2", 40)
    event(api, "s2", "booking_abandoned", 100, data={"step": 2})
    api.patch("/analytics/session/s2", json={"ended_at": at(120), "is_login": True})
    # S3: mobile Chrome, one page for 9 seconds: a bounce.
    api.post("/analytics/session", json={"session_id": "s3", "started_at": at(0), "browser": "Chrome", "device_type": "mobile"})
    event(api, "s3", "page_view", 1, "/")
    api.patch("/analytics/session/s3", json={"ended_at": at(9)})
    # S4: created by its first event, still open an hour later; starts the tunnel, payment fails.
    event(api, "s4", "page_view", 0, "/")
    event(api, "s4", "booking_funnel_started", 5)
    event(api, "s4", "payment_failed", 30)


def test_stats_add_up(api, make_client, frozen_clock, backend):
    seed(api)
    frozen_clock.set(T0 + timedelta(hours=1))
    admin, _ = admin_session(make_client)
    response = admin.get("/analytics/stats")
    assert response.status == 200
    stats = response.json()

    assert stats["totalSessions"] == 4
    assert stats["totalEvents"] == 23
    assert stats["bounceRate"] == 25  # S3 only (S2: 120 s; S4: open for an hour; S1: two page views)
    assert stats["conversionRate"] == 33.33  # 1 payment_succeeded / 3 booking_funnel_started
    assert stats["eventsByType"] == {
        "booking_abandoned": 1,
        "booking_funnel_started": 3,
        "booking_step_1": 2,
        "booking_step_2": 2,
        "booking_step_3": 1,
        "booking_step_4": 1,
        "booking_step_5": 1,
        "page_exit": 1,
        "page_view": 5,
        "payment_button_clicked": 1,
        "payment_failed": 1,
        "payment_succeeded": 1,
        "retreat_modal_opened": 3,
    }
    assert sum(stats["eventsByType"].values()) == stats["totalEvents"]
    assert stats["tunnelReservation"] == {
        "started": 3,
        "completed": 1,
        "completionRate": 33.33,
        "sessionsByStep": {"step1": 3, "step2": 2, "step3": 1, "step4": 1, "step5": 1},
        "stepPercentages": {"step1": 100, "step2": 66.67, "step3": 33.33, "step4": 33.33, "step5": 33.33},
        "conversionRates": {"step1_to_step2": 66.67, "step2_to_step3": 50, "step3_to_step4": 100, "step4_to_step5": 100},
        # step 1: S1 30 s and S2 20 s; step 5: until payment_succeeded
        "averageTimeByStep": {"step1": 25, "step2": 60, "step3": 20, "step4": 30, "step5": 60},
        "exitByStep": {
            "1": {"count": 1, "percentage": 33.33},
            "2": {"count": 1, "percentage": 33.33},
            "5": {"count": 1, "percentage": 33.33},
        },
    }
    assert stats["abandonmentPoint"] == {"step": 2, "count": 1, "percentage": 100}
    assert stats["deviceDistribution"] == {
        "mobile": {"count": 2, "percentage": 66.67},
        "desktop": {"count": 1, "percentage": 33.33},
        "tablet": {"count": 0, "percentage": 0},
    }
    assert stats["browserDistribution"] == {
        "Chrome": {"count": 2, "percentage": 66.67},
        "Firefox": {"count": 1, "percentage": 33.33},
    }
    assert stats["conversionByLoginStatus"] == {
        "loggedIn": {"started": 1, "completed": 0, "rate": 0},
        "notLoggedIn": {"started": 2, "completed": 1, "rate": 50},
    }
    assert stats["pageStats"] == [
        # "/" matches every path by prefix (the original's LIKE '/%'): 4 sessions; S1 stayed 40 s
        {"page": "Accueil", "views": 3, "uniqueSessions": 4, "medianTimeOnPage": 40, "percentage": 60},
        # "/retraites" and "/retraites?x=1" grouped
        {"page": "retraites", "views": 2, "uniqueSessions": 2, "medianTimeOnPage": 0, "percentage": 40},
    ]
    assert stats["retreatModalStats"] == [
        {"retreat_id": "r1", "retreat_title": "Hiver", "count": 2},
        {"retreat_id": "r2", "retreat_title": "Été", "count": 1},
    ]
    assert stats["loginStats"] == {
        "withLogin": 1,
        "withoutLogin": 3,
        "total": 4,
        "withLoginPercentage": 25,
        "withoutLoginPercentage": 75,
    }
    assert stats["paymentStats"] == {
        "buttonClicked": 1,
        "succeeded": 1,
        "failed": 1,
        "totalAttempts": 2,
        "successRate": 50,
        "failureRate": 50,
        "step5ToButtonClickRate": 100,
    }
    assert list(stats) == [
        "totalSessions",
        "totalEvents",
        "bounceRate",
        "conversionRate",
        "eventsByType",
        "tunnelReservation",
        "abandonmentPoint",
        "deviceDistribution",
        "browserDistribution",
        "conversionByLoginStatus",
        "pageStats",
        "retreatModalStats",
        "loginStats",
        "paymentStats",
    ]


def test_an_open_session_is_a_bounce_for_its_first_30_seconds(api, make_client, frozen_clock, backend):
    event(api, "open", "page_view", 0, "/")
    admin, _ = admin_session(make_client)
    frozen_clock.set(T0 + timedelta(seconds=29, milliseconds=900))
    assert admin.get("/analytics/stats").json()["bounceRate"] == 100
    frozen_clock.set(T0 + timedelta(seconds=30))
    assert admin.get("/analytics/stats").json()["bounceRate"] == 0


def test_stats_of_an_empty_database(make_client, backend):
    admin, _ = admin_session(make_client)
    stats = admin.get("/analytics/stats").json()
    assert stats["totalSessions"] == 0 and stats["totalEvents"] == 0
    assert stats["bounceRate"] == 0 and stats["conversionRate"] == 0
    assert stats["eventsByType"] == {} and stats["pageStats"] == [] and stats["retreatModalStats"] == []
    assert stats["tunnelReservation"]["sessionsByStep"] == {f"step{i}": 0 for i in range(1, 6)}
    assert stats["tunnelReservation"]["exitByStep"] == {}
    assert stats["abandonmentPoint"] == {"step": 0, "count": 0, "percentage": 0}
    assert stats["deviceDistribution"]["mobile"] == {"count": 0, "percentage": 0}
    assert stats["browserDistribution"] == {}
    assert stats["paymentStats"]["totalAttempts"] == 0
