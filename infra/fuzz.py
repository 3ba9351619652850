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


ADMIN_EMAIL = "fuzz-admin@lutea.local"
SESSION_ENDERS = ("POST /auth/logout", "DELETE /users/profile")
ADMIN_PASSWORD = "Fuzz!Admin12345"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_schemathesis() -> None:
    if SCHEMATHESIS.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(SCHEMATHESIS.parents[1])], check=True)
    subprocess.run([str(SCHEMATHESIS.parent / "pip"), "install", "-q", "schemathesis==4.32.5"], check=True)


def _admin_token(base: str, outbox: Path) -> str:
    """Sign the demo admin in (password, then the emailed 2FA code) so that the fuzzer also
    reaches the signed-in and admin routes, with a Bearer token (no CSRF origin needed)."""
    import email
    import email.policy
    import http.client
    import json
    import re
    from http.cookies import SimpleCookie

    def post(path: str, payload: dict) -> http.client.HTTPResponse:
        request = urllib.request.Request(
            base + path, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=10)
        return response

    post("/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    [mail] = sorted(outbox.glob("*two_factor_code*.eml"))[-1:]
    body = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default).get_body(("plain",))
    assert body is not None, f"{mail.name} has no text part"
    text = body.get_content()
    code = re.search(r"\b(\d{8})\b", text).group(1)  # type: ignore[union-attr]
    response = post("/auth/2fa/finalize", {"email": ADMIN_EMAIL, "code": code})
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return cookies["access_token"].value


def _get(base: str, path: str, token: str) -> tuple[int, dict]:
    import json
    import urllib.error

    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def main() -> int:
    _ensure_schemathesis()
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="lutea-fuzz-"))
    env = {
        **os.environ,
        "PORT": str(port),
        "EMAIL_OUTBOX_DIR": str(work / "outbox"),
        "ANALYTICS_SQLITE_PATH": str(work / "analytics.sqlite3"),
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "RATE_LIMIT_STRICT_PER_MINUTE": "1000000",
        "RATE_LIMIT_CONTACT_PER_MINUTE": "1000000",
        "RATE_LIMIT_BOOKING_PER_MINUTE": "1000000",
        "PENDING_BOOKINGS_PER_CLIENT": "1000000",
        "PENDING_SEATS_PER_CLIENT": "1000000",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.local.server"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        token = _admin_token(base, work / "outbox")
        _, account = _get(base, "/auth/user-info", token)
        if not account.get("_id"):
            print("make test-fuzz: could not read the admin's account after signing in")
            return 1
        cmd = [
            str(SCHEMATHESIS),
            "run",
            f"{base}/openapi.json",
            "-n",
            os.environ.get("FUZZ_EXAMPLES", "25"),
            "--seed",
            "1",
            "--request-timeout",
            "10",
            "-H",
            f"Authorization: Bearer {token}",
            "-c",
            "not_a_server_error,response_schema_conformance,status_code_conformance",
            # Signing out or deleting the account would end the admin session for every later
            # request: the signed-in and admin routes would then only ever answer 401.
            *[arg for name in SESSION_ENDERS for arg in ("--exclude-name", name)],
        ]
        # The extreme inputs its default strategies never produce (infra/fuzz_hooks.py).
        # The admin's own id, which the fuzzer learns from responses: the hooks keep it out of
        # DELETE /users/{id} (an admin deleting their own account ends the session too).
        hooks = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "infra.fuzz_hooks",
            "PYTHONPATH": str(ROOT),
            "FUZZ_ADMIN_ID": str(account["_id"]),
        }
        code = subprocess.run(
            cmd, cwd=work, env=hooks, timeout=int(os.environ.get("FUZZ_TIMEOUT", "900")), check=False
        ).returncode
        # A run that lost its admin session half-way only met 401 on the routes fuzzed after
        # that: it did not test them, so it fails.
        status, _ = _get(base, "/auth/admin/check", token)
        if status != 200:
            print(f"The fuzzer's admin session ended during the run (GET /auth/admin/check: {status}).")
            return code or 1
        return code
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
