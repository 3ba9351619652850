"""The local API (`make dev`'s server, demo data, a throwaway outbox and analytics file),
started once per test module in a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.client import ADMIN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    local = tmp_path_factory.mktemp("local")
    env = {
        **os.environ,
        "PORT": str(port),
        "EMAIL_OUTBOX_DIR": str(local / "outbox"),
        "ANALYTICS_SQLITE_PATH": str(local / "analytics.sqlite3"),
        "SEED_DEMO_DATA": "1",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_PASSWORD": ADMIN["password"],
        "PYTHONUNBUFFERED": "1",
        "RATE_LIMIT_PER_MINUTE": "1000",
        "RATE_LIMIT_STRICT_PER_MINUTE": "1000",
    }
    for var in ("MONGODB_DB", "STAGE"):
        env.pop(var, None)
    # The console goes to a file: an unread pipe fills up (64 KiB) and blocks the server.
    console = open(local / "console.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local.server"], cwd=ROOT, env=env, stdout=console, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/retreats/public", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                raise AssertionError((local / "console.log").read_text(encoding="utf-8"))
            time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError("the local API did not start in 60 s")
    yield base, proc, local / "outbox", local / "console.log"
    if proc.poll() is None:
        proc.kill()
    console.close()
