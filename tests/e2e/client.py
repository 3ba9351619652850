"""What the end-to-end tests do over HTTP, written once: a cookie-keeping client, a guest
booking, the admin's sign-in with the emailed code, and a payment through the Stripe stand-in."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.outbox import read_outbox
from tests.support.polling import wait_for

ADMIN = {"email": "admin@e2e.test", "password": "Adm1n!Passw0rd"}  # the server fixture's admin
BILLING = {"address": "3 rue B", "city": "Lyon", "postalCode": "69001", "country": "France", "phone": "0600000001"}


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


def book(
    http: Http, retreat: dict, date: dict, participants: list[dict[str, str]], *, billing: dict | None = None, **extra: Any
) -> tuple[int, dict]:
    """``POST /bookings`` of ``date`` of ``retreat`` for ``participants`` (one seat each unless
    ``nbPlaces`` says otherwise): the status and the body."""
    body = {
        "retreatId": retreat["_id"],
        "dateStart": date["start"],
        "dateEnd": date["end"],
        "nbPlaces": len(participants),
        "participants": participants,
        "billingAddress": billing or BILLING,
        **extra,
    }
    status, _, booking = http.call("POST", "/bookings", body)
    return status, booking


def sign_in_admin(base: str, outbox: Path) -> Http:
    """The seeded admin, signed in with the code the server emailed."""
    http = Http(base)
    status, _, body = http.call("POST", "/auth/login", ADMIN)
    assert status == 200 and body["requires2FA"] is True
    mail = [m for m in read_outbox(outbox) if m.kind == "two_factor_code"][-1]
    code = next(w for w in mail.text.split() if w.isdigit() and len(w) == 8)
    assert http.call("POST", "/auth/2fa/finalize", {"email": ADMIN["email"], "code": code})[0] == 200
    return http


def pay(base: str, booking: dict) -> dict:
    """Pay a guest booking with the stand-in's card (its guest token as proof): the PaymentIntent."""
    proof = {"X-Booking-Token": booking["guestToken"]}
    status, _, intent = Http(base).call(
        "POST", "/stripe/create-payment-intent", {"metadata": {"bookingId": booking["_id"]}}, proof
    )
    assert status == 200, intent
    assert Http(base).call("POST", f"/_stripe/pay/{intent['id']}", {})[0] == 200
    return intent


def mails(outbox: Path, kind: str, to: str) -> list:
    return [m for m in read_outbox(outbox) if m.kind == kind and to in m.to]


def wait_for_mail(outbox: Path, kind: str, to: str) -> list:
    return wait_for(lambda: mails(outbox, kind, to))
