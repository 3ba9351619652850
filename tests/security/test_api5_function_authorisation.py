"""API5:2023 Broken Function Level Authorisation: every admin route, taken from SECURITY.md's
access table and from the guards on the route functions (so that a route whose guard was
removed is still probed), refuses a visitor (401), a client (403), an admin whose session
skipped the second factor (403) and a client whose token claims 2FA (403), and changes nothing;
then the same request by a real admin succeeds, which proves the request was one the route
would have served (a 400 or 404 can't pass for a guard).

Every route that needs a signed-in caller refuses a visitor with 401."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pytest
from bson import ObjectId

from tests.security.routes import (
    RouteKey,
    admin_routes,
    authenticated_routes,
    documented_levels,
    guard_levels,
    template_routes,
)
from tests.security.support import assert_error, book, guest_proof, retreat_body
from tests.support.accounts import make_user, sign_in
from tests.support.catalogue import booking_body, insert_retreat


class World:
    """Objects the admin routes act on, each built on first use."""

    def __init__(self, make_client: Any, stripe: Any) -> None:
        self.make_client = make_client
        self.stripe = stripe

    @cached_property
    def retreat(self) -> dict[str, Any]:
        return insert_retreat(title="Retraite Solstice")

    @cached_property
    def empty_retreat(self) -> dict[str, Any]:
        return insert_retreat(title="Retraite sans réservation")

    @cached_property
    def pending_booking(self) -> dict[str, Any]:
        return book(self.make_client(), self.retreat, nb=1)

    @cached_property
    def paid_booking(self) -> tuple[dict[str, Any], str]:
        """A PENDING booking whose PaymentIntent succeeded (the webhook has not arrived)."""
        booking = book(self.make_client(), self.retreat, nb=1)
        created = self.make_client().post(
            "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
        )
        assert created.status == 200, created.body
        self.stripe.succeed(created.json()["id"])
        return booking, created.json()["id"]

    @cached_property
    def user(self) -> dict[str, Any]:
        return make_user(email="cible@example.test")


# (method, template path) -> the request a real admin makes: (path, keyword arguments, status).
REQUESTS: dict[tuple[str, str], Any] = {
    ("GET", "/auth/admin/check"): lambda w: ("/auth/admin/check", {}, 200),
    ("GET", "/users"): lambda w: ("/users", {}, 200),
    ("GET", "/users/admin/search-by-email"): lambda w: (
        "/users/admin/search-by-email",
        {"query": {"email": w.user["email"]}},
        200,
    ),
    ("GET", "/users/{id}"): lambda w: (f"/users/{w.user['_id']}", {}, 200),
    ("DELETE", "/users/{id}"): lambda w: (f"/users/{w.user['_id']}", {}, 200),
    ("GET", "/retreats/admin"): lambda w: ("/retreats/admin", {}, 200),
    ("POST", "/retreats/admin"): lambda w: ("/retreats/admin", {"json": retreat_body()}, 201),
    ("GET", "/retreats/admin/search"): lambda w: ("/retreats/admin/search", {"query": {"titreCard": "Solstice"}}, 200),
    ("GET", "/retreats/admin/{id}"): lambda w: (f"/retreats/admin/{w.retreat['_id']}", {}, 200),
    ("PATCH", "/retreats/admin/{id}"): lambda w: (
        f"/retreats/admin/{w.retreat['_id']}",
        {"json": {"titreCard": "Retraite renommée"}},
        200,
    ),
    ("DELETE", "/retreats/admin/{id}"): lambda w: (f"/retreats/admin/{w.empty_retreat['_id']}", {}, 204),
    ("PATCH", "/retreats/admin/{id}/toggle-active"): lambda w: (f"/retreats/admin/{w.retreat['_id']}/toggle-active", {}, 200),
    ("GET", "/retreats/admin/{id}/reserved-places"): lambda w: (f"/retreats/admin/{w.retreat['_id']}/reserved-places", {}, 200),
    ("GET", "/bookings/admin/all"): lambda w: ("/bookings/admin/all", {}, 200),
    ("GET", "/bookings/admin/stats"): lambda w: ("/bookings/admin/stats", {}, 200),
    ("GET", "/bookings/admin/payment-discrepancies"): lambda w: ("/bookings/admin/payment-discrepancies", {}, 200),
    ("POST", "/bookings/admin/send-payment-alert"): lambda w: ("/bookings/admin/send-payment-alert", {}, 201),
    ("POST", "/bookings/admin/cleanup"): lambda w: ("/bookings/admin/cleanup", {}, 200),
    ("POST", "/bookings/admin/create"): lambda w: ("/bookings/admin/create", {"json": booking_body(w.retreat, 1)}, 201),
    ("GET", "/bookings/admin/roster/{retreatId}/{dateId}"): lambda w: (
        f"/bookings/admin/roster/{w.retreat['_id']}/{w.retreat['dates'][0]['_id']}",
        {},
        200,
    ),
    ("GET", "/bookings/admin/waiting-list/{retreatId}"): lambda w: (f"/bookings/admin/waiting-list/{w.retreat['_id']}", {}, 200),
    ("GET", "/bookings/admin/{id}"): lambda w: (f"/bookings/admin/{w.pending_booking['_id']}", {}, 200),
    ("PATCH", "/bookings/admin/{id}/confirm"): lambda w: (
        f"/bookings/admin/{w.paid_booking[0]['_id']}/confirm",
        {"json": {"stripePaymentIntentId": w.paid_booking[1]}},
        200,
    ),
    ("PATCH", "/bookings/admin/{id}/cancel"): lambda w: (
        f"/bookings/admin/{w.pending_booking['_id']}/cancel",
        {"json": {"raison": "Annulée par l'équipe"}},
        200,
    ),
    ("GET", "/analytics/stats"): lambda w: ("/analytics/stats", {}, 200),
    ("GET", "/analytics/event-types"): lambda w: ("/analytics/event-types", {}, 200),
    ("DELETE", "/analytics/clear-all"): lambda w: ("/analytics/clear-all", {}, 200),
}


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Everything stored in MongoDB except the bookkeeping a refused request may write."""
    from lutea.data.mongo import get_db

    db = get_db()
    return {
        name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
        for name in sorted(db.list_collection_names())
        if name not in ("ratelimits",)
    }


