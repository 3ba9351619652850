"""The booking's calendar: the .ics in the confirmation email (REQUEST), the download route for
its owner or guest, and the cancellation email's METHOD:CANCEL with the same UID
(docs/calendar.md). Files are read back with icalendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
from bson import ObjectId

from tests.support.accounts import admin_session, client_session
from tests.support.catalogue import START, booking_body
from tests.support.outbox import mails_to

PARIS = ZoneInfo("Europe/Paris")


def _event(text: str | bytes):
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), event


def _calendar_part(mail):
    found = [(name, ctype, content) for name, ctype, content in mail.attachments() if ctype == "text/calendar"]
    return found


def _paid_booking(api, admin, retreat, stripe_fake, client=None):
    booking = (client or api).post("/bookings", json=booking_body(retreat, nb=2)).json()
    pi = stripe_fake.add_payment_intent(amount=round(booking["prixTotal"] * 100), metadata={"bookingId": booking["_id"]})
    stripe_fake.succeed(pi["id"])
    assert admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": pi["id"]}).status == 200
    return booking


def test_confirmation_email_carries_the_event_and_cancellation_removes_it(make_client, api, retreat, stripe_fake, outbox_dir):
    admin, _ = admin_session(make_client)
    booking = _paid_booking(api, admin, retreat, stripe_fake)

    [confirmation] = mails_to(outbox_dir, "zoe0@example.test", "booking_confirmation")
    [(name, _, content)] = _calendar_part(confirmation)
    assert name == f"reservation-retraite-équinoxe-12-03-{START.year}.ics"
    part = next(p for p in confirmation.message.iter_attachments() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "REQUEST"  # iTIP: the part says what the file does
    method, event = _event(content)
    assert method == "REQUEST" and str(event["UID"]) == f"booking-{booking['_id']}@lutea"
    assert event.decoded("DTSTART") == datetime(START.year, 3, 12, 10, 0, tzinfo=PARIS)  # heureArrivee 10h00
    assert event.decoded("DTEND") == datetime(START.year, 3, 14, 17, 0, tzinfo=PARIS)  # heureDepart 17h00
    assert str(event["LOCATION"]) == "12 chemin des Oliviers, Lodève"
    assert str(event["ORGANIZER"]).startswith("mailto:")

    assert admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={"raison": "Météo"}).status == 200
    [cancelled] = mails_to(outbox_dir, "zoe0@example.test", "booking_cancelled")
    [(_, _, cancel_content)] = _calendar_part(cancelled)
    method, cancel = _event(cancel_content)
    assert method == "CANCEL" and str(cancel["UID"]) == str(event["UID"])
    assert int(cancel["SEQUENCE"]) > int(event["SEQUENCE"]) and str(cancel["STATUS"]) == "CANCELLED"


def test_a_booking_never_paid_is_cancelled_without_a_calendar_file(make_client, api, retreat, outbox_dir):
    admin, _ = admin_session(make_client)
    booking = api.post("/bookings", json=booking_body(retreat, nb=1)).json()
    assert admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={}).status == 200
    for mail in mails_to(outbox_dir, "zoe0@example.test", "booking_cancelled"):
        assert _calendar_part(mail) == []


def test_owner_downloads_the_calendar_and_others_cannot(make_client, retreat):
    owner, _ = client_session(make_client)
    booking = owner.post("/bookings", json=booking_body(retreat, nb=1)).json()
    path = f"/bookings/{booking['_id']}/calendar"

    response = owner.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    assert f'filename="reservation-retraite-equinoxe-12-03-{START.year}.ics"' in response.headers["Content-Disposition"]
    method, event = _event(response.body)
    assert method == "PUBLISH" and str(event["UID"]) == f"booking-{booking['_id']}@lutea"
    assert str(event["STATUS"]) == "TENTATIVE"  # awaiting payment

    stranger, _ = client_session(make_client)
    assert stranger.get(path).status == 404
    assert make_client().get(path).status == 401
    assert owner.get(f"/bookings/{ObjectId()}/calendar").status == 404
    bad = owner.get("/bookings/nope/calendar")
    assert bad.status == 400 and bad.json()["details"]["message"] == "ID de booking invalide"


def test_guest_downloads_the_calendar_with_the_booking_proof(make_client, retreat):
    guest = make_client()
    booking = guest.post("/bookings", json=booking_body(retreat, nb=1)).json()
    path = f"/bookings/{booking['_id']}/calendar"

    response = make_client().get(path, headers={"X-Booking-Token": booking["guestToken"]})
    assert response.status == 200 and _event(response.body)[0] == "PUBLISH"
    assert make_client().get(path, headers={"X-Booking-Token": "x" * 43}).status == 404
    assert make_client().get(path).status == 401
    # The calendar route is not listed by another booking's proof.
    other = guest.post("/bookings", json=booking_body(retreat, nb=1)).json()
    assert make_client().get(path, headers={"X-Booking-Token": other["guestToken"]}).status == 404
