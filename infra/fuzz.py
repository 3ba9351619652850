"""`make test-fuzz`: schemathesis against the local API's OpenAPI document, bounded in time.

Starts the local server (in-process MongoDB stand-in, SQLite analytics, outbox) on a free port
with the rate limits raised, runs schemathesis from its own virtual environment (its pins clash
with the app's), and fails on any 5xx or response that does not conform to the schema."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = ROOT / ".tools" / "fuzz" / "bin" / "schemathesis"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_schemathesis() -> None:
    if SCHEMATHESIS.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(SCHEMATHESIS.parents[1])], check=True)
    subprocess.run([str(SCHEMATHESIS.parent / "pip"), "install", "-q", "schemathesis==4.32.5"], check=True)


def main() -> int:
    _ensure_schemathesis()
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="lutea-fuzz-"))
    env = {**os.environ, "PORT": str(port), "EMAIL_OUTBOX_DIR": str(work / "outbox"),
           "ANALYTICS_SQLITE_PATH": str(work / "analytics.sqlite3"), "RATE_LIMIT_PER_MINUTE": "1000000",
           "RATE_LIMIT_STRICT_PER_MINUTE": "1000000", "RATE_LIMIT_CONTACT_PER_MINUTE": "1000000",
           "POWERTOOLS_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen([sys.executable, "-m", "infra.local.server"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        cmd = [str(SCHEMATHESIS), "run", f"{base}/openapi.json", "-n", os.environ.get("FUZZ_EXAMPLES", "25"),
               "--seed", "1", "--request-timeout", "10",
               "-c", "not_a_server_error,response_schema_conformance,status_code_conformance"]
        return subprocess.run(cmd, cwd=work, timeout=int(os.environ.get("FUZZ_TIMEOUT", "900")), check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
