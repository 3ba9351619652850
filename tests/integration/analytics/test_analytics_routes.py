"""Sessions, events, event types and clear-all through the real handlers, on both backends."""

from __future__ import annotations

import json

import pytest

from tests.support.accounts import admin_session, client_session

SESSION = {
    "session_id": "0b7e8f0e-1c1f-4a57-9a51-6f1f3d1d2a01",
    "started_at": "2026-12-01T10:00:00.000Z",
    "browser": "Chrome",
    "device_type": "desktop",
}


def _count(sql, table: str) -> int:
    return int(sql.scalar(f"SELECT COUNT(*) AS n FROM {table}"))


def test_create_session(api, sql):
    response = api.post("/analytics/session", json=SESSION)
    assert response.status == 201
    assert response.json() == {
        "session_id": SESSION["session_id"],
        "started_at": "2026-12-01T10:00:00.000Z",
        "ended_at": None,
        "browser": "Chrome",
        "device_type": "desktop",
        "is_login": False,
    }
    assert _count(sql, "Session") == 1


def test_started_at_is_stored_in_utc(api, sql):
    response = api.post("/analytics/session", json={**SESSION, "started_at": "2026-12-01T11:30:15.900+01:00"})
    assert response.json()["started_at"] == "2026-12-01T10:30:15.000Z"
    row = sql.fetch_one("SELECT started_at FROM Session")
    assert str(row["started_at"]).startswith("2026-12-01 10:30:15")


def test_an_existing_session_id_returns_the_existing_session(api, sql):
    first = api.post("/analytics/session", json={**SESSION, "is_login": True}).json()
    again = api.post("/analytics/session", json={**SESSION, "browser": "Firefox", "started_at": "2026-12-02T00:00:00Z"})
    assert again.status == 201
    assert again.json() == first
    assert _count(sql, "Session") == 1


def test_patch_ends_a_session_and_sets_is_login_once(api):
    api.post("/analytics/session", json=SESSION)
    path = f"/analytics/session/{SESSION['session_id']}"
    response = api.patch(path, json={"ended_at": "2026-12-01T10:05:00Z", "is_login": True})
    assert response.status == 200
    assert response.json() == {
        "session_id": SESSION["session_id"],
        "started_at": "2026-12-01T10:00:00.000Z",
        "ended_at": "2026-12-01T10:05:00.000Z",
        "browser": "Chrome",
        "device_type": "desktop",
        "is_login": True,
    }
    # is_login never goes back to false
    assert api.patch(path, json={"is_login": False}).json()["is_login"] is True
    assert api.patch(path, json={}).json()["ended_at"] == "2026-12-01T10:05:00.000Z"


def test_patch_is_login_false_stays_false(api):
    api.post("/analytics/session", json=SESSION)
    response = api.patch(f"/analytics/session/{SESSION['session_id']}", json={"is_login": False})
    assert response.status == 200 and response.json()["is_login"] is False


def test_patch_an_unknown_session_is_404(api):
    response = api.patch("/analytics/session/unknown", json={"is_login": True})
    assert response.status == 404
    assert response.json()["message"] == "Session unknown non trouvée"


def test_delete_a_session_deletes_its_events(api, sql):
    api.post("/analytics/session", json=SESSION)
    api.post("/analytics/event", json={"session_id": SESSION["session_id"], "event_type_code": "page_view"})
    other = {**SESSION, "session_id": "other"}
    api.post("/analytics/session", json=other)
    api.post("/analytics/event", json={"session_id": "other", "event_type_code": "page_view"})
    response = api.delete(f"/analytics/session/{SESSION['session_id']}")
    assert response.status == 200 and response.body == ""
    assert [r["session_id"] for r in sql.fetch_all("SELECT session_id FROM Session")] == ["other"]
    assert [r["session_id_Session"] for r in sql.fetch_all("SELECT session_id_Session FROM UserEvent")] == ["other"]
    assert api.delete("/analytics/session/unknown").status == 200  # as the original


def test_create_event(api, frozen_clock):
    api.post("/analytics/session", json=SESSION)
    body = {
        "session_id": SESSION["session_id"],
        "event_type_code": "retreat_modal_opened",
        "event_ts": "2026-12-01T10:01:02Z",
        "page_path": "/retraites",
        "event_data": {"retreat_id": "r1", "retreat_title": "Hiver <b>", "nested": {"n": [1, 2.5, None]}},
    }
    response = api.post("/analytics/event", json=body)
    assert response.status == 201
    event = response.json()
    assert isinstance(event.pop("event_id"), int)
    assert event == {
        "event_ts": "2026-12-01T10:01:02.000Z",
        "page_path": "/retraites",
        "event_data": body["event_data"],
        "session_id_Session": SESSION["session_id"],
        "code_EventType": "retreat_modal_opened",
    }
    # Without event_ts: now.
    second = api.post("/analytics/event", json={"session_id": SESSION["session_id"], "event_type_code": "page_view"})
    assert second.json()["event_ts"] == "2026-12-01T09:00:00.000Z"
    assert second.json()["event_data"] is None and second.json()["page_path"] is None


def test_an_event_for_an_unknown_session_creates_it(api, sql):
    response = api.post(
        "/analytics/event", json={"session_id": "new-session", "event_type_code": "page_view", "event_ts": "2026-12-01T08:00:00Z"}
    )
    assert response.status == 201
    session = api.patch("/analytics/session/new-session", json={}).json()
    assert session == {
        "session_id": "new-session",
        "started_at": "2026-12-01T08:00:00.000Z",
        "ended_at": None,
        "browser": None,
        "device_type": None,
        "is_login": False,
    }


