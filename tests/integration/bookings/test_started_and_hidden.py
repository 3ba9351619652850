"""Date blocks that have started are no longer sold (booking and payment: 409; the admin may
still record a booking, explicitly), and the availability of a hidden retreat answers as if it
did not exist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.security.support import without_timestamp
from tests.support.accounts import admin_session
from tests.support.catalogue import START, booking_body

MSG_STARTED = "Cette session a déjà commencé : elle n'est plus réservable"
ISO_START = START.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_started_block_is_refused_to_customers(make_client: Any, retreat: dict, frozen_clock: Any) -> None:
    frozen_clock.set(START)  # the retreat begins now
    response = make_client().post("/bookings", json=booking_body(retreat, 1))
    assert response.status == 409, response.body
    assert response.json()["message"] == MSG_STARTED


def test_a_booking_made_before_the_start_can_not_be_paid_after_it(
    make_client: Any, retreat: dict, frozen_clock: Any, stripe_fake: Any
) -> None:
    frozen_clock.set(START - timedelta(minutes=5))  # five minutes before the start
    booking = make_client().post("/bookings", json=booking_body(retreat, 1)).json()
    frozen_clock.set(START + timedelta(minutes=1))  # still within its payment window
    response = make_client().post(
        "/stripe/create-payment-intent",
        json={"metadata": {"bookingId": booking["_id"]}},
        headers={"X-Booking-Token": booking["guestToken"]},
    )
    assert response.status == 409, response.body
    assert response.json()["message"] == MSG_STARTED
    assert stripe_fake.requests == []


def test_the_admin_records_a_late_booking_only_explicitly(make_client: Any, retreat: dict, frozen_clock: Any) -> None:
    frozen_clock.set(START + timedelta(days=1, hours=1))  # the second day of the retreat
    admin, _ = admin_session(make_client)
    refused = admin.post("/bookings/admin/create", json=booking_body(retreat, 1))
    assert refused.status == 409, refused.body
    assert "dateCommenceeAutorisee" in refused.json()["message"]
    accepted = admin.post("/bookings/admin/create", json=booking_body(retreat, 1, dateCommenceeAutorisee=True))
    assert accepted.status == 201, accepted.body
    assert (accepted.json()["statut"], accepted.json()["statutPaiement"]) == ("CONFIRMED", "PAID")
    bad = admin.post("/bookings/admin/create", json=booking_body(retreat, 1, dateCommenceeAutorisee="oui"))
    assert bad.status == 400


def test_availability_of_a_hidden_retreat_is_that_of_an_unknown_one(make_client: Any, make_retreat: Any) -> None:
    hidden = make_retreat(isActive=False)
    unknown_id = "0123456789abcdef01234567"
    client = make_client()
    post_hidden = client.post("/bookings/available-places", json={"retreatId": str(hidden["_id"]), "date": ISO_START})
    post_unknown = client.post("/bookings/available-places", json={"retreatId": unknown_id, "date": ISO_START})
    assert post_hidden.status == 404, post_hidden.body
    assert without_timestamp(post_hidden) == without_timestamp(post_unknown)
    get_hidden = client.get(f"/bookings/availability/{hidden['_id']}", query={"date": ISO_START})
    get_unknown = client.get(f"/bookings/availability/{unknown_id}", query={"date": ISO_START})
    assert get_hidden.status == get_unknown.status == 404, get_hidden.body
    assert {k: v for k, v in without_timestamp(get_hidden).items() if k != "path"} == {
        k: v for k, v in without_timestamp(get_unknown).items() if k != "path"
    }
    # Shown again, it answers.
    visible = make_retreat()
    ok = client.get(f"/bookings/availability/{visible['_id']}", query={"date": ISO_START})
    assert ok.status == 200 and ok.json()["placesDisponibles"] == 10
