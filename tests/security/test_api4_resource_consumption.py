"""API4:2023 Unrestricted Resource Consumption: per-IP rate limits (429 + Retry-After), body size
(413), bounded strings and quantities (400)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.support import assert_error, retreat_body, user_with_password
from tests.support.accounts import admin_session, client_session
from tests.support.catalogue import booking_body


def _assert_429(response: Any) -> None:
    assert_error(response, 429)
    retry_after = {k.lower(): v for k, v in response.headers.items()}["retry-after"]
    assert 1 <= int(retry_after) <= 61


def _contact(email: str = "visiteur@example.test") -> dict[str, Any]:
    return {"nom": "Durand", "prenom": "Camille", "email": email, "telephone": "0600000000", "message": "Bonjour", "rgpd": True}


def test_login_is_rate_limited_per_ip(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    limits(RATE_LIMIT_STRICT_PER_MINUTE=3)
    user = user_with_password()
    attacker = make_client(source_ip="203.0.113.7")
    body = {"email": "nobody@example.test", "password": "Guess1!xx"}
    for _ in range(3):
        assert attacker.post("/auth/login", json=body).status == 401
    _assert_429(attacker.post("/auth/login", json=body))
    # A forged X-Forwarded-For does not buy a new budget: the IP comes from the request context.
    _assert_429(attacker.post("/auth/login", json=body, headers={"X-Forwarded-For": "198.51.100.9"}))
    # Another address is not affected; the window ends after a minute.
    other = make_client(source_ip="198.51.100.9")
    assert other.post("/auth/login", json={"email": user["email"], "password": "Password1!"}).status == 200
    frozen_clock.advance(minutes=1)
    assert attacker.post("/auth/login", json=body).status == 401


def test_forgot_password_is_rate_limited(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    limits(RATE_LIMIT_STRICT_PER_MINUTE=2)
    client = make_client(source_ip="203.0.113.8")
    for _ in range(2):
        assert client.post("/auth/forgot-password", json={"email": "x@example.test"}).status == 200
    _assert_429(client.post("/auth/forgot-password", json={"email": "x@example.test"}))


@pytest.mark.parametrize(
    "path, body",
    [
        ("/auth/register", {"email": "a@example.test"}),
        ("/auth/2fa/finalize", {"email": "a@example.test", "code": "12345678"}),
        ("/auth/reset-password", {"token": "x", "newPassword": "Password1!"}),
        ("/auth/validate-email", {"token": "x"}),
        ("/bookings/waiting-list", {"email": "a@example.test"}),
        ("/bookings/waiting-list/leave", {"token": "x"}),
        ("/bookings/waiting-list/offer", {"token": "x"}),
        ("/bookings/waiting-list/offer/book", {"token": "x"}),
    ],
)
def test_every_secret_guessing_route_has_the_strict_limit(
    frozen_clock: Any, limits: Any, make_client: Any, path: str, body: dict
) -> None:
    limits(RATE_LIMIT_STRICT_PER_MINUTE=2)
    client = make_client(source_ip="203.0.113.9")
    for _ in range(2):
        assert client.post(path, json=body).status != 429
    _assert_429(client.post(path, json=body))


def test_the_strict_budget_is_shared_across_sensitive_routes(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    limits(RATE_LIMIT_STRICT_PER_MINUTE=2)
    client = make_client(source_ip="203.0.113.10")
    assert client.post("/auth/login", json={"email": "a@example.test", "password": "x"}).status == 401
    assert client.post("/auth/forgot-password", json={"email": "a@example.test"}).status == 200
    _assert_429(client.post("/auth/2fa/finalize", json={"email": "a@example.test", "code": "12345678"}))


def test_the_contact_form_is_rate_limited(frozen_clock: Any, limits: Any, make_client: Any, outbox_dir: Any) -> None:
    limits(RATE_LIMIT_CONTACT_PER_MINUTE=2)
    client = make_client(source_ip="203.0.113.11")
    for _ in range(2):
        assert client.post("/email/contact", json=_contact()).status == 200
    _assert_429(client.post("/email/contact", json=_contact()))
    from tests.support.outbox import read_outbox

    sent = len(read_outbox(outbox_dir))
    _assert_429(client.post("/email/contact", json=_contact()))
    assert len(read_outbox(outbox_dir)) == sent  # refused before anything is sent


def test_ordinary_routes_have_the_global_limit(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    limits(RATE_LIMIT_PER_MINUTE=5)
    client = make_client(source_ip="203.0.113.12")
    for _ in range(5):
        assert client.get("/retreats/public").status == 200
    _assert_429(client.get("/retreats/public"))
    _assert_429(client.post("/bookings", json={}))
    assert make_client(source_ip="203.0.113.13").get("/retreats/public").status == 200


def test_behind_the_waf_only_the_strict_tiers_are_counted_in_the_app(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    # AWS: the WAF rate rule holds the global per-IP limit, so read-only traffic writes no counter.
    from lutea.data.mongo import get_db

    limits(RATE_LIMIT_GLOBAL_AT_EDGE=1, RATE_LIMIT_PER_MINUTE=2, RATE_LIMIT_STRICT_PER_MINUTE=2)
    client = make_client(source_ip="203.0.113.15")
    for _ in range(4):
        assert client.get("/retreats/public").status == 200
    assert get_db()["ratelimits"].count_documents({}) == 0
    body = {"email": "nobody@example.test", "password": "Guess1!xx"}
    for _ in range(2):
        assert client.post("/auth/login", json=body).status == 401
    _assert_429(client.post("/auth/login", json=body))
    assert client.get("/retreats/public").status == 200  # the strict budget is not the global one


def test_signed_in_callers_are_limited_too(frozen_clock: Any, limits: Any, make_client: Any) -> None:
    client, _ = client_session(make_client)
    client.source_ip = "203.0.113.14"
    limits(RATE_LIMIT_PER_MINUTE=3)
    for _ in range(3):
        assert client.get("/users/profile").status == 200
    _assert_429(client.get("/users/profile"))


# --- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/auth/login", "/bookings", "/email/contact", "/stripe/webhook"])
def test_a_body_over_the_limit_is_413(make_client: Any, path: str) -> None:
    from lutea.config import get_settings

    limit = get_settings().max_body_bytes
    padding = "a" * limit
    response = make_client().post(path, body=json.dumps({"email": padding}), headers={"Content-Type": "application/json"})
    assert_error(response, 413)
    # Just under the limit is read (and judged on its content).
    small = make_client().post(path, body="{" + " " * (limit - 2) + "}", headers={"Content-Type": "application/json"})
    assert small.status != 413


def test_the_body_limit_counts_bytes_not_characters(make_client: Any) -> None:
    from lutea.config import get_settings

    limit = get_settings().max_body_bytes
    text = "é" * (limit // 2 + 1)  # fewer characters than the limit, more bytes
    assert_error(
        make_client().post(
            "/auth/login", body=json.dumps({"email": text}, ensure_ascii=False), headers={"Content-Type": "application/json"}
        ),
        413,
    )


def test_an_admin_route_applies_the_limit_too(make_client: Any) -> None:
    from lutea.config import get_settings

    admin, _ = admin_session(make_client)
    response = admin.post("/retreats/admin", json=retreat_body(texteModal="x" * get_settings().max_body_bytes))
    assert_error(response, 413)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/auth/login", {"email": "a" * 255 + "@example.test", "password": "x"}),
        # A very long password would be hashed at the caller's pace: bounded before any hashing.
        ("/auth/login", {"email": "a@example.test", "password": "x" * 1025}),
        (
            "/auth/register",
            {
                "email": "a@example.test",
                "password": "Aa1!" + "x" * 100,
                "firstName": "A",
                "lastName": "B",
                "phone": "1",
                "address": "1",
                "city": "1",
                "postalCode": "1",
                "country": "1",
            },
        ),
        (
            "/auth/register",
            {
                "email": "a@example.test",
                "password": "Password1!",
                "firstName": "A" * 101,
                "lastName": "B",
                "phone": "1",
                "address": "1",
                "city": "1",
                "postalCode": "1",
                "country": "1",
            },
        ),
        ("/auth/forgot-password", {"email": "a" * 300 + "@example.test"}),
        ("/auth/validate-email", {"token": "x" * 513}),
        ("/email/contact", {**_contact(), "message": "x" * 5001}),
        ("/email/contact", {**_contact(), "nom": "x" * 101}),
        ("/analytics/session", {"session_id": "x" * 37, "started_at": "2026-12-01T00:00:00.000Z"}),
        ("/analytics/event", {"session_id": "s", "event_type_code": "page_view", "page_path": "/" * 501}),
    ],
)
def test_over_long_strings_are_400(make_client: Any, path: str, body: dict) -> None:
    assert_error(make_client().post(path, json=body), 400)


def test_over_long_profile_and_booking_fields_are_400(make_client: Any, retreat: dict) -> None:
    client, _ = client_session(make_client)
    assert_error(client.put("/users/profile", json={"city": "x" * 256}), 400)
    assert_error(client.put("/users/profile", json={"firstName": "x" * 101}), 400)
    assert_error(client.post("/users/validate-password", json={"currentPassword": "x" * 1025}), 400)
    assert_error(client.post("/bookings", json=booking_body(retreat, 1, notes="x" * 2001)), 400)
    body = booking_body(retreat, 1)
    body["participants"][0]["nom"] = "x" * 201
    assert_error(client.post("/bookings", json=body), 400)


def test_admin_search_strings_are_bounded(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    assert_error(admin.get("/retreats/admin/search", query={"titreCard": "x" * 201}), 400)


@pytest.mark.parametrize("nb", [21, 0, -1, 1000])
def test_seat_count_is_bounded(make_client: Any, retreat: dict, nb: int) -> None:
    from lutea.data.mongo import get_db

    response = make_client().post("/bookings", json=booking_body(retreat, 1, nbPlaces=nb))
    assert_error(response, 400)
    assert get_db()["bookings"].count_documents({}) == 0


def test_participants_are_bounded(make_client: Any, retreat: dict) -> None:
    body = booking_body(retreat, 20)
    body["participants"] = body["participants"] * 2  # 40 entries
    assert_error(make_client().post("/bookings", json=body), 400)
    assert make_client().post("/bookings", json=booking_body(retreat, 20)).status == 409  # 20 is valid: only 10 seats


def test_retreat_lists_are_bounded(make_client: Any) -> None:
    admin, _ = admin_session(make_client)
    assert_error(admin.post("/retreats/admin", json=retreat_body(imageModal=["/i.jpg"] * 7, altImageModal=["a"] * 7)), 400)
    dates = retreat_body()["dates"] * 51
    assert_error(admin.post("/retreats/admin", json=retreat_body(dates=dates)), 400)
