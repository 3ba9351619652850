"""A frontend developer's first hour against `make dev`'s server, without internet: the Swagger
UI and its assets come from the local server, and a guest booking is paid end to end through
the local Stripe stand-in (its signed webhook delivered to the local API), as README shows."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.e2e.client import Http, book
from tests.support.outbox import read_outbox
from tests.support.polling import wait_for

pytestmark = pytest.mark.e2e


def test_docs_page_and_its_assets_come_from_the_local_server_only(server):
    base, _, _, _ = server
    status, headers, page = Http(base).call("GET", "/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = page.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "http://" not in html and "https://" not in html  # no CDN, nothing remote
    for url in urls:
        status, headers, asset = Http(base).call("GET", url)
        assert status == 200 and len(asset) > 100_000, url  # the whole Swagger UI bundle / stylesheet
    assert "SwaggerUIBundle" in Http(base).call("GET", "/docs/swagger-ui-bundle.js")[2].decode()
    status, _, spec = Http(base).call("GET", "/openapi.json")
    assert status == 200 and spec["servers"] == [{"url": "/"}]  # "Try it out" calls this server


def _guest_booking(http: Http, seats: int = 1) -> dict:
    _, _, retreats = http.call("GET", "/retreats/public")
    retreat = retreats[2]
    date = retreat["dates"][0]
    ines = {"prenom": "Inès", "nom": "Garnier", "email": "ines@e2e.test"}
    status, booking = book(http, retreat, date, [ines], nbPlaces=seats)
    assert status == 201, booking
    return booking


def test_guest_booking_is_paid_end_to_end_through_the_stripe_standin(server):
    base, _, outbox, console = server
    http = Http(base)
    booking = _guest_booking(http)
    proof = {"X-Booking-Token": booking["guestToken"]}
    status, _, intent = http.call(
        "POST",
        "/stripe/create-payment-intent",
        {"amount": 1, "currency": "usd", "metadata": {"bookingId": booking["_id"]}},
        proof,
    )
    assert status == 200 and intent["id"].startswith("pi_") and intent["clientSecret"], intent

    # The stand-in's page lists it with its Pay button; a form POST (as the button sends) pays it.
    status, _, page = Http(base).call("GET", "/_stripe/")
    assert status == 200 and intent["id"] in page.decode() and "Payer" in page.decode()
    status, _, paid = Http(base).call("POST", f"/_stripe/pay/{intent['id']}", {})
    assert status == 200 and paid["status"] == "succeeded"

    # The signed payment_intent.succeeded reaches /stripe/webhook: the booking is confirmed and
    # the guest gets the confirmation with its PDF.
    mail = wait_for(lambda: [m for m in read_outbox(outbox) if m.kind == "booking_confirmation" and "ines@e2e.test" in m.to])
    assert mail[0].attachments()
    status, _, seen = http.call("POST", "/stripe/get-payment-intent", {"paymentIntentId": intent["id"]}, proof)
    assert status == 200 and seen["status"] == "succeeded" and seen["amount"] == round(booking["prixTotal"] * 100)
    assert f"payment_intent.succeeded {intent['id']} -> webhook 200" in console.read_text(encoding="utf-8")


def test_a_declined_card_is_announced_to_the_local_api(server):
    base, _, _, console = server
    http = Http(base)
    booking = _guest_booking(http)
    proof = {"X-Booking-Token": booking["guestToken"]}
    _, _, intent = http.call("POST", "/stripe/create-payment-intent", {"metadata": {"bookingId": booking["_id"]}}, proof)
    status, _, declined = Http(base).call("POST", f"/_stripe/decline/{intent['id']}", {})
    assert status == 200 and declined["status"] == "requires_payment_method"
    wait_for(lambda: f"payment_intent.payment_failed {intent['id']} -> webhook 200" in console.read_text(encoding="utf-8"))


def test_standin_buttons_refuse_another_sites_page(server):
    base, _, _, _ = server
    request = urllib.request.Request(
        f"{base}/_stripe/pay/pi_x", data=b"", method="POST", headers={"Origin": "https://evil.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403


def test_console_shows_one_line_per_request_and_problems_in_full(server):
    import socket
    import struct
    import urllib.parse

    base, _, _, console = server
    Http(base).call("GET", "/retreats/public?x=1")
    # A browser resetting a keep-alive connection, and one that goes away mid-request.
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    for request in (b"GET /retreats/public HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /retreats/pub"):
        sock = socket.create_connection((host, port))
        sock.sendall(request)
        if request.endswith(b"\r\n\r\n"):
            sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    # A payment for a booking that does not exist: the API logs an error.
    key = {"Authorization": "Bearer sk_test_local", "Content-Type": "application/x-www-form-urlencoded"}
    form = b"amount=5000&currency=eur&metadata[bookingId]=" + b"0" * 24
    with urllib.request.urlopen(
        urllib.request.Request(f"{base}/_stripe/v1/payment_intents", data=form, headers=key), timeout=5
    ) as response:
        orphan = json.loads(response.read())
    Http(base).call("POST", f"/_stripe/pay/{orphan['id']}", {})
    text = wait_for(lambda: (t := console.read_text(encoding="utf-8")) and "unknown booking" in t and t)
    lines = text.splitlines()
    assert re.search(r"^GET /retreats/public\?x=1 200 \d+ ms$", text, re.M), text
    assert not [line for line in lines if line.startswith("{")], text  # no JSON log lines, no metric blobs
    assert "Traceback" not in text and "ConnectionResetError" not in text, text
    error = next(line for line in lines if "payment for an unknown booking" in line)
    assert error.startswith("ERROR") and f"payment_intent={orphan['id']}" in error, error