def _analytics_rows() -> tuple[int, int]:
    from lutea.data.analytics import AnalyticsRepository

    repo = AnalyticsRepository()
    return repo.count_sessions(), repo.count_events()


@pytest.mark.parametrize("route", admin_routes(), ids=str)
def test_admin_route_refuses_everyone_but_an_admin_with_2fa(route: RouteKey, make_client: Any, stripe_fake: Any) -> None:
    assert (route.method, route.path) in REQUESTS, f"add a valid request for {route} to REQUESTS"
    world = World(make_client, stripe_fake)
    path, kwargs, success = REQUESTS[(route.method, route.path)](world)
    admin_user = make_user("admin")
    client_user = make_user("client")
    # Something for analytics to clear, so that a refused clear-all would show.
    assert (
        make_client().post("/analytics/session", json={"session_id": "s-1", "started_at": "2026-11-20T10:00:00.000Z"}).status
        == 201
    )
    before, analytics_before = _snapshot(), _analytics_rows()
    stripe_writes = len(stripe_fake.requests_to("POST", "/v1/"))

    visitor = make_client()
    assert_error(visitor.request(route.method, path, **kwargs), 401)
    client_bearer = sign_in(make_client(), client_user, bearer=True)
    assert_error(client_bearer.request(route.method, path, **kwargs), 403)
    client_cookie = sign_in(make_client(), client_user)
    assert_error(client_cookie.request(route.method, path, **kwargs), 403)
    client_claiming_mfa = sign_in(make_client(), client_user, mfa=True)
    assert_error(client_claiming_mfa.request(route.method, path, **kwargs), 403)
    admin_without_2fa = sign_in(make_client(), admin_user, mfa=False)
    assert_error(admin_without_2fa.request(route.method, path, **kwargs), 403)

    after = _snapshot()
    after.pop("refreshfamilies", None), before.pop("refreshfamilies", None)  # the sign-ins above
    assert after == before
    assert _analytics_rows() == analytics_before
    assert len(stripe_fake.requests_to("POST", "/v1/")) == stripe_writes

    admin = sign_in(make_client(), admin_user, mfa=True)
    response = admin.request(route.method, path, **kwargs)
    assert response.status == success, (route, response.status, response.body)


@pytest.mark.parametrize("route", authenticated_routes(), ids=str)
def test_signed_in_routes_refuse_visitors(route: RouteKey, make_client: Any) -> None:
    path = route.path.replace("{id}", str(ObjectId()))
    body = (
        {"metadata": {"bookingId": "0123456789abcdef01234567"}}
        if route.path.endswith("create-payment-intent")
        else {"paymentIntentId": "pi_123abc"}
        if route.path.startswith("/stripe/")
        else {}
    )
    assert_error(make_client().request(route.method, path, json=body), 401)
    # A cookie that is not a token, or an empty Bearer, is no better.
    assert_error(make_client(cookies={"access_token": "x"}).request(route.method, path, json=body), 401)
    assert_error(make_client().request(route.method, path, json=body, headers={"Authorization": "Bearer "}), 401)


def test_the_guards_match_the_documented_access_table() -> None:
    documented, guarded = documented_levels(), guard_levels()
    assert set(documented) == set(template_routes()), "every declared route is in SECURITY.md's table"
    mismatches = []
    for route in template_routes():
        doc, guard = documented[route], guarded[route]
        ok = {
            "admin": guard == "admin",
            "authenticated": guard in ("jwt", "optional"),  # optional: the handler demands a principal or proof
            "other": guard in ("public", "optional"),
        }[doc]
        if not ok:
            mismatches.append(f"{route}: SECURITY.md {doc}, guard {guard}")
    assert mismatches == []


def test_the_probe_lists_are_complete() -> None:
    admin = admin_routes()
    assert len(admin) >= 25  # the original's 25 admin routes, plus those added since (docs/)
    assert all(r.path.startswith(("/users", "/retreats/admin", "/bookings/admin", "/analytics", "/auth/admin")) for r in admin)
    assert {(r.method, r.path) for r in admin} == set(REQUESTS)
    assert RouteKey("GET", "/bookings/{id}/pdf") in authenticated_routes()


def test_a_demoted_admin_loses_admin_routes_at_once(make_client: Any) -> None:
    """The role in a token is up to 15 minutes old; the account's current role decides."""
    from lutea.data.mongo import get_db

    admin_user = make_user("admin")
    admin = sign_in(make_client(), admin_user, mfa=True)
    assert admin.get("/users").status == 200
    get_db()["users"].update_one({"_id": admin_user["_id"]}, {"$set": {"role": "client"}})
    assert_error(admin.get("/users"), 403)
    assert_error(admin.get("/auth/admin/check"), 403)
    assert admin.get("/users/profile").status == 200  # still signed in, as the client it now is
