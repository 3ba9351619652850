"""Analytics: sessions and events sent by the frontend, and the admin statistics.

``get_stats`` reproduces the original's ``AnalyticsService.getStats()`` figure by figure
(rounding included: JavaScript's ``Math.round`` rounds halves up). The database gives raw
rows; the computations are here, in plain Python, identical on MySQL and SQLite."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple

from lutea.clock import now
from lutea.data.analytics import AnalyticsRepository
from lutea.errors import InvalidInput, NotFound
from lutea.observability import logger

STEPS = (1, 2, 3, 4, 5)


# --- sessions and events -------------------------------------------------------------------


class NewSession(NamedTuple):
    session_id: str
    started_at: datetime
    browser: str | None = None
    device_type: str | None = None
    is_login: bool = False


class NewEvent(NamedTuple):
    session_id: str
    event_type_code: str
    event_ts: datetime | None = None
    page_path: str | None = None
    event_data: dict[str, Any] | None = None


def create_session(new: NewSession, *, user_id: str | None = None) -> dict[str, Any]:
    """The session, created; an existing ``session_id`` returns the existing session.
    ``user_id``: the signed-in visitor, whose sessions are exported and erased with her account."""
    repo = AnalyticsRepository()
    existing = repo.get_session(new.session_id)
    if existing is None:
        repo.insert_session(
            session_id=new.session_id,
            started_at=new.started_at,
            browser=new.browser,
            device_type=new.device_type,
            is_login=new.is_login,
        )
        existing = repo.get_session(new.session_id)  # the stored row (whole seconds), or a racer's
    if user_id is not None:
        repo.link_user(new.session_id, user_id)
    assert existing is not None
    return existing


def update_session(
    session_id: str, *, ended_at: datetime | None = None, is_login: bool | None = None, user_id: str | None = None
) -> dict:
    repo = AnalyticsRepository()
    with repo.db.transaction():
        if repo.get_session(session_id) is None:
            raise NotFound(f"Session {session_id} non trouvée")
        if ended_at is not None:
            repo.end_session(session_id, ended_at)
        if is_login is True:  # once signed in during a session, always counted as such
            repo.mark_logged_in(session_id)
        if user_id is not None:
            repo.link_user(session_id, user_id)
        session = repo.get_session(session_id)
    assert session is not None
    return session


def _kept() -> bool:
    """False where analytics are not stored at all (production without MYSQL_HOST answers 503
    rather than write them to a container's disk): nobody's sessions can be there."""
    from lutea.config import get_settings

    settings = get_settings()
    return not (settings.is_production and not settings.mysql_host)


def sessions_of_user(user_id: str) -> list[dict[str, Any]]:
    """The sessions linked to an account, each with its ``events`` (her RGPD export)."""
    if not _kept():
        return []
    repo = AnalyticsRepository()
    return [{**s, "events": repo.events_of_session(s["session_id"])} for s in repo.sessions_of_user(user_id)]


def erase_sessions_of_user(user_id: str) -> int:
    """Delete the sessions linked to an account, with their events (her account is erased)."""
    if not _kept():
        return 0
    return AnalyticsRepository().delete_sessions_of_user(user_id)


def delete_session(session_id: str) -> bool:
    """Deletes the session and its events. An unknown session is not an error (as the original)."""
    return AnalyticsRepository().delete_session(session_id) > 0


def _event_data_json(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    try:
        # NaN/Infinity are not JSON: MySQL's JSON column would refuse them.
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:
        raise InvalidInput("event_data doit être un objet JSON valide") from exc


def create_event(new: NewEvent) -> dict[str, Any]:
    """Record one event; an unknown session is created on the fly (as the original). Nothing is
    written when the event type is unknown or disabled (400)."""
    data_json = _event_data_json(new.event_data)
    repo = AnalyticsRepository()
    event_type = repo.get_event_type(new.event_type_code)
    if event_type is None or not event_type["is_enabled"]:
        raise InvalidInput(f"Type d'événement {new.event_type_code} non trouvé")
    event_ts = new.event_ts or now()
    with repo.db.transaction():
        if repo.get_session(new.session_id) is None:
            repo.insert_session(session_id=new.session_id, started_at=event_ts, browser=None, device_type=None, is_login=False)
        event_id = repo.insert_event(
            session_id=new.session_id,
            code=event_type["code"],
            event_ts=event_ts,
            page_path=new.page_path,
            event_data_json=data_json,
        )
        event = repo.get_event(event_id)
    assert event is not None
    return event


def _collation_key(text: str) -> str:
    """Accent- and case-insensitive, as MySQL's utf8mb4_unicode_ci orders ("Étape" before "Réservation")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def list_event_types() -> list[dict[str, Any]]:
    """The enabled event types, by category then label (sorted here, so SQLite orders as MySQL)."""
    types = AnalyticsRepository().list_enabled_event_types()
    return sorted(types, key=lambda t: (_collation_key(t["category"]), _collation_key(t["label"])))


def clear_all() -> dict[str, int]:
    sessions, events = AnalyticsRepository().clear_all()
    logger.info("analytics cleared", extra={"sessions": sessions, "events": events})
    return {"deletedSessions": sessions, "deletedEvents": events}


# --- JavaScript arithmetic of the original ------------------------------------------------------


def js_round(value: float) -> int:
    """``Math.round``: halves go up (Python's ``round`` goes to even)."""
    return math.floor(value + 0.5)


def _number(value: float) -> int | float:
    """JSON as JavaScript writes it: ``100``, not ``100.0``."""
    return int(value) if float(value).is_integer() else value


def round2(value: float) -> int | float:
    """``Math.round(x * 100) / 100``."""
    return _number(js_round(value * 100) / 100)


def percent(part: float, whole: float) -> int | float:
    """``whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0``."""
    return _number(js_round((part / whole) * 10000) / 100) if whole > 0 else 0


def _seconds_between(start: datetime, end: datetime) -> int:
    """MySQL's ``TIMESTAMPDIFF(SECOND, start, end)``: whole seconds, truncated toward zero."""
    return int((end - start).total_seconds())


def _js_truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, float) and math.isnan(value))


