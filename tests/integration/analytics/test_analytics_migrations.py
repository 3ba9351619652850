"""infra/sql migrations through python -m infra.migrate and at first connection, on both backends;
the schema's foreign-key rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lutea.data import sql as sqlmod

from tests.support import mysql as mysql_support

ROOT = Path(__file__).resolve().parents[3]


def _run_migrate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "ANALYTICS_"))}
    full_env.update(env)
    full_env["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    return subprocess.run(
        [sys.executable, "-m", "infra.migrate", "--only", "sql", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_command_on_sqlite(tmp_path):
    env = {"ANALYTICS_SQLITE_PATH": str(tmp_path / "a.sqlite3")}
    first = _run_migrate(env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("applied 001_analytics, 002_session_user")
    again = _run_migrate(env)
    assert again.stdout.strip().endswith("up to date")
    status = _run_migrate(env, "--status")
    assert status.stdout.split() == [
        "001_analytics",
        "applied",
        "001_analytics.sqlite.sql",
        "002_session_user",
        "applied",
        "002_session_user.sqlite.sql",
    ]


@pytest.mark.mysql
def test_migrate_command_on_mysql():
    name = f"{mysql_support.database_name()}_cli"
    env = {
        "MYSQL_HOST": mysql_support.HOST,
        "MYSQL_PORT": str(mysql_support.PORT),
        "MYSQL_USER": mysql_support.USER,
        "MYSQL_PASSWORD": mysql_support.PASSWORD,
        "MYSQL_DATABASE": name,
    }
    try:
        first = _run_migrate(env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "MySQL: applied 001_analytics, 002_session_user"
        assert _run_migrate(env).stdout.strip() == "MySQL: up to date"
        conn = mysql_support._admin_connection()
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
                (name,),
            )
            tables = cursor.fetchall()
            cursor.execute(f"SELECT COUNT(*) FROM `{name}`.EventType")
            seeded = cursor.fetchone()[0]
        assert {t[0] for t in tables} == {"InnoDB"}
        assert all(t[1].startswith("utf8mb4") for t in tables)
        assert seeded == 13
    finally:
        conn = mysql_support._admin_connection()
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_the_application_migrates_at_first_connection_and_records_versions(sql, backend):
    versions = sql.fetch_all("SELECT version FROM schema_migrations")
    assert [v["version"] for v in versions] == ["001_analytics", "002_session_user"]
    assert sqlmod.apply_migrations(sql) == []  # cheap when already applied


def test_foreign_keys_cascade_sessions_and_restrict_event_types(api, sql, backend):
    api.post("/analytics/event", json={"session_id": "fk", "event_type_code": "page_view"})
    with pytest.raises(Exception) as info:
        sql.execute("DELETE FROM EventType WHERE code = ?", ("page_view",))
    assert "foreign key" in str(info.value).lower()
    with pytest.raises(Exception):
        sql.execute(
            "INSERT INTO UserEvent (event_ts, session_id_Session, code_EventType) VALUES (?, ?, ?)",
            ("2026-12-01 00:00:00", "no-such-session", "page_view"),
        )
    sql.execute("DELETE FROM Session WHERE session_id = ?", ("fk",))
    assert sql.scalar("SELECT COUNT(*) AS n FROM UserEvent") == 0


def test_migration_files_per_dialect():
    mysql_files = [m.path.name for m in sqlmod.migrations_for("mysql")]
    sqlite_files = [m.path.name for m in sqlmod.migrations_for("sqlite")]
    assert mysql_files[0] == "001_analytics.mysql.sql" and sqlite_files[0] == "001_analytics.sqlite.sql"


def test_split_statements_respects_quotes_and_comments():
    script = "-- a comment; not a statement\nCREATE TABLE t (a TEXT);\nINSERT INTO t VALUES ('x;y', 'it''s');\n"
    assert sqlmod.split_statements(script) == ["CREATE TABLE t (a TEXT)", "INSERT INTO t VALUES ('x;y', 'it''s')"]
