"""Injection (API8:2023 / the old API8:2019): MongoDB operators where a string is expected,
regular expressions in searches, malformed ObjectIds in every ``:id`` route, SQL in the
analytics ids. Every probe is refused (400) or treated as a literal, never a 500, and the
data it aimed at is untouched. Each test shows the legitimate request working too."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from bson import ObjectId

from tests.security.routes import template_routes
from tests.security.support import PASSWORD, assert_error, book, guest_proof, user_with_password
from tests.support.accounts import admin_session, client_session, sign_in
from tests.support.catalogue import booking_body, insert_retreat
from tests.support.outbox import read_outbox

OPERATORS = [{"$ne": None}, {"$gt": ""}, {"$regex": ".*"}, {"$exists": True}, ["a@example.test"]]


@pytest.mark.parametrize("operator", OPERATORS, ids=str)
def test_login_refuses_operators(make_client: Any, operator: Any) -> None:
    user = user_with_password()
    for body in (
        {"email": operator, "password": operator},
        {"email": user["email"], "password": operator},
        {"email": operator, "password": PASSWORD},
    ):
        response = make_client().post("/auth/login", json=body)
        assert_error(response, 400)
        assert response.set_cookies == []
    assert make_client().post("/auth/login", json={"email": user["email"], "password": PASSWORD}).status == 200


@pytest.mark.parametrize(
    "path, body",
    [
        ("/auth/forgot-password", {"email": {"$ne": None}}),
        ("/auth/reset-password", {"token": {"$ne": None}, "newPassword": "Nouveau2@mdp"}),
        ("/auth/validate-email", {"token": {"$ne": None}}),
        ("/auth/2fa/finalize", {"email": {"$ne": None}, "code": "12345678"}),
        ("/auth/2fa/finalize", {"email": "a@example.test", "code": {"$ne": None}}),
        ("/auth/refresh", {"refresh_token": {"$ne": None}}),
        ("/auth/register", {"email": {"$gt": ""}, "password": "Password1!", "firstName": "A", "lastName": "B"}),
        ("/bookings/available-places", {"retreatId": {"$gt": ""}, "date": "2027-03-12T09:00:00.000Z"}),
        ("/stripe/create-payment-intent", {"metadata": {"bookingId": {"$gt": ""}}}),
        ("/stripe/get-payment-intent", {"paymentIntentId": {"$ne": None}}),
        ("/stripe/cancel-payment-intent", {"paymentIntentId": {"$ne": None}}),
        ("/email/contact", {"nom": "A", "prenom": "B", "email": {"$ne": None}, "telephone": "1", "message": "m", "rgpd": True}),
    ],
)
def test_public_bodies_refuse_operators(make_client: Any, outbox_dir: Any, path: str, body: dict) -> None:
    # Targets that an operator would match: a user mid-reset, an admin mid-2FA, a pending booking.
    from datetime import timedelta

    from lutea.clock import now

    user_with_password(passwordResetToken="hash", passwordResetExpires=now() + timedelta(hours=1))
    user_with_password("admin", verificationCode="hash", verificationCodeExpires=now() + timedelta(minutes=5))
    retreat = insert_retreat()
    booking = book(make_client(), retreat, nb=1)
    headers = {"X-Booking-Token": booking["guestToken"]}
    response = make_client().post(path, json=body, headers=headers)
    assert_error(response, 400)
    assert response.set_cookies == []
    assert read_outbox(outbox_dir) == []


def test_booking_bodies_refuse_operators(make_client: Any, retreat: dict) -> None:
    from lutea.data.mongo import get_db

    client, _ = client_session(make_client)
    bodies = [
        booking_body(retreat, 1, retreatId={"$gt": ""}),
        booking_body(retreat, 1, dateStart={"$gt": ""}),
        booking_body(retreat, 1, nbPlaces={"$gt": 0}),
        booking_body(retreat, 1, notes={"$where": "1"}),
    ]
    participant = booking_body(retreat, 1)
    participant["participants"][0]["email"] = {"$ne": None}
    bodies.append(participant)
    for body in bodies:
        assert_error(client.post("/bookings", json=body), 400)
    assert get_db()["bookings"].count_documents({}) == 0
    assert client.post("/bookings", json=booking_body(retreat, 1)).status == 201


def test_a_guest_token_header_is_a_literal(stripe_fake: Any, make_client: Any, retreat: dict) -> None:
    booking = book(make_client(), retreat, nb=1)
    pi = (
        make_client()
        .post("/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking))
        .json()["id"]
    )
    for token in ('{"$ne": null}', ".*", "*", "' OR '1'='1"):
        response = make_client().post(
            "/stripe/get-payment-intent", json={"paymentIntentId": pi}, headers={"X-Booking-Token": token}
        )
        assert_error(response, 404)
    ok = make_client().post(
        "/stripe/get-payment-intent", json={"paymentIntentId": pi}, headers={"X-Booking-Token": booking["guestToken"]}
    )
    assert ok.status == 200


def test_admin_bodies_refuse_operators(make_client: Any, stripe_fake: Any, retreat: dict) -> None:
    admin, _ = admin_session(make_client)
    booking = book(make_client(), retreat, nb=1)
    assert_error(admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": {"$ne": None}}), 400)
    assert_error(admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={"raison": {"$set": "x"}}), 400)
    assert_error(admin.patch(f"/retreats/admin/{retreat['_id']}", json={"titreCard": {"$set": "x"}}), 400)
    assert_error(admin.post("/bookings/admin/create", json=booking_body(retreat, 1, userId={"$ne": None})), 400)
    from tests.security.support import stored

    assert stored("bookings", booking["_id"])["statut"] == "PENDING"
    assert stored("retreats", retreat["_id"])["titreCard"] == retreat["titreCard"]


def test_profile_update_refuses_operators(make_client: Any) -> None:
    client, user = client_session(make_client)
    for body in (
        {"firstName": {"$set": {"role": "admin"}}},
        {"city": ["a"]},
        {"currentPassword": {"$ne": None}, "newPassword": "Nouveau2@mdp", "confirmPassword": "Nouveau2@mdp"},
    ):
        assert_error(client.put("/users/profile", json=body), 400)
    from tests.security.support import stored

    assert stored("users", user["_id"])["role"] == "client"
    assert_error(client.post("/users/validate-password", json={"currentPassword": {"$ne": None}}), 400)


# --- searches -------------------------------------------------------------------------------------


def test_user_search_is_an_exact_match(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    target = user_with_password(email="cible@example.test")
    for query in ({"email[$ne]": "x"}, {"email[$regex]": ".*"}):
        assert_error(admin.get("/users/admin/search-by-email", query=query), 400, "Email requis")
    for pattern in (".*", "^cible", "cible@example\\.test", "cible.example.test", "cible@*", '{"$ne": null}'):
        response = admin.get("/users/admin/search-by-email", query={"email": pattern})
        assert response.status == 200, (pattern, response.body)
        assert response.json() == {"found": False, "user": None}, pattern
    found = admin.get("/users/admin/search-by-email", query={"email": " CIBLE@Example.TEST "})
    assert found.json()["found"] is True and found.json()["user"]["_id"] == str(target["_id"])


def test_retreat_search_matches_the_literal_text(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    insert_retreat(title="Retraite Solstice")
    insert_retreat(title="Yoga (niveau 1+)")
    for pattern in (".*", "^Retraite", "Sol.tice", "[A-Z]", "(a+)+$", "\\", "*", "?", "a|Y", "Yoga.+"):
        response = admin.get("/retreats/admin/search", query={"titreCard": pattern})
        assert response.status == 200, (pattern, response.body)
        assert response.json() == [], pattern
    literal = admin.get("/retreats/admin/search", query={"titreCard": "(niveau 1+)"})
    assert [r["titreCard"] for r in literal.json()] == ["Yoga (niveau 1+)"]
    assert [r["titreCard"] for r in admin.get("/retreats/admin/search", query={"titreCard": "solstice"}).json()] == [
        "Retraite Solstice"
    ]


def test_retreat_search_price_bounds_are_numbers(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    for bound in ('{"$gt": 0}', "NaN", "Infinity", "-inf", "abc", "1" * 30):
        assert_error(admin.get("/retreats/admin/search", query={"prixMin": bound}), 400)
    assert admin.get("/retreats/admin/search", query={"prixMin": "10", "prixMax": "1e6"}).status == 200


def test_query_parameters_with_operators_are_unknown_parameters(make_client: Any, retreat: dict) -> None:
    response = make_client().get(f"/bookings/availability/{retreat['_id']}", query={"date[$gt]": ""})
    assert_error(response, 400, "Paramètre date requis")
    response = make_client().get(f"/bookings/availability/{retreat['_id']}", query={"date": '{"$gt": ""}'})
    assert_error(response, 400)
    admin, _ = admin_session(make_client)
    held = admin.get(f"/retreats/admin/{retreat['_id']}/reserved-places", query={"date": '{"$gt": ""}'})
    assert_error(held, 400)


def test_check_temporary_takes_the_address_literally(make_client: Any) -> None:
    assert (
        make_client()
        .post(
            "/auth/register",
            json={
                "email": "attente@example.test",
                "password": PASSWORD,
                "firstName": "A",
                "lastName": "B",
                "phone": "1",
                "address": "1",
                "city": "1",
                "postalCode": "1",
                "country": "1",
            },
        )
        .status
        == 201
    )
    for probe in ("{$ne:null}", "[$ne]", ".*", "attente@example.*", quote('{"$gt": ""}')):
        response = make_client().get(f"/users/check-temporary/{probe}")
        assert response.status == 200 and response.json() == {"isTemporary": False}, probe
    assert make_client().get("/users/check-temporary/attente@example.test").json()["isTemporary"] is True


# --- ids in paths ---------------------------------------------------------------------------------

MALFORMED_IDS = [
    "123",
    "g" * 24,
    "0" * 23,
    "0" * 25,
    "{$gt:1}",
    quote('{"$gt":""}'),
    "[$ne]=1",
    "%24ne",
    "null",
    "' OR 1=1 --",
    "6b08" + "0" * 19 + "Z",
    "0x" + "0" * 22,
]
ID_ROUTES = [r for r in template_routes() if "{id}" in r.path or "{retreatId}" in r.path]
VALID_BODIES = {
    ("PATCH", "/retreats/admin/{id}"): {"titreCard": "Nouveau titre"},
    ("PATCH", "/bookings/admin/{id}/confirm"): {"stripePaymentIntentId": "pi_123abc"},
    ("PATCH", "/bookings/admin/{id}/cancel"): {"raison": "test"},
}


@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_malformed_ids_are_400_on_every_id_route(route: Any, make_client: Any) -> None:
    """With a valid body and the right credentials, so that only the id can be wrong."""
    assert len(ID_ROUTES) >= 14  # the original's, plus those added since (docs/)
    _, admin_user = admin_session(make_client)
    admin = sign_in(make_client(), admin_user)
    body = VALID_BODIES.get((route.method, route.path))
    query = {"date": "2027-03-12T09:00:00.000Z"} if "availability" in route.path else None
    for bad in MALFORMED_IDS:
        path = re.sub(r"\{\w+\}", bad, route.path)
        response = admin.request(route.method, path, json=body, query=query)
        error = assert_error(response, 400)
        assert re.fullmatch(r"ID (de |d')\w+ invalide", error["details"]["message"]), (bad, error)
    # A well-formed id that matches nothing is a 404, not a 400: the route is reached.
    path = re.sub(r"\{\w+\}", str(ObjectId()), route.path)
    assert admin.request(route.method, path, json=body, query=query).status == 404


# --- SQL (analytics) ------------------------------------------------------------------------------


def test_analytics_ids_are_parameters_not_sql(make_client: Any) -> None:
    from lutea.data.analytics import AnalyticsRepository

    for sid in ("keep-1", "keep-2"):
        assert (
            make_client().post("/analytics/session", json={"session_id": sid, "started_at": "2026-11-20T10:00:00.000Z"}).status
            == 201
        )
    before = AnalyticsRepository().count_sessions()
    for probe in ("x' OR '1'='1", "x' OR 1=1 --", "x'; DROP TABLE Session; --", "keep-1' --", "%"):
        assert make_client().delete(f"/analytics/session/{probe}").status == 200
        response = make_client().patch(f"/analytics/session/{probe}", json={"is_login": True})
        assert_error(response, 404)
    assert AnalyticsRepository().count_sessions() == before == 2
    evil = make_client().post(
        "/analytics/session", json={"session_id": "s'); DROP TABLE Session; --", "started_at": "2026-11-20T10:00:00.000Z"}
    )
    assert evil.status == 201 and evil.json()["session_id"] == "s'); DROP TABLE Session; --"
    assert AnalyticsRepository().count_sessions() == 3
    bad_type = make_client().post("/analytics/event", json={"session_id": "keep-1", "event_type_code": "page_view' OR '1'='1"})
    assert_error(bad_type, 400)
    assert AnalyticsRepository().count_events() == 0
