"""API3:2023 Broken Object Property Level Authorisation: fields a client must not set are refused
or ignored (mass assignment), and fields a client must not see never leave the server
(excessive data exposure; every response of this suite is also scanned by conftest)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from tests.security.support import assert_error, book, guest_proof, leaks_in, stored, user_with_password
from tests.support.accounts import admin_session, client_session, make_user, sign_in
from tests.support.catalogue import PRICE_CENTS, booking_body


@pytest.mark.parametrize(
    "field, value",
    [
        ("role", "admin"),
        ("isEmailVerified", False),
        ("failedLoginAttempts", 0),
        ("lockUntil", None),
        ("email", "attacker@example.test"),
        ("password", "Password1!"),
        ("passwordResetToken", "x"),
        ("verificationCode", "12345678"),
        ("createdAt", "2020-01-01T00:00:00.000Z"),
        ("_id", "0" * 24),
    ],
)
def test_profile_update_refuses_privileged_fields(make_client: Any, field: str, value: Any) -> None:
    client, user = client_session(make_client)
    before = stored("users", user["_id"])

    response = client.put("/users/profile", json={"firstName": "Mallory", field: value})

    body = assert_error(response, 400)
    assert f"property {field} should not exist" in body["details"]["message"]
    assert stored("users", user["_id"]) == before  # not even the allowed field was applied


def test_profile_update_applies_only_profile_fields(make_client: Any) -> None:
    client, user = client_session(make_client)
    response = client.put("/users/profile", json={"firstName": "Léa", "city": "Sète"})
    assert response.status == 200
    after = stored("users", user["_id"])
    assert (after["firstName"], after["city"]) == ("Léa", "Sète")
    assert (after["role"], after["email"], after["isEmailVerified"]) == ("client", user["email"], True)


def test_a_password_change_needs_the_current_password(make_client: Any) -> None:
    user = user_with_password()
    client = sign_in(make_client(), user)
    for body in (
        {"newPassword": "Nouveau2@mdp", "confirmPassword": "Nouveau2@mdp"},
        {"currentPassword": "Wrong1!xx", "newPassword": "Nouveau2@mdp", "confirmPassword": "Nouveau2@mdp"},
    ):
        assert_error(client.put("/users/profile", json=body), 400)
    assert stored("users", user["_id"])["password"] == user["password"]


def test_booking_status_price_owner_and_guest_flag_come_from_the_server(make_client: Any, retreat: dict) -> None:
    victim = make_user()
    forged = {
        "statut": "CONFIRMED",
        "statutPaiement": "PAID",
        "prixTotal": 1,
        "userId": str(victim["_id"]),
        "isGuest": False,
        "retreatName": "Gratuit",
        "retreatAddress": "ailleurs",
        "retreatHeureArrivee": "00h00",
        "retreatHeureDepart": "23h59",
    }

    guest = make_client().post("/bookings", json=booking_body(retreat, 2, **forged))
    assert guest.status == 201, guest.body
    doc = stored("bookings", guest.json()["_id"])
    assert (doc["statut"], doc["statutPaiement"]) == ("PENDING", "PENDING")
    assert doc["prixTotalCents"] == 2 * PRICE_CENTS and guest.json()["prixTotal"] == 240
    assert doc["userId"] is None and doc["isGuest"] is True
    assert doc["retreatName"] == retreat["titreCard"]
    assert doc["retreatAddress"] == retreat["dates"][0]["adresseRdv"]
    assert doc["retreatHeureArrivee"] == "10h00"
    assert doc["isStripeBooking"] is True

    client, user = client_session(make_client)
    signed = client.post("/bookings", json=booking_body(retreat, 1, **{**forged, "isGuest": True}))
    assert signed.status == 201, signed.body
    doc = stored("bookings", signed.json()["_id"])
    assert doc["userId"] == user["_id"] and doc["isGuest"] is False
    assert (doc["statut"], doc["statutPaiement"], doc["prixTotalCents"]) == ("PENDING", "PENDING", PRICE_CENTS)
    assert "guestToken" not in signed.json()


@pytest.mark.parametrize(
    "field, value",
    [
        ("_id", "0" * 24),
        ("isStripeBooking", False),
        ("stripePaymentIntentId", "pi_free"),
        ("guestTokenHash", "x"),
        ("expiresAt", "2099-01-01T00:00:00.000Z"),
        ("seatsHeld", 0),
        ("prixTotalCents", 1),
        ("annulationRaison", "x"),
    ],
)
def test_booking_refuses_other_internal_fields(make_client: Any, retreat: dict, field: str, value: Any) -> None:
    response = make_client().post("/bookings", json=booking_body(retreat, 1, **{field: value}))
    assert_error(response, 400)
    from lutea.data.mongo import get_db

    assert get_db()["bookings"].count_documents({}) == 0


def test_payment_amount_comes_from_the_booking(stripe_fake: Any, make_client: Any, retreat: dict) -> None:
    booking = book(make_client(), retreat, nb=2)
    response = make_client().post(
        "/stripe/create-payment-intent",
        headers=guest_proof(booking),
        json={
            "amount": 1,
            "currency": "usd",
            "metadata": {"bookingId": booking["_id"], "amount": "1", "source": "attacker", "userId": "x"},
        },
    )
    assert response.status == 200, response.body
    assert set(response.json()) == {"clientSecret", "id"}
    [created] = stripe_fake.requests_to("POST", "/v1/payment_intents")
    assert int(created.params["amount"]) == 2 * PRICE_CENTS
    assert created.params["currency"] == "eur"
    assert created.params["metadata"]["bookingId"] == booking["_id"]
    assert created.params["metadata"]["source"] == "lutea-booking"
    assert "amount" not in created.params["metadata"] and "userId" not in created.params["metadata"]


def test_no_read_route_exposes_secrets(
    stripe_fake: Any, make_client: Any, retreat: dict, frozen_clock: Any, _no_leaks: list
) -> None:
    """Users carrying every secret field there is, read through every route that shows users,
    bookings or retreats; the conftest scanner checks each body."""
    from lutea.clock import now

    secrets_fields = {
        "passwordResetToken": "hash-of-reset",
        "passwordResetExpires": now() + timedelta(hours=1),
        "passwordResetAttempts": 1,
        "verificationCode": "hash-of-code",
        "verificationCodeExpires": now() + timedelta(minutes=5),
        "verificationCodeAttempts": 0,
        "failedLoginAttempts": 2,
        "lockUntil": now() - timedelta(minutes=1),
    }
    client_user = user_with_password(**secrets_fields)
    client = sign_in(make_client(), client_user)
    admin, _ = admin_session(make_client)
    guest_booking = book(make_client(), retreat)
    user_booking = book(client, retreat)
    paid = make_client().post(
        "/stripe/create-payment-intent",
        json={"metadata": {"bookingId": guest_booking["_id"]}},
        headers=guest_proof(guest_booking),
    )
    assert paid.status == 200

    reads = [
        client.get("/users/profile"),
        client.get("/auth/user-info"),
        client.get("/auth/profile"),
        client.put("/users/profile", json={"city": "Agde"}),
        client.get("/bookings/my-bookings"),
        client.get(f"/bookings/{user_booking['_id']}"),
        admin.get("/users"),
        admin.get(f"/users/{client_user['_id']}"),
        admin.get("/users/admin/search-by-email", query={"email": client_user["email"]}),
        admin.get("/bookings/admin/all"),
        admin.get(f"/bookings/admin/{guest_booking['_id']}"),
        admin.get(f"/bookings/admin/{user_booking['_id']}"),
        admin.get("/retreats/admin"),
        admin.get(f"/retreats/admin/{retreat['_id']}"),
        make_client().get("/retreats/public"),
        make_client().get(f"/retreats/public/{retreat['_id']}"),
        make_client().post("/auth/login", json={"email": client_user["email"], "password": "Password1!"}),
    ]
    for response in reads:
        assert response.status == 200, (response.status, response.body)
    # Sanity of the probe: these bodies did carry the users and bookings.
    assert client_user["email"] in reads[6].body and guest_booking["_id"] in reads[9].body
    assert len(_no_leaks) >= len(reads)
    for response in reads:
        assert leaks_in(response.json()) == []


def test_the_leak_scanner_finds_what_it_looks_for() -> None:
    from lutea.auth.passwords import hash_password

    assert leaks_in({"user": {"password": "x"}}) == ["$.user.password"]
    assert leaks_in([{"guestTokenHash": "x", "prixTotalCents": 1}]) == ["$[0].guestTokenHash", "$[0].prixTotalCents"]
    assert leaks_in({"a": {"resetTokenHash": 1}}) == ["$.a.resetTokenHash"]
    assert leaks_in({"note": hash_password("Password1!")}) == ["$.note: a password hash"]
    from lutea.auth import tokens

    token = tokens.issue_access(user_id=str(ObjectId()), email="a@b.c", role="client", family_id="f", mfa=False)
    assert leaks_in({"t": token}) == ["$.t: a JWT"]
    assert leaks_in({"client_secret": "pi_x_secret_y", "prixTotal": 12, "guestToken": "abc"}) == []
