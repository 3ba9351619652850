"""What one client may hold without paying: a PENDING booking holds seats for 16 minutes, so
unpaid holds are bounded per IP address and per contact email, and POST /bookings has its own
stricter rate tier. The answers are 429 with Retry-After and a message that says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import booking_body


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    monkeypatch.setenv("PENDING_BOOKINGS_PER_CLIENT", "2")
    monkeypatch.setenv("PENDING_SEATS_PER_CLIENT", "5")
    config.reset_settings()


def _body(retreat: dict, nb: int, email: str) -> dict[str, Any]:
    return booking_body(retreat, nb, participants=[{"prenom": "Zoé", "nom": "Lefèvre", "email": email}])


def test_one_ip_holds_a_bounded_number_of_unpaid_bookings(
    make_client: Any, make_retreat: Any, limits: None, frozen_clock: Any
) -> None:
    retreat = make_retreat(places=100)
    attacker = make_client(source_ip="203.0.113.7")
    for i in range(2):
        assert attacker.post("/bookings", json=_body(retreat, 1, f"a{i}@example.test")).status == 201
    refused = attacker.post("/bookings", json=_body(retreat, 1, "a9@example.test"))
    assert refused.status == 429, refused.body
    body = refused.json()
    assert set(body) == {"statusCode", "message", "timestamp", "path"} and body["statusCode"] == 429
    assert body["message"].startswith("Trop de réservations en attente de paiement depuis cette connexion")
    assert "16 minutes" in body["message"]
    assert refused.headers["Retry-After"] == str(16 * 60 + 1)
    # Others are not affected; and once the holds expire, the same client may book again.
    assert make_client(source_ip="198.51.100.1").post("/bookings", json=_body(retreat, 1, "b@example.test")).status == 201
    frozen_clock.advance(minutes=16, seconds=1)
    assert attacker.post("/bookings", json=_body(retreat, 1, "a9@example.test")).status == 201


def test_one_contact_email_is_bounded_whatever_the_ip(make_client: Any, make_retreat: Any, limits: None) -> None:
    retreat = make_retreat(places=100)
    for i in range(2):
        assert make_client(source_ip=f"192.0.2.{i}").post("/bookings", json=_body(retreat, 1, "Same@Example.test")).status == 201
    refused = make_client(source_ip="192.0.2.99").post("/bookings", json=_body(retreat, 1, "same@example.test"))
    assert refused.status == 429
    assert "pour cette adresse email" in refused.json()["message"]


def test_seats_held_unpaid_are_bounded_too(make_client: Any, make_retreat: Any, limits: None) -> None:
    retreat = make_retreat(places=100)
    client = make_client(source_ip="203.0.113.8")
    assert client.post("/bookings", json=_body(retreat, 4, "c@example.test")).status == 201
    refused = client.post("/bookings", json=_body(retreat, 2, "d@example.test"))
    assert refused.status == 429
    assert "5 places" in refused.json()["message"]
    assert client.post("/bookings", json=_body(retreat, 1, "d@example.test")).status == 201


def test_paid_or_cancelled_bookings_no_longer_count(make_client: Any, make_retreat: Any, limits: None) -> None:
    from lutea.domain import booking_lifecycle

    retreat = make_retreat(places=100)
    client = make_client(source_ip="203.0.113.9")
    first = client.post("/bookings", json=_body(retreat, 1, "e@example.test")).json()
    client.post("/bookings", json=_body(retreat, 1, "f@example.test"))
    assert client.post("/bookings", json=_body(retreat, 1, "g@example.test")).status == 429
    booking_lifecycle.cancel_for_payment_failure(first["_id"])
    assert client.post("/bookings", json=_body(retreat, 1, "g@example.test")).status == 201


def test_post_bookings_has_a_stricter_rate_tier(
    make_client: Any, make_retreat: Any, monkeypatch: pytest.MonkeyPatch, frozen_clock: Any
) -> None:
    from lutea import config

    monkeypatch.setenv("RATE_LIMIT_BOOKING_PER_MINUTE", "2")
    config.reset_settings()
    retreat = make_retreat(places=100)
    client = make_client(source_ip="203.0.113.10")
    for i in range(2):
        assert client.post("/bookings", json=_body(retreat, 1, f"h{i}@example.test")).status == 201
    refused = client.post("/bookings", json=_body(retreat, 1, "h9@example.test"))
    assert refused.status == 429
    assert refused.json()["message"] == (
        "Trop de réservations tentées depuis cette connexion, veuillez réessayer dans une minute"
    )
    assert int(refused.headers["Retry-After"]) >= 1
    # Reading is not concerned by this tier.
    date = retreat["dates"][0]["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert client.get(f"/bookings/availability/{retreat['_id']}", query={"date": date}).status == 200


def test_the_stored_client_digests_cannot_be_reversed_without_the_server_secret(
    make_client: Any, make_retreat: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IPv4 address has 2^32 values: a digest anyone can compute is reversed by trying them
    all. The stored keys depend on the server's secret, and on nothing else of the booking."""
    import hashlib

    from lutea import config
    from lutea.data.mongo import get_db

    retreat = make_retreat(places=100)
    ip, email = "203.0.113.7", "zoe@example.test"
    assert make_client(source_ip=ip).post("/bookings", json=_body(retreat, 1, email)).status == 201
    [stored] = [b["holdKeys"] for b in get_db()["bookings"].find({}, {"holdKeys": 1})]
    for kind, value in (("ip", ip), ("email", email)):
        unkeyed = hashlib.sha256(f"lutea-hold:{kind}:{value}".encode()).hexdigest()[:32]
        assert f"{kind}:{unkeyed}" not in stored and not any(value in key for key in stored)

    from lutea.domain.bookings import hold_keys

    assert hold_keys(ip, email) == stored  # the same secret finds the same client again...
    monkeypatch.setenv("JWT_ACCESS_SECRET", "another-server-secret-of-sufficient-length-0123456789")
    config.reset_settings()
    assert not set(hold_keys(ip, email)) & set(stored)  # ...another secret does not
