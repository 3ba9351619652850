"""MySQL down: analytics answers 503 within 3 s (a server that accepts and never answers, and a
closed port), and the other modules are not affected."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lutea import config
from lutea.data.sql import reset_sql

from tests.support.accounts import admin_session
from tests.support.mysql import point_at_mysql

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word (no MySQL greeting)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(params=["silent_server", "closed_port"])
def mysql_down(request, monkeypatch) -> Iterator[None]:
    port = request.getfixturevalue(request.param)
    point_at_mysql(monkeypatch, "lutea_unreachable", host="127.0.0.1", port=port)
    reset_sql()
    yield
    reset_sql()


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/analytics/session", {"session_id": "s1", "started_at": "2026-12-01T10:00:00Z"}),
        ("POST", "/analytics/event", {"session_id": "s1", "event_type_code": "page_view"}),
        ("PATCH", "/analytics/session/s1", {"is_login": True}),
    ],
)
def test_public_routes_answer_503_within_3_seconds(api, mysql_down, method, path, body):
    response, elapsed = _timed(lambda: api.request(method, path, json=body))
    assert response.status == 503
    assert response.json()["message"] == "Service d'analytics temporairement indisponible"
    assert elapsed < 3, f"503 took {elapsed:.2f} s"
    # A second request tries again (no connection cached in a broken state), just as fast.
    response, elapsed = _timed(lambda: api.request(method, path, json=body))
    assert response.status == 503 and elapsed < 3


def test_admin_stats_answer_503_within_3_seconds(make_client, mysql_down):
    admin, _ = admin_session(make_client)
    response, elapsed = _timed(lambda: admin.get("/analytics/stats"))
    assert response.status == 503
    assert elapsed < 3, f"503 took {elapsed:.2f} s"


def test_other_modules_work_while_analytics_is_down(api, mysql_down):
    response, elapsed = _timed(
        lambda: api.post(
            "/email/contact",
            json={
                "nom": "Martin",
                "prenom": "Anne",
                "email": "anne@example.test",
                "telephone": "06",
                "message": "Bonjour",
                "rgpd": True,
            },
        )
    )
    assert response.status == 200 and elapsed < 1


@pytest.mark.mysql
def test_analytics_recovers_when_mysql_is_back(api, mysql_database, monkeypatch, closed_port):
    point_at_mysql(monkeypatch, mysql_database, port=closed_port)
    assert api.post("/analytics/event", json={"session_id": "back", "event_type_code": "page_view"}).status == 503
    point_at_mysql(monkeypatch, mysql_database)
    assert api.post("/analytics/event", json={"session_id": "back", "event_type_code": "page_view"}).status == 201
    config.reset_settings()


def test_nothing_outside_analytics_imports_the_sql_client():
    allowed = {
        ROOT / "layers/shared/lutea/data/sql.py",
        ROOT / "layers/shared/lutea/data/analytics.py",
        ROOT / "layers/shared/lutea/domain/analytics.py",
        ROOT / "functions/analytics/app.py",
        ROOT / "infra/migrate.py",
        # RGPD export and erasure reach her analytics sessions, through the analytics domain,
        # imported on use only (docs/rgpd.md).
        ROOT / "layers/shared/lutea/domain/personal_data.py",
    }
    pattern = re.compile(
        r"^\s*(from|import)\s+(pymysql|sqlite3|lutea\.data\.sql|lutea\.data\.analytics"
        r"|lutea\.domain\.analytics|lutea\.data import .*\b(sql|analytics)\b)",
        re.M,
    )
    offenders = []
    for base in ("layers/shared/lutea", "functions"):
        for path in (ROOT / base).rglob("*.py"):
            if path not in allowed and pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_production_without_mysql_answers_503_instead_of_a_container_local_file(api, monkeypatch, tmp_path):
    from lutea.config import reset_settings
    from lutea.data.sql import reset_sql

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("JWT_ACCESS_SECRET", "p" * 40)
    monkeypatch.setenv("JWT_REFRESH_SECRET", "q" * 40)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + "w" * 32)
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.delenv("MYSQL_HOST", raising=False)
    monkeypatch.setattr("lutea.http.ratelimit.enforce", lambda event: None)  # no MongoDB in this test
    reset_settings()
    reset_sql()
    response = api.post("/analytics/session", json={"session_id": "s-prod", "started_at": "2026-12-01T09:00:00Z"})
    assert response.status == 503
    assert not (tmp_path / "analytics.sqlite3").exists()
    reset_sql()
