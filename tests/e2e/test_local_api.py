"""End to end: `make dev`'s server in a subprocess, spoken to over HTTP."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.client import ADMIN, Http, book, sign_in_admin
from tests.support.outbox import read_outbox

pytestmark = pytest.mark.e2e


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
    status, _, body = http.call("POST", "/auth/login", ADMIN)
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
    zoe = {"prenom": "Zoé", "nom": "Lefèvre", "email": "zoe@e2e.test"}
    status, booking = book(http, retreat, date, [zoe], nbPlaces=2, prixTotal=1)  # a price sent is ignored
    assert status == 201 and booking["statut"] == "PENDING" and booking["guestToken"]
    assert booking["prixTotal"] == date["prix"] * 2
    _, _, after = http.call("POST", "/bookings/available-places", {"retreatId": retreat["_id"], "date": date["start"]})
    assert after["placesDisponibles"] == before["placesDisponibles"] - 2


def test_admin_pages_bookings_and_downloads_a_roster_for_french_excel(server):
    import csv
    import io

    base, _, outbox, _ = server
    guest = Http(base)
    _, _, retreats = guest.call("GET", "/retreats/public")
    retreat = retreats[2]
    date = retreat["dates"][0]
    noemie = {"prenom": "Noémie", "nom": "Bérard", "email": "noemie@e2e.test"}
    status, booking = book(guest, retreat, date, [noemie, {"prenom": "Loïc", "nom": "Bérard", "email": "loic@e2e.test"}])
    assert status == 201
    admin = sign_in_admin(base, outbox)

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