def test_an_unknown_event_type_is_400_and_nothing_is_written(api, sql):
    response = api.post("/analytics/event", json={"session_id": "s-unknown-type", "event_type_code": "nope"})
    assert response.status == 400
    assert response.json()["details"]["message"] == "Type d'événement nope non trouvé"
    assert _count(sql, "Session") == 0 and _count(sql, "UserEvent") == 0


def test_a_disabled_event_type_is_400(api, sql):
    sql.execute("UPDATE EventType SET is_enabled = ? WHERE code = ?", (False, "page_exit"))
    response = api.post("/analytics/event", json={"session_id": "s", "event_type_code": "page_exit"})
    assert response.status == 400
    assert _count(sql, "Session") == 0 and _count(sql, "UserEvent") == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/analytics/session", {**SESSION, "session_id": "x" * 37}),
        ("/analytics/session", {**SESSION, "session_id": ""}),
        ("/analytics/session", {**SESSION, "started_at": "yesterday"}),
        ("/analytics/session", {**SESSION, "started_at": 1764583200}),
        ("/analytics/session", {**SESSION, "started_at": "0500-01-01T00:00:00Z"}),
        ("/analytics/session", {**SESSION, "browser": "b" * 51}),
        ("/analytics/session", {**SESSION, "device_type": "phone"}),
        ("/analytics/session", {**SESSION, "is_login": "yes"}),
        ("/analytics/session", {**SESSION, "unknown": 1}),
        ("/analytics/session", {"started_at": SESSION["started_at"]}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "page_path": "/" * 501}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "event_data": [1, 2]}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "event_data": "text"}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "event_ts": "not a date"}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "x" * 51}),
        ("/analytics/event", {"session_id": {"$gt": ""}, "event_type_code": "page_view"}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "extra": True}),
        ("/analytics/event", {"event_type_code": "page_view"}),
    ],
)
def test_bad_input_is_400_and_nothing_is_written(api, sql, path, body):
    response = api.post(path, json=body)
    assert response.status == 400
    assert response.json()["message"] == "Données invalides"
    assert response.json()["details"]["fields"]
    assert _count(sql, "Session") == 0 and _count(sql, "UserEvent") == 0


def test_non_json_numbers_in_event_data_are_400(api, sql):
    raw = '{"session_id": "s", "event_type_code": "page_view", "event_data": {"x": NaN}}'
    response = api.post("/analytics/event", body=raw, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert _count(sql, "Session") == 0 and _count(sql, "UserEvent") == 0


def test_patch_with_bad_input_writes_nothing(api, sql):
    api.post("/analytics/session", json=SESSION)
    path = f"/analytics/session/{SESSION['session_id']}"
    assert api.patch(path, json={"ended_at": "later", "is_login": True}).status == 400
    assert api.patch(path, json={"is_login": 1}).status == 400
    row = sql.fetch_one("SELECT ended_at, is_login FROM Session")
    assert row["ended_at"] is None and not row["is_login"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/analytics/stats"),
        ("GET", "/analytics/event-types"),
        ("DELETE", "/analytics/clear-all"),
    ],
)
def test_admin_routes_need_an_admin(make_client, backend, method, path):
    assert make_client().request(method, path).status == 401
    client, _ = client_session(make_client)
    assert client.request(method, path).status == 403


def test_event_types_enabled_by_category_then_label(make_client, sql):
    sql.execute("UPDATE EventType SET is_enabled = ? WHERE code = ?", (False, "page_exit"))
    admin, _ = admin_session(make_client)
    response = admin.get("/analytics/event-types")
    assert response.status == 200
    types = response.json()
    assert types[0] == {"code": "booking_step_1", "label": "Étape 1 : Choix retraite", "category": "booking", "is_enabled": True}
    assert [t["code"] for t in types] == [
        "booking_step_1",
        "booking_step_2",
        "booking_step_3",
        "booking_step_4",
        "booking_step_5",
        "booking_abandoned",
        "page_view",
        "payment_button_clicked",
        "payment_failed",
        "payment_succeeded",
        "booking_funnel_started",
        "retreat_modal_opened",
    ]


def test_clear_all_empties_sessions_and_events_and_keeps_event_types(api, make_client, sql):
    api.post("/analytics/session", json=SESSION)
    for code in ("page_view", "page_exit", "page_view"):
        api.post("/analytics/event", json={"session_id": SESSION["session_id"], "event_type_code": code})
    api.post("/analytics/event", json={"session_id": "second", "event_type_code": "page_view"})
    admin, _ = admin_session(make_client)
    response = admin.delete("/analytics/clear-all")
    assert response.status == 200
    assert response.json() == {"deletedSessions": 2, "deletedEvents": 4}
    assert _count(sql, "Session") == 0 and _count(sql, "UserEvent") == 0
    assert _count(sql, "EventType") == 13
    assert admin.delete("/analytics/clear-all").json() == {"deletedSessions": 0, "deletedEvents": 0}


def test_event_data_is_stored_as_json(api, sql):
    api.post(
        "/analytics/event",
        json={"session_id": "s", "event_type_code": "booking_abandoned", "event_data": {"step": 3, "label": "é"}},
    )
    stored = sql.fetch_one("SELECT event_data FROM UserEvent")["event_data"]
    assert json.loads(stored) == {"step": 3, "label": "é"}
