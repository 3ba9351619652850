"""End to end: `make dev`'s server in a subprocess, spoken to over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.outbox import read_outbox

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Origin", "http://localhost:3000")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw, hdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, hdrs = err.code, err.read(), err.headers
        for cookie in hdrs.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return status, hdrs, (json.loads(raw) if raw and hdrs.get("Content-Type", "").startswith("application/json") else raw)


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
        "ADMIN_EMAIL": "admin@e2e.test",
        "ADMIN_PASSWORD": "Adm1n!Passw0rd",
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


def test_public_catalogue_has_the_demo_retreats(server):
    base, _, _, _ = server
    status, headers, body = Http(base).call("GET", "/retreats/public")
    assert status == 200 and len(body) == 3
    assert {r["titreCard"] for r in body} >= {"Retraite Yoga & Méditation"}
    assert all(r["isActive"] and r["dates"] and "prix" in r["dates"][0] for r in body)
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_catalogue_revalidates_with_its_etag(server):
    base, _, _, _ = server
    http = Http(base)
    status, headers, retreats = http.call("GET", "/retreats/public")
    etag = headers["ETag"]
    assert status == 200 and "max-age=" in headers["Cache-Control"] and "stale-while-revalidate" in headers["Cache-Control"]
    status, headers, body = http.call("GET", "/retreats/public", headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["ETag"] == etag
    one = f"/retreats/public/{retreats[0]['_id']}"
    status, headers, _ = http.call("GET", one)
    status, _, _ = http.call("GET", one, headers={"If-None-Match": headers["ETag"]})
    assert status == 304


def test_unknown_path_is_404_json_and_wrong_method_405(server):
    base, _, _, _ = server
    status, _, body = Http(base).call("GET", "/does/not/exist")
    assert status == 404 and body["statusCode"] == 404 and body["path"] == "/does/not/exist"
    for method in ("DELETE", "TRACE", "FOO"):
        status, _, body = Http(base).call(method, "/retreats/public")
        assert status == 405 and body["statusCode"] == 405


def test_admin_signs_in_with_the_emailed_code(server):
    base, _, outbox, _ = server
    http = Http(base)
    status, _, body = http.call("POST", "/auth/login", {"email": "admin@e2e.test", "password": "Adm1n!Passw0rd"})
    assert status == 200 and body["requires2FA"] is True and "access_token" not in http.cookies
    mail = [m for m in read_outbox(outbox) if m.kind == "two_factor_code"][-1]
    code = next(w for w in mail.text.split() if w.isdigit() and len(w) == 8)
    status, _, body = http.call("POST", "/auth/2fa/finalize", {"email": "admin@e2e.test", "code": code})
    assert status == 200 and body["user"]["role"] == "admin"
    status, _, body = http.call("GET", "/auth/admin/check")
    assert status == 200 and body["role"] == "admin"


def test_guest_books_seats_and_availability_drops(server):
    base, _, _, _ = server
    http = Http(base)
    _, _, retreats = http.call("GET", "/retreats/public")
    retreat = retreats[0]
    date = retreat["dates"][0]
    _, _, before = http.call("POST", "/bookings/available-places", {"retreatId": retreat["_id"], "date": date["start"]})
    status, _, booking = http.call(
        "POST",
        "/bookings",
        {
            "retreatId": retreat["_id"],
            "dateStart": date["start"],
            "dateEnd": date["end"],
            "nbPlaces": 2,
            "participants": [{"prenom": "Zoé", "nom": "Lefèvre", "email": "zoe@e2e.test"}],
            "billingAddress": {
                "address": "1 rue A",
                "city": "Montpellier",
                "postalCode": "34000",
                "country": "France",
                "phone": "0600000000",
            },
            "prixTotal": 1,
        },
    )
    assert status == 201 and booking["statut"] == "PENDING" and booking["guestToken"]
    assert booking["prixTotal"] == date["prix"] * 2
    _, _, after = http.call("POST", "/bookings/available-places", {"retreatId": retreat["_id"], "date": date["start"]})
    assert after["placesDisponibles"] == before["placesDisponibles"] - 2


def _admin(base, outbox):
    http = Http(base)
    http.call("POST", "/auth/login", {"email": "admin@e2e.test", "password": "Adm1n!Passw0rd"})
    mail = [m for m in read_outbox(outbox) if m.kind == "two_factor_code"][-1]
    code = next(w for w in mail.text.split() if w.isdigit() and len(w) == 8)
    status, _, _ = http.call("POST", "/auth/2fa/finalize", {"email": "admin@e2e.test", "code": code})
    assert status == 200
    return http


def test_admin_pages_bookings_and_downloads_a_roster_for_french_excel(server):
    import csv
    import io

    base, _, outbox, _ = server
    guest = Http(base)
    _, _, retreats = guest.call("GET", "/retreats/public")
    retreat = retreats[2]
    date = retreat["dates"][0]
    status, _, booking = guest.call(
        "POST",
        "/bookings",
        {
            "retreatId": retreat["_id"],
            "dateStart": date["start"],
            "dateEnd": date["end"],
            "nbPlaces": 2,
            "participants": [
                {"prenom": "Noémie", "nom": "Bérard", "email": "noemie@e2e.test"},
                {"prenom": "Loïc", "nom": "Bérard", "email": "loic@e2e.test"},
            ],
            "billingAddress": {
                "address": "2 rue B",
                "city": "Sète",
                "postalCode": "34200",
                "country": "France",
                "phone": "0600000001",
            },
        },
    )
    assert status == 201
    admin = _admin(base, outbox)

    status, _, page = admin.call("GET", f"/bookings/admin/all?page=1&limit=1&retreatId={retreat['_id']}")
    assert status == 200 and page["total"] >= 1 and page["items"][0]["_id"] == booking["_id"]
    status, _, array = admin.call("GET", "/bookings/admin/all")
    assert status == 200 and isinstance(array, list)

    status, headers, raw = admin.call("GET", f"/bookings/admin/roster/{retreat['_id']}/{date['_id']}")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert ".csv" in headers["Content-Disposition"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    mine = [r for r in rows if r["Réservation"] == booking["_id"]]
    assert [(r["Prénom"], r["Participant"]) for r in mine] == [("Noémie", "1/2"), ("Loïc", "2/2")]
    assert mine[0]["Statut"] == "En attente" and mine[0]["Montant payé (€)"] == "0,00"
    assert mine[1]["Email de contact"] == "noemie@e2e.test"


def test_concurrent_bookings_over_http_sell_exactly_the_free_seats(server):
    from concurrent.futures import ThreadPoolExecutor

    base, _, _, _ = server
    http = Http(base)
    _, _, retreats = http.call("GET", "/retreats/public")
    retreat = retreats[1]
    date = retreat["dates"][1]
    _, _, free = http.call("POST", "/bookings/available-places", {"retreatId": retreat["_id"], "date": date["start"]})
    body = {
        "retreatId": retreat["_id"],
        "dateStart": date["start"],
        "dateEnd": date["end"],
        "nbPlaces": 1,
        "participants": [{"prenom": "Léa", "nom": "Roux", "email": "lea@e2e.test"}],
        "billingAddress": {
            "address": "1 rue A",
            "city": "Nîmes",
            "postalCode": "30000",
            "country": "France",
            "phone": "0600000000",
        },
    }
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda _: Http(base).call("POST", "/bookings", body)[0], range(60)))
    assert statuses.count(201) == free["placesDisponibles"]
    assert statuses.count(409) == 60 - free["placesDisponibles"]  # no 5xx: one event at a time per function


def test_preflight_is_answered_for_every_allowed_origin_and_only_those(server):
    base, _, _, _ = server
    for origin, allowed in (("http://localhost:5173", True), ("http://localhost:3000", True), ("https://evil.example", False)):
        status, headers, _ = Http(base).call(
            "OPTIONS", "/bookings", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert status == 204
        assert (headers.get("Access-Control-Allow-Origin") == origin) is allowed
        assert ("POST" in (headers.get("Access-Control-Allow-Methods") or "")) is allowed


def test_openapi_document_is_served_locally(server):
    base, _, _, _ = server
    status, _, body = Http(base).call("GET", "/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.1") and "/bookings" in body["paths"]


def test_ctrl_c_stops_cleanly(server):
    _, proc, _, console = server
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    out = console.read_text(encoding="utf-8")
    assert proc.returncode == 0, out
    assert "stopped" in out
