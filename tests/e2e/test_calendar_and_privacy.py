"""Beyond the original, end to end over HTTP against `make dev`'s server: the booking's calendar
file (confirmation, download, cancellation), read back with icalendar."""

from __future__ import annotations

import icalendar
import pytest

from tests.e2e.client import Http, book, pay, sign_in_admin
from tests.support.outbox import read_outbox
from tests.support.polling import wait_for

pytestmark = pytest.mark.e2e


def _event(content):
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def _calendar_of(mail):
    [content] = [c for _, ctype, c in mail.attachments() if ctype == "text/calendar"]
    return _event(content)


def test_paid_booking_gets_a_calendar_event_that_its_cancellation_removes(server):
    base, _, outbox, _ = server
    http = Http(base)
    _, _, retreats = http.call("GET", "/retreats/public")
    retreat = retreats[0]
    date = retreat["dates"][0]
    status, booking = book(http, retreat, date, [{"prenom": "Maëlle", "nom": "Roux", "email": "maelle@e2e.test"}])
    assert status == 201
    pay(base, booking)
    proof = {"X-Booking-Token": booking["guestToken"]}

    confirmation = wait_for(
        lambda: [m for m in read_outbox(outbox) if m.kind == "booking_confirmation" and "maelle@e2e.test" in m.to]
    )[0]
    method, event = _calendar_of(confirmation)
    assert method == "REQUEST" and str(event["UID"]) == f"booking-{booking['_id']}@lutea"
    assert event.decoded("DTSTART").tzinfo.key == "Europe/Paris"
    assert str(event["LOCATION"]) == date["adresseRdv"]

    status, headers, ics = http.call("GET", f"/bookings/{booking['_id']}/calendar", headers=proof)
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    method, downloaded = _event(ics)
    assert method == "PUBLISH" and str(downloaded["UID"]) == str(event["UID"])
    assert downloaded.decoded("DTSTART") == event.decoded("DTSTART")

    admin = sign_in_admin(base, outbox)
    status, _, cancelled = admin.call("PATCH", f"/bookings/admin/{booking['_id']}/cancel", {"raison": "Test"})
    assert status == 200 and cancelled["statut"] == "CANCELLED"
    cancellation = wait_for(
        lambda: [m for m in read_outbox(outbox) if m.kind == "booking_cancelled" and "maelle@e2e.test" in m.to]
    )[0]
    method, removal = _calendar_of(cancellation)
    assert method == "CANCEL" and str(removal["UID"]) == str(event["UID"])
    assert int(removal["SEQUENCE"]) > int(event["SEQUENCE"])


def test_a_user_downloads_her_data_then_deletes_her_account(server):
    import re

    base, _, outbox, _ = server
    http = Http(base)
    password = "Priv4cy!Pass"
    status, _, _ = http.call(
        "POST",
        "/auth/register",
        {
            "email": "camille@e2e.test",
            "password": password,
            "firstName": "Camille",
            "lastName": "Petit",
            "phone": "0600000003",
            "address": "5 rue D",
            "city": "Arles",
            "postalCode": "13200",
            "country": "France",
        },
    )
    assert status == 201
    mail = wait_for(lambda: [m for m in read_outbox(outbox) if m.kind == "validation_link" and "camille@e2e.test" in m.to])[-1]
    token = re.search(r"token=([\w-]+)", mail.text).group(1)
    status, _, _ = http.call("POST", "/auth/validate-email", {"token": token})
    assert status == 200 and http.cookies.get("access_token")
    status, _, _ = http.call("POST", "/analytics/session", {"session_id": "e2e-camille", "started_at": "2026-12-01T09:00:00Z"})
    assert status == 201

    status, headers, data = http.call("GET", "/users/profile/export")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert data["profil"]["email"] == "camille@e2e.test" and "password" not in data["profil"]
    assert [s["session_id"] for s in data["sessionsAnalytiques"]] == ["e2e-camille"]

    status, _, refused = http.call("POST", "/users/profile/delete", {"currentPassword": "Wrong!Pass1"})
    assert status == 400 and refused["details"]["message"] == "Mot de passe actuel incorrect"
    status, _, done = http.call("POST", "/users/profile/delete", {"currentPassword": password})
    assert status == 200 and done["message"] == "Compte supprimé avec succès"
    assert http.call("GET", "/auth/profile")[0] == 401
    status, _, _ = Http(base).call("POST", "/auth/login", {"email": "camille@e2e.test", "password": password})
    assert status == 401
