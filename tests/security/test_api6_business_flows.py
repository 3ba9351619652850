"""API6:2023 Unrestricted Access to Sensitive Business Flows: seats can't be oversold, payments
can't revive or double-charge a booking, and the account flows say nothing about which
addresses exist (login, registration, password reset, pending-registration probe)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from tests.security.support import (
    PASSWORD,
    assert_error,
    book,
    guest_proof,
    seats_held,
    stored,
    user_with_password,
    without_timestamp,
)
from tests.support.catalogue import booking_body, insert_retreat
from tests.support.outbox import read_outbox


def test_more_seats_than_left_is_409_and_takes_nothing(make_client: Any) -> None:
    retreat = insert_retreat(places=3)
    assert make_client().post("/bookings", json=booking_body(retreat, 2)).status == 201
    response = make_client().post("/bookings", json=booking_body(retreat, 2))
    assert_error(response, 409, "Seulement 1 places disponibles")
    assert seats_held(retreat) == 2
    assert make_client().post("/bookings", json=booking_body(retreat, 1)).status == 201
    assert_error(make_client().post("/bookings", json=booking_body(retreat, 1)), 409, "Seulement 0 places disponibles")
    assert seats_held(retreat) == 3


def test_an_admin_booking_can_not_oversell_either(make_client: Any) -> None:
    from tests.support.accounts import admin_session

    retreat = insert_retreat(places=1)
    admin, _ = admin_session(make_client)
    assert_error(admin.post("/bookings/admin/create", json=booking_body(retreat, 2)), 409)
    assert seats_held(retreat) == 0


def test_an_inactive_retreat_can_not_be_booked(make_client: Any) -> None:
    retreat = insert_retreat(isActive=False)
    assert_error(make_client().post("/bookings", json=booking_body(retreat, 1)), 404, "Retraite non trouvée")
    assert seats_held(retreat) == 0


def test_a_payment_can_not_be_started_for_a_booking_that_is_not_pending(
    stripe_fake: Any, make_client: Any, retreat: dict
) -> None:
    booking = book(make_client(), retreat, nb=1)
    first = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
    )
    assert first.status == 200
    # A repeat gives the same PaymentIntent: no second charge can be set up.
    again = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
    )
    assert again.status == 200 and again.json()["id"] == first.json()["id"]
    assert len(stripe_fake.requests_to("POST", "/v1/payment_intents")) == 1
    # Once cancelled, paying is refused.
    from tests.support.accounts import admin_session

    admin, _ = admin_session(make_client)
    assert admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={}).status == 200
    refused = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
    )
    assert_error(refused, 409)


def test_an_expired_booking_can_not_be_paid(frozen_clock: Any, stripe_fake: Any, make_client: Any, retreat: dict) -> None:
    booking = book(make_client(), retreat, nb=1)
    frozen_clock.advance(minutes=17)
    response = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
    )
    assert_error(response, 409)
    assert stripe_fake.requests_to("POST", "/v1/payment_intents") == []


# --- enumeration ------------------------------------------------------------------------------


def test_login_answers_the_same_for_unknown_wrong_and_locked(frozen_clock: Any, make_client: Any) -> None:
    known = user_with_password()
    locked = user_with_password(failedLoginAttempts=4, lockUntil=frozen_clock.current + timedelta(minutes=15))
    answers = {
        "unknown": make_client().post("/auth/login", json={"email": "personne@example.test", "password": PASSWORD}),
        "wrong password": make_client().post("/auth/login", json={"email": known["email"], "password": "Wrong1!xx"}),
        "locked, wrong": make_client().post("/auth/login", json={"email": locked["email"], "password": "Wrong1!xx"}),
        "locked, right": make_client().post("/auth/login", json={"email": locked["email"], "password": PASSWORD}),
    }
    shapes = {name: (r.status, without_timestamp(r), r.set_cookies) for name, r in answers.items()}
    assert shapes["unknown"] == (
        401,
        {"statusCode": 401, "message": "Email ou mot de passe incorrect", "path": "/auth/login"},
        [],
    )
    for name, shape in shapes.items():
        assert shape == shapes["unknown"], name


def test_an_unknown_address_costs_the_same_hashing_as_a_known_one(make_client: Any) -> None:
    known = user_with_password()

    def timed(email: str) -> float:
        started = time.perf_counter()
        assert make_client().post("/auth/login", json={"email": email, "password": "Wrong1!xx"}).status == 401
        return time.perf_counter() - started

    timed("warm-up@example.test")
    unknown = min(timed("personne@example.test") for _ in range(2))
    wrong = min(timed(known["email"]) for _ in range(2))
    # Without a dummy hash an unknown address answers ~50x faster; allow wide noise.
    assert unknown > wrong * 0.4, (unknown, wrong)


def test_the_account_is_locked_after_four_failures_whatever_is_said(frozen_clock: Any, make_client: Any) -> None:
    user = user_with_password()
    for _ in range(4):
        make_client().post("/auth/login", json={"email": user["email"], "password": "Wrong1!xx"})
    response = make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert_error(response, 401, "Email ou mot de passe incorrect")
    frozen_clock.advance(minutes=15, seconds=1)
    assert make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD}).status == 200


def _registration(email: str) -> dict[str, Any]:
    return {
        "email": email,
        "password": PASSWORD,
        "firstName": "Alice",
        "lastName": "Martin",
        "phone": "0612345678",
        "address": "1 rue des Lilas",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
    }


def test_register_answers_the_same_for_new_existing_and_pending(make_client: Any, outbox_dir: Any) -> None:
    from lutea.data.mongo import get_db

    existing = user_with_password(email="deja@example.test")
    new = make_client().post("/auth/register", json=_registration("nouvelle@example.test"))
    taken = make_client().post("/auth/register", json=_registration(existing["email"]))
    taken_upper = make_client().post("/auth/register", json=_registration(" DEJA@Example.test "))
    pending = make_client().post("/auth/register", json=_registration("nouvelle@example.test"))

    assert new.status == 201
    assert new.json() == {"message": new.json()["message"], "email": "nouvelle@example.test", "requiresEmailValidation": True}
    assert taken.status == taken_upper.status == pending.status == 201
    assert taken.json() == taken_upper.json() == {**new.json(), "email": existing["email"]}
    assert pending.json() == new.json()
    assert all(r.set_cookies == [] for r in (new, taken, taken_upper, pending))
    # The existing account is untouched and got a notice, not a second account.
    assert stored("users", existing["_id"])["password"] == existing["password"]
    assert get_db()["users"].count_documents({"email": existing["email"]}) == 1
    assert get_db()["temporaryusers"].count_documents({"email": existing["email"]}) == 0
    assert [m for m in read_outbox(outbox_dir) if existing["email"] in m.to]


def test_forgot_password_answers_the_same_for_known_unknown_and_over_quota(
    frozen_clock: Any, make_client: Any, outbox_dir: Any
) -> None:
    known = user_with_password()
    answers = [make_client().post("/auth/forgot-password", json={"email": known["email"]}) for _ in range(4)]
    answers.append(make_client().post("/auth/forgot-password", json={"email": "personne@example.test"}))
    expected = (200, {"message": "Si cet email existe dans notre base, un lien de réinitialisation a été envoyé."})
    assert [(r.status, r.json()) for r in answers] == [expected] * 5
    assert len([m for m in read_outbox(outbox_dir) if known["email"] in m.to]) == 3  # the hourly quota


def test_check_temporary_says_nothing_of_permanent_accounts(make_client: Any) -> None:
    known = user_with_password()
    for email in (known["email"], "personne@example.test", "pas-un-email", "%24ne"):
        response = make_client().get(f"/users/check-temporary/{email}")
        assert response.status == 200
        assert response.json() == {"isTemporary": False}
    assert make_client().post("/auth/register", json=_registration("attente@example.test")).status == 201
    pending = make_client().get("/users/check-temporary/attente@example.test")
    assert pending.json()["isTemporary"] is True
