"""The machine's MariaDB/MySQL for tests (127.0.0.1:3306, root, empty password): one fresh
database per test session, named from ``LUTEA_TEST_MYSQL_DATABASE`` or ``lutea_test_<pid>``,
dropped at the end. Tests that use it are marked ``@pytest.mark.mysql``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

HOST = os.environ.get("LUTEA_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("LUTEA_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("LUTEA_TEST_MYSQL_USER", "root")
PASSWORD = os.environ.get("LUTEA_TEST_MYSQL_PASSWORD", "")
SEEDED_EVENT_TYPES = (
    "page_view",
    "page_exit",
    "retreat_modal_opened",
    "booking_funnel_started",
    "booking_step_1",
    "booking_step_2",
    "booking_step_3",
    "booking_step_4",
    "booking_step_5",
    "booking_abandoned",
    "payment_button_clicked",
    "payment_succeeded",
    "payment_failed",
)


def database_name() -> str:
    return os.environ.get("LUTEA_TEST_MYSQL_DATABASE") or f"lutea_test_{os.getpid()}"


def _admin_connection():
    import pymysql

    return pymysql.connect(
        host=HOST, port=PORT, user=USER, password=PASSWORD, autocommit=True, connect_timeout=3, read_timeout=10, write_timeout=10
    )


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    """A fresh, empty database for the whole test session (the application migrates it)."""
    name = database_name()
    try:
        conn = _admin_connection()
    except Exception as exc:  # the server is part of the test rig: say so clearly
        pytest.fail(f"MariaDB/MySQL not reachable at {HOST}:{PORT} ({exc}); deselect with -m 'not mysql'")
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()
    yield name
    from lutea.data.sql import reset_sql

    reset_sql()
    conn = _admin_connection()
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def point_at_mysql(monkeypatch: pytest.MonkeyPatch, database: str, *, host: str = HOST, port: int = PORT) -> None:
    from lutea import config

    monkeypatch.setenv("MYSQL_HOST", host)
    monkeypatch.setenv("MYSQL_PORT", str(port))
    monkeypatch.setenv("MYSQL_USER", USER)
    monkeypatch.setenv("MYSQL_PASSWORD", PASSWORD)
    monkeypatch.setenv("MYSQL_DATABASE", database)
    config.reset_settings()


@pytest.fixture
def mysql_analytics(mysql_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The application's analytics on the session database, emptied before the test (event types
    back to the seeded, enabled set)."""
    from lutea.data.sql import get_sql

    point_at_mysql(monkeypatch, mysql_database)
    db = get_sql()
    db.execute("DELETE FROM UserEvent")
    db.execute("DELETE FROM Session")
    placeholders = ", ".join("?" for _ in SEEDED_EVENT_TYPES)
    db.execute(f"DELETE FROM EventType WHERE code NOT IN ({placeholders})", SEEDED_EVENT_TYPES)
    db.execute("UPDATE EventType SET is_enabled = ?", (True,))
    yield mysql_database