def _js_key(value: Any) -> str:
    """``String(value)`` as an object key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def _is_array_index(key: str) -> bool:
    return key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1


def js_key_order(keys: Iterable[str]) -> list[str]:
    """The order in which JavaScript enumerates an object's keys: array indexes ascending, then
    the other keys in insertion order."""
    keys = list(dict.fromkeys(keys))
    return sorted((k for k in keys if _is_array_index(k)), key=int) + [k for k in keys if not _is_array_index(k)]


def _js_parse_int(text: str) -> int | None:
    """``parseInt``: the leading integer, or None for NaN."""
    text = text.strip()
    digits = ""
    for i, ch in enumerate(text):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return None


# --- statistics ------------------------------------------------------------------------------


class SessionJourney(NamedTuple):
    completed: bool
    last_step: int
    step_times: dict[int, int]


def analyse_journey(events: list[dict[str, Any]]) -> SessionJourney:
    """One session of the booking tunnel (its events in time order), as the original analysed it."""
    completed = any(e["code_EventType"] == "payment_succeeded" for e in events)
    last_step = 1  # having started the tunnel counts as step 1
    by_step: dict[int, list[datetime]] = {}
    for e in events:
        code = e["code_EventType"]
        if code.startswith("booking_step_"):
            step = _js_parse_int(code.removeprefix("booking_step_"))
            if step is None:
                continue
            by_step.setdefault(step, []).append(e["event_ts"])
            last_step = max(last_step, step)
    payments = sorted(e["event_ts"] for e in events if e["code_EventType"] == "payment_succeeded")
    step_times: dict[int, int] = {}
    for step in STEPS:
        stamps = sorted(by_step.get(step, []))
        if not stamps:
            step_times[step] = 0
            continue
        first = stamps[0]
        if step < 5:
            following = sorted(by_step.get(step + 1, []))
            next_ts = following[0] if following else None
        else:  # the step after the last is the payment
            next_ts = next((p for p in payments if p > first), None)
        step_times[step] = js_round((next_ts - first).total_seconds()) if next_ts and next_ts > first else 0
    return SessionJourney(completed, last_step, step_times)


def tunnel_statistics(journeys: list[SessionJourney], payment: dict[str, int]) -> tuple[dict, dict]:
    """(tunnelReservation, paymentStats) of the original."""
    by_step = dict.fromkeys(STEPS, 0)
    for journey in journeys:
        by_step[1] += 1
        for step in range(2, min(journey.last_step, 5) + 1):
            by_step[step] += 1
    exits = {}
    for step in STEPS:
        count = by_step[step] - (by_step[step + 1] if step < 5 else 0)
        if count > 0:
            exits[step] = count
    total_exits = sum(exits.values())
    started = len(journeys)
    reached5 = by_step[5]
    average: dict[int, int | float] = {}
    for step in STEPS:
        times = [j.step_times[step] for j in journeys if j.step_times[step] > 0]
        average[step] = round2(sum(times) / len(times)) if times else 0
    attempts = payment["succeeded"] + payment["failed"]
    payment_stats = {
        "buttonClicked": payment["buttonClicked"],
        "succeeded": payment["succeeded"],
        "failed": payment["failed"],
        "totalAttempts": attempts,
        "successRate": percent(payment["succeeded"], attempts),
        "failureRate": percent(payment["failed"], attempts),
        "step5ToButtonClickRate": percent(payment["buttonClicked"], reached5),
    }
    tunnel = {
        "started": started,
        "completed": reached5,  # sessions that reached step 5 (not those who paid), as the original
        "completionRate": percent(reached5, started),
        "sessionsByStep": {f"step{s}": by_step[s] for s in STEPS},
        "stepPercentages": {f"step{s}": percent(by_step[s], started) for s in STEPS},
        "conversionRates": {f"step{s}_to_step{s + 1}": percent(by_step[s + 1], by_step[s]) for s in STEPS[:-1]},
        "averageTimeByStep": {f"step{s}": average[s] for s in STEPS},
        "exitByStep": {str(s): {"count": c, "percentage": percent(c, total_exits)} for s, c in exits.items()},
    }
    return tunnel, payment_stats


def abandonment_point(abandoned: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for event in abandoned:
        data = event["event_data"] if isinstance(event["event_data"], dict) else {}
        step = data.get("step")
        key = _js_key(step if _js_truthy(step) else 0)
        counts[key] = counts.get(key, 0) + 1
    best_step: int | None = 0
    best_count = 0
    for key in js_key_order(counts):
        if counts[key] > best_count:
            best_count, best_step = counts[key], _js_parse_int(key)
    return {"step": best_step, "count": best_count, "percentage": percent(best_count, len(abandoned))}


def retreat_modal_statistics(opened: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = {}
    for event in opened:
        data = event["event_data"] if isinstance(event["event_data"], dict) else {}
        retreat_id = data.get("retreat_id")
        key = _js_key(retreat_id) if _js_truthy(retreat_id) else "unknown"
        title = data.get("retreat_title")
        if key not in stats:
            stats[key] = {"count": 0, "retreat_title": title if _js_truthy(title) else "Retraite inconnue"}
        stats[key]["count"] += 1
    rows = [
        {"retreat_id": k, "retreat_title": stats[k]["retreat_title"], "count": stats[k]["count"]} for k in js_key_order(stats)
    ]
    return sorted(rows, key=lambda r: -r["count"])  # stable, as Array.prototype.sort


def _median(values: list[int]) -> float:
    values = sorted(values)
    if not values:
        return 0
    middle = len(values) // 2
    return (values[middle - 1] + values[middle]) / 2 if len(values) % 2 == 0 else values[middle]


def page_statistics(repo: AnalyticsRepository) -> list[dict[str, Any]]:
    views_by_path = repo.page_view_counts()
    merged: dict[str, dict[str, Any]] = {}
    for raw_path, views in views_by_path:
        path = raw_path.split("?")[0]
        unique = repo.unique_sessions_viewing(path)
        times = [t for t in (_seconds_between(v, x) for v, x in repo.view_exit_pairs(path)) if t > 0]
        display = path[1:] if path.startswith("/") else path
        if display in ("", "/"):
            display = "Accueil"
        if display in merged:
            merged[display]["views"] += views
            merged[display]["uniqueSessions"] = max(merged[display]["uniqueSessions"], unique)
        else:
            merged[display] = {
                "page": display,
                "views": views,
                "uniqueSessions": unique,
                "medianTimeOnPage": round2(_median(times)),
            }
    total = sum(stat["views"] for stat in merged.values())
    pages = [{**stat, "percentage": percent(stat["views"], total)} for stat in merged.values()]
    return sorted(pages, key=lambda p: -p["views"])


def get_stats() -> dict[str, Any]:
    """The original's ``getStats()`` result."""
    repo = AnalyticsRepository()
    total_sessions = repo.count_sessions()
    total_events = repo.count_events()

    # 1. Bounce: one page_view, and under 30 s (still open: until now).
    at = now()
    bounces = sum(1 for s in repo.sessions_with_single_page_view() if _seconds_between(s["started_at"], s["ended_at"] or at) < 30)
    bounce_rate = bounces / total_sessions * 100 if total_sessions > 0 else 0

    # 2. Overall conversion: payment_succeeded events per booking_funnel_started event.
    funnel_started = repo.count_events("booking_funnel_started")
    payment_succeeded = repo.count_events("payment_succeeded")
    conversion_rate = payment_succeeded / funnel_started * 100 if funnel_started > 0 else 0

    # 3. Booking tunnel, session by session.
    tunnel_events = repo.events_of_sessions_with("booking_funnel_started")
    journeys = [analyse_journey(list(events)) for _, events in groupby(tunnel_events, key=lambda e: e["session_id_Session"])]
    payment = {
        "succeeded": repo.count_distinct_sessions_with("payment_succeeded"),
        "failed": repo.count_distinct_sessions_with("payment_failed"),
        "buttonClicked": repo.count_distinct_sessions_with("payment_button_clicked"),
    }
    tunnel, payment_stats = tunnel_statistics(journeys, payment)

    # 4. Where abandons happen.
    abandonment = abandonment_point(repo.events_of("booking_abandoned"))

    # 6-7. Devices and browsers.
    devices = repo.device_counts()
    total_devices = sum(devices.values())
    device_distribution = {
        d: {"count": devices.get(d, 0), "percentage": percent(devices.get(d, 0), total_devices)}
        for d in ("mobile", "desktop", "tablet")
    }
    browsers = repo.browser_counts()
    total_browsers = sum(n for _, n in browsers)
    browser_distribution = {b: {"count": n, "percentage": percent(n, total_browsers)} for b, n in browsers}

    # 8. Conversion by sign-in status.
    started_by_login = repo.events_by_login("booking_funnel_started")
    paid_by_login = repo.events_by_login("payment_succeeded")
    conversion_by_login = {
        name: {
            "started": started_by_login[flag],
            "completed": paid_by_login[flag],
            "rate": percent(paid_by_login[flag], started_by_login[flag]),
        }
        for name, flag in (("loggedIn", True), ("notLoggedIn", False))
    }

    # 11. Sessions with and without sign-in.
    with_login = repo.count_sessions(is_login=True)
    without_login = repo.count_sessions(is_login=False)
    login_stats = {
        "withLogin": with_login,
        "withoutLogin": without_login,
        "total": total_sessions,
        "withLoginPercentage": percent(with_login, total_sessions),
        "withoutLoginPercentage": percent(without_login, total_sessions),
    }

    return {
        "totalSessions": total_sessions,
        "totalEvents": total_events,
        "bounceRate": round2(bounce_rate),
        "conversionRate": round2(conversion_rate),
        "eventsByType": dict(repo.events_by_type()),
        "tunnelReservation": tunnel,
        "abandonmentPoint": abandonment,
        "deviceDistribution": device_distribution,
        "browserDistribution": browser_distribution,
        "conversionByLoginStatus": conversion_by_login,
        "pageStats": page_statistics(repo),
        "retreatModalStats": retreat_modal_statistics(repo.events_of("retreat_modal_opened")),
        "loginStats": login_stats,
        "paymentStats": payment_stats,
    }
