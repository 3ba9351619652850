"""The Stripe gateway: the real SDK against the fake Stripe server."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from lutea.errors import Conflict, NotFound, UpstreamFailure

from tests.integration.payments.conftest import ROOT_DIR
from tests.support.fake_stripe import FakeStripe


def _gateway():
    from lutea.payments.gateway import get_gateway

    return get_gateway()


def _create(amount: int = 5000, key: str = "k-1", booking_id: str = "b1") -> dict:
    return _gateway().create_payment_intent(
        booking_id=booking_id, amount_cents=amount, currency="eur", idempotency_key=key, metadata={"source": "lutea-booking"}
    )


def test_requests_carry_the_pinned_version_and_no_telemetry(stripe_fake: FakeStripe) -> None:
    import stripe
    from lutea.payments.gateway import STRIPE_API_VERSION

    pi = _create()
    _gateway().retrieve_payment_intent(pi["id"])
    assert stripe.enable_telemetry is False
    for request in stripe_fake.requests:
        assert request.headers["stripe-version"] == STRIPE_API_VERSION
        assert "x-stripe-client-telemetry" not in request.headers
        assert request.headers["authorization"] == f"Bearer {stripe_fake.api_key}"


def test_the_pinned_version_is_the_sdks() -> None:
    from lutea.payments.gateway import STRIPE_API_VERSION
    from stripe._api_version import _ApiVersion

    # Upgrading the SDK changes its types: move the pin with it, deliberately.
    assert STRIPE_API_VERSION == _ApiVersion.CURRENT


def test_create_returns_plain_fields_and_honours_the_idempotency_key(stripe_fake: FakeStripe) -> None:
    first = _create(12_000, key="booking-x-pi", booking_id="x")
    again = _create(12_000, key="booking-x-pi", booking_id="x")
    assert again == first
    assert isinstance(first, dict)
    assert {k: first[k] for k in ("status", "amount", "currency", "amount_received", "amount_refunded")} == {
        "status": "requires_payment_method",
        "amount": 12_000,
        "currency": "eur",
        "amount_received": 0,
        "amount_refunded": 0,
    }
    assert first["metadata"] == {"source": "lutea-booking", "bookingId": "x"}
    assert first["client_secret"].startswith(first["id"])
    assert len(stripe_fake.payment_intents) == 1
    assert {r.idempotency_key for r in stripe_fake.requests} == {"booking-x-pi"}


def test_a_non_positive_amount_is_refused_before_stripe(stripe_fake: FakeStripe) -> None:
    with pytest.raises(ValueError):
        _create(0)
    assert stripe_fake.requests == []


def test_errors_are_mapped(stripe_fake: FakeStripe) -> None:
    with pytest.raises(NotFound) as missing:
        _gateway().retrieve_payment_intent("pi_missing")
    assert missing.value.message == "Paiement non trouvé"
    pi = stripe_fake.succeed(_create()["id"])
    with pytest.raises(Conflict):
        _gateway().cancel_payment_intent(pi["id"])
    stripe_fake.failures = [500, 500]
    with pytest.raises(UpstreamFailure):
        _gateway().retrieve_payment_intent(pi["id"])
    with pytest.raises(UpstreamFailure):  # nothing to refund: not "already refunded"
        _gateway().refund(_create(key="k-2")["id"])


def test_a_wrong_key_is_an_upstream_failure(stripe_fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_wrong")
    config.reset_settings()
    with pytest.raises(UpstreamFailure):
        _create()


def test_an_unreachable_stripe_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from lutea import config
    from lutea.payments import gateway

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{port}")
    config.reset_settings()
    gateway.reset_gateway()
    started = time.monotonic()
    with pytest.raises(UpstreamFailure):
        _gateway().retrieve_payment_intent("pi_1")
    assert time.monotonic() - started < 5
    gateway.reset_gateway()


def test_refunds_are_idempotent_per_payment_and_amount(stripe_fake: FakeStripe) -> None:
    pi = stripe_fake.succeed(_create(10_000)["id"])
    partial = _gateway().refund(pi["id"], 2_500)
    assert _gateway().refund(pi["id"], 2_500) == partial
    assert partial == {"id": partial["id"], "status": "succeeded", "amount": 2_500, "payment_intent": pi["id"]}
    rest = _gateway().refund(pi["id"])
    assert rest["amount"] == 7_500
    assert len(stripe_fake.refunds) == 2
    assert _gateway().refund(pi["id"]) == rest  # a replay, not a third refund
    with pytest.raises(Conflict):  # Stripe: charge_already_refunded
        _gateway().refund(pi["id"], 100)


def test_listing_follows_pages_and_reports_refunds(stripe_fake: FakeStripe) -> None:
    stripe_fake.page_size = 2
    ids = [_create(1000 + i, key=f"k-{i}")["id"] for i in range(5)]
    stripe_fake.succeed(ids[0])
    stripe_fake.succeed(ids[1])
    _gateway().refund(ids[1])
    stripe_fake.add_payment_intent(amount=999, created=int(time.time()) - 7 * 86400)
    listed = _gateway().list_payment_intents(datetime.now(UTC) - timedelta(days=5))
    assert sorted(p["id"] for p in listed) == sorted(ids)
    by_id = {p["id"]: p for p in listed}
    assert (by_id[ids[0]]["status"], by_id[ids[0]]["amount_received"], by_id[ids[0]]["amount_refunded"]) == ("succeeded", 1000, 0)
    assert by_id[ids[1]]["amount_refunded"] == 1001
    assert by_id[ids[0]]["latest_charge"].startswith("ch_")
    assert len(stripe_fake.requests_to("GET", "/v1/payment_intents")) == 3


def test_stripe_is_not_imported_until_used() -> None:
    code = (
        "import sys; sys.path[:0] = ['layers/shared', '.'];"
        "import lutea.payments.gateway, lutea.domain.payment_events, lutea.domain.payment_discrepancies,"
        " lutea.domain.payments;"
        "print('stripe' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"STAGE": "test", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"
