"""Analytics tables (EventType, Session, UserEvent): every query, written once for MySQL and
SQLite (``?`` placeholders, portable SQL; time arithmetic is left to Python, where MySQL's
TIMESTAMPDIFF and SQLite's julianday would differ)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lutea.data.sql import SqlDatabase, as_datetime, get_sql

SESSION_COLUMNS = "session_id, started_at, ended_at, browser, device_type, is_login"
EVENT_COLUMNS = "event_id, event_ts, page_path, event_data, session_id_Session, code_EventType"


def _session(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "session_id": row["session_id"],
        "started_at": as_datetime(row["started_at"]),
        "ended_at": as_datetime(row["ended_at"]),
        "browser": row["browser"],
        "device_type": row["device_type"],
        "is_login": bool(row["is_login"]),
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": int(row["event_id"]),
        "event_ts": as_datetime(row["event_ts"]),
        "page_path": row["page_path"],
        "event_data": _json(row["event_data"]),
        "session_id_Session": row["session_id_Session"],
        "code_EventType": row["code_EventType"],
    }


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally, then anything (escape character ``!``)."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


class AnalyticsRepository:
    def __init__(self, db: SqlDatabase | None = None) -> None:
        self.db = db or get_sql()

    # --- event types ------------------------------------------------------------------------
    def get_event_type(self, code: str) -> dict[str, Any] | None:
        row = self.db.fetch_one("SELECT code, label, category, is_enabled FROM EventType WHERE code = ?", (code,))
        return None if row is None else {**row, "is_enabled": bool(row["is_enabled"])}

    def list_enabled_event_types(self) -> list[dict[str, Any]]:
        rows = self.db.fetch_all(
            "SELECT code, label, category, is_enabled FROM EventType WHERE is_enabled = ? ORDER BY category, label", (True,)
        )
        return [{**row, "is_enabled": bool(row["is_enabled"])} for row in rows]

    # --- sessions ---------------------------------------------------------------------------
    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return _session(
            self.db.fetch_one(
                f"SELECT {SESSION_COLUMNS} FROM Session WHERE session_id = ?",  # noqa: S608
                (session_id,),
            )
        )

    def insert_session(
        self, *, session_id: str, started_at: datetime, browser: str | None, device_type: str | None, is_login: bool
    ) -> bool:
        """False when a session with this id already exists (the caller reads it)."""
        try:
            self.db.execute(
                "INSERT INTO Session (session_id, started_at, ended_at, browser, device_type, is_login) "
                "VALUES (?, ?, NULL, ?, ?, ?)",
                (session_id, started_at, browser, device_type, is_login),
            )
        except Exception as exc:
            if self.db.is_duplicate_key(exc):
                return False
            raise
        return True

    def end_session(self, session_id: str, ended_at: datetime) -> int:
        return self.db.execute("UPDATE Session SET ended_at = ? WHERE session_id = ?", (ended_at, session_id)).rowcount

    def mark_logged_in(self, session_id: str) -> int:
        """``is_login`` only ever moves from false to true."""
        return self.db.execute(
            "UPDATE Session SET is_login = ? WHERE session_id = ? AND is_login = ?", (True, session_id, False)
        ).rowcount

    def link_user(self, session_id: str, user_id: str) -> int:
        """The visit is a signed-in user's: kept so that her sessions can be exported and erased."""
        return self.db.execute("UPDATE Session SET user_id = ? WHERE session_id = ?", (user_id, session_id)).rowcount

    def sessions_of_user(self, user_id: str) -> list[dict[str, Any]]:
        rows = self.db.fetch_all(
            f"SELECT {SESSION_COLUMNS} FROM Session WHERE user_id = ? "  # noqa: S608
            "ORDER BY started_at",
            (user_id,),
        )
        return [s for s in (_session(r) for r in rows) if s is not None]

    def events_of_session(self, session_id: str) -> list[dict[str, Any]]:
        rows = self.db.fetch_all(
            f"SELECT {EVENT_COLUMNS} FROM UserEvent WHERE session_id_Session = ? "  # noqa: S608
            "ORDER BY event_ts, event_id",
            (session_id,),
        )
        return [_event(r) for r in rows]

    def delete_sessions_of_user(self, user_id: str) -> int:
        """Her sessions and, by cascade, their events."""
        return self.db.execute("DELETE FROM Session WHERE user_id = ?", (user_id,)).rowcount

    def delete_session(self, session_id: str) -> int:
        """Its events go with it (ON DELETE CASCADE)."""
        return self.db.execute("DELETE FROM Session WHERE session_id = ?", (session_id,)).rowcount

    # --- events -----------------------------------------------------------------------------
    def insert_event(
        self, *, session_id: str, code: str, event_ts: datetime, page_path: str | None, event_data_json: str | None
    ) -> int:
        result = self.db.execute(
            "INSERT INTO UserEvent (event_ts, page_path, event_data, session_id_Session, code_EventType) VALUES (?, ?, ?, ?, ?)",
            (event_ts, page_path, event_data_json, session_id, code),
        )
        return int(result.lastrowid or 0)

    def get_event(self, event_id: int) -> dict[str, Any] | None:
        row = self.db.fetch_one(f"SELECT {EVENT_COLUMNS} FROM UserEvent WHERE event_id = ?", (event_id,))  # noqa: S608
        return None if row is None else _event(row)

    def clear_all(self) -> tuple[int, int]:
        """Delete every session and event (event types stay). Returns (sessions, events)."""
        with self.db.transaction():
            sessions = int(self.db.scalar("SELECT COUNT(*) AS n FROM Session") or 0)
            events = int(self.db.scalar("SELECT COUNT(*) AS n FROM UserEvent") or 0)
            self.db.execute("DELETE FROM UserEvent")
            self.db.execute("DELETE FROM Session")
        return sessions, events

    # --- statistics (raw figures; the computations live in lutea.domain.analytics) -------------
    def count_sessions(self, *, is_login: bool | None = None) -> int:
        if is_login is None:
            return int(self.db.scalar("SELECT COUNT(*) AS n FROM Session") or 0)
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM Session WHERE is_login = ?", (is_login,)) or 0)

    def count_events(self, code: str | None = None) -> int:
        if code is None:
            return int(self.db.scalar("SELECT COUNT(*) AS n FROM UserEvent") or 0)
        return int(self.db.scalar("SELECT COUNT(*) AS n FROM UserEvent WHERE code_EventType = ?", (code,)) or 0)

    def sessions_with_single_page_view(self) -> list[dict[str, Any]]:
        """Sessions with exactly one page_view event: the bounce candidates (duration checked by the caller)."""
        rows = self.db.fetch_all(
            "SELECT s.session_id AS session_id, s.started_at AS started_at, s.ended_at AS ended_at "
            "FROM Session s JOIN UserEvent e ON e.session_id_Session = s.session_id "
            "WHERE e.code_EventType = ? GROUP BY s.session_id, s.started_at, s.ended_at "
            "HAVING COUNT(e.event_id) = 1",
            ("page_view",),
        )
        return [
            {"session_id": r["session_id"], "started_at": as_datetime(r["started_at"]), "ended_at": as_datetime(r["ended_at"])}
            for r in rows
        ]

    def events_of_sessions_with(self, code: str) -> list[dict[str, Any]]:
        """Every event of the sessions that have at least one ``code`` event, by session then time."""
        rows = self.db.fetch_all(
            f"SELECT {EVENT_COLUMNS} FROM UserEvent WHERE session_id_Session IN "  # noqa: S608
            "(SELECT DISTINCT session_id_Session FROM UserEvent WHERE code_EventType = ?) "
            "ORDER BY session_id_Session, event_ts, event_id",
            (code,),
        )
        return [_event(r) for r in rows]

    def count_distinct_sessions_with(self, code: str) -> int:
        return int(
            self.db.scalar("SELECT COUNT(DISTINCT session_id_Session) AS n FROM UserEvent WHERE code_EventType = ?", (code,)) or 0
        )

    def events_of(self, code: str) -> list[dict[str, Any]]:
        rows = self.db.fetch_all(
            f"SELECT {EVENT_COLUMNS} FROM UserEvent WHERE code_EventType = ? "  # noqa: S608
            "ORDER BY event_id",
            (code,),
        )
        return [_event(r) for r in rows]

    def device_counts(self) -> dict[str, int]:
        rows = self.db.fetch_all(
            "SELECT device_type AS device, COUNT(*) AS n FROM Session "
            "WHERE device_type IS NOT NULL GROUP BY device_type ORDER BY device_type"
        )
        return {str(r["device"]): int(r["n"]) for r in rows}

    def browser_counts(self) -> list[tuple[str, int]]:
        rows = self.db.fetch_all(
            "SELECT MIN(browser) AS browser, COUNT(*) AS n FROM Session "
            "WHERE browser IS NOT NULL GROUP BY browser ORDER BY MIN(browser)"
        )
        return [(str(r["browser"]), int(r["n"])) for r in rows]

    def events_by_login(self, code: str) -> dict[bool, int]:
        """Events of type ``code`` counted by their session's ``is_login``."""
        rows = self.db.fetch_all(
            "SELECT s.is_login AS is_login, COUNT(*) AS n FROM UserEvent e "
            "JOIN Session s ON s.session_id = e.session_id_Session WHERE e.code_EventType = ? GROUP BY s.is_login",
            (code,),
        )
        counts = {True: 0, False: 0}
        for r in rows:
            counts[bool(r["is_login"])] += int(r["n"])
        return counts

    def events_by_type(self) -> list[tuple[str, int]]:
        rows = self.db.fetch_all(
            "SELECT MIN(code_EventType) AS code, COUNT(*) AS n FROM UserEvent "
            "GROUP BY code_EventType ORDER BY MIN(code_EventType)"
        )
        return [(str(r["code"]), int(r["n"])) for r in rows]

    def page_view_counts(self) -> list[tuple[str, int]]:
        """page_view events by page_path (most viewed first)."""
        rows = self.db.fetch_all(
            "SELECT MIN(page_path) AS page, COUNT(*) AS views FROM UserEvent "
            "WHERE code_EventType = ? AND page_path IS NOT NULL GROUP BY page_path "
            "ORDER BY COUNT(*) DESC, MIN(page_path)",
            ("page_view",),
        )
        return [(str(r["page"]), int(r["views"])) for r in rows]

    def unique_sessions_viewing(self, path_prefix: str) -> int:
        return int(
            self.db.scalar(
                "SELECT COUNT(DISTINCT session_id_Session) AS n FROM UserEvent "
                "WHERE code_EventType = ? AND page_path LIKE ? ESCAPE '!'",
                ("page_view", like_prefix(path_prefix)),
            )
            or 0
        )

    def view_exit_pairs(self, path_prefix: str) -> list[tuple[datetime, datetime]]:
        """(page_view time, later page_exit time) pairs of one session on pages under ``path_prefix``."""
        pattern = like_prefix(path_prefix)
        rows = self.db.fetch_all(
            "SELECT v.event_ts AS viewed, x.event_ts AS exited FROM UserEvent v "
            "JOIN UserEvent x ON x.session_id_Session = v.session_id_Session "
            "AND x.code_EventType = ? AND x.page_path LIKE ? ESCAPE '!' "
            "WHERE v.code_EventType = ? AND v.page_path LIKE ? ESCAPE '!' AND x.event_ts > v.event_ts",
            ("page_exit", pattern, "page_view", pattern),
        )
        return [(as_datetime(r["viewed"]), as_datetime(r["exited"])) for r in rows]  # type: ignore[misc]
