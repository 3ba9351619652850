"""API10:2023 Unsafe Consumption of APIs: the Stripe webhook is believed only with a valid,
fresh signature over the exact body; a signed event is still checked against the stored
booking (amount, owner PaymentIntent); what Stripe returns is passed on only in part."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.security.support import assert_error, book, guest_proof, seats_held, stored
from tests.support.catalogue import PRICE_CENTS
from tests.support.fake_stripe import event_payload, sign_payload
from tests.support.outbox import read_outbox


@pytest.fixture
def paid(stripe_fake: Any, make_client: Any, retreat: dict) -> dict[str, Any]:
    """A pending booking whose customer has just paid (the webhook is not yet delivered)."""
    booking = book(make_client(), retreat, nb=2)
    created = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking["_id"]}}, headers=guest_proof(booking)
    )
    assert created.status == 200
    pi = stripe_fake.succeed(created.json()["id"])
    return {"booking": booking, "pi": pi, "fake": stripe_fake, "retreat": retreat}


def _deliver(make_client: Any, body: str, signature: str | None, header: str = "Stripe-Signature") -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[header] = signature
    return make_client(origin=None).post("/stripe/webhook", body=body, headers=headers)


def _events() -> list[dict[str, Any]]:
    from lutea.data.mongo import get_db

    return list(get_db()["stripeevents"].find({}))


def _assert_nothing_changed(paid: dict[str, Any], outbox_dir: Any) -> None:
    booking = stored("bookings", paid["booking"]["_id"])
    assert (booking["statut"], booking["statutPaiement"]) == ("PENDING", "PENDING")
    assert _events() == []
    assert read_outbox(outbox_dir) == []
    assert seats_held(paid["retreat"]) == 2
    assert paid["fake"].requests_to("POST", "/v1/refunds") == []


def test_unsigned_forged_and_replayed_deliveries_are_400_and_change_nothing(
    paid: dict[str, Any], make_client: Any, outbox_dir: Any
) -> None:
    fake, pi = paid["fake"], paid["pi"]
    body = event_payload("payment_intent.succeeded", pi)
    now = int(time.time())
    attempts = {
        "no signature": _deliver(make_client, body, None),
        "empty signature": _deliver(make_client, body, ""),
        "garbage": _deliver(make_client, body, "garbage"),
        "random mac": _deliver(make_client, body, f"t={now},v1={'0' * 64}"),
        "another secret": _deliver(make_client, body, sign_payload(body, "whsec_someone_else")),
        "v0 scheme only": _deliver(make_client, body, sign_payload(body, fake.webhook_secret).replace("v1=", "v0=")),
        "no timestamp": _deliver(make_client, body, sign_payload(body, fake.webhook_secret).split(",", 1)[1]),
        "replayed, 6 minutes old": _deliver(make_client, body, sign_payload(body, fake.webhook_secret, now - 360)),
        "replayed, a day old": _deliver(make_client, body, sign_payload(body, fake.webhook_secret, now - 86400)),
        "signature of another body": _deliver(
            make_client, body, sign_payload(event_payload("payment_intent.succeeded", pi), fake.webhook_secret)
        ),
        "body changed after signing": _deliver(
            make_client, body.replace('"amount":24000', '"amount":100'), sign_payload(body, fake.webhook_secret)
        ),
        "body re-serialised": _deliver(make_client, body.replace(",", ", "), sign_payload(body, fake.webhook_secret)),
        "header under another name": _deliver(
            make_client, body, sign_payload(body, fake.webhook_secret), header="X-Stripe-Signature"
        ),
    }
    for name, response in attempts.items():
        assert response.status == 400, (name, response.body)
        assert_error(response, 400)
    _assert_nothing_changed(paid, outbox_dir)

    # The genuine delivery goes through (so the refusals above were about the signature).
    genuine = _deliver(make_client, body, sign_payload(body, fake.webhook_secret))
    assert genuine.status == 200 and genuine.json() == {"received": True}
    booking = stored("bookings", paid["booking"]["_id"])
    assert (booking["statut"], booking["statutPaiement"]) == ("CONFIRMED", "PAID")


def test_a_delivery_within_the_tolerance_is_accepted(paid: dict[str, Any], make_client: Any) -> None:
    body = event_payload("payment_intent.succeeded", paid["pi"])
    response = _deliver(make_client, body, sign_payload(body, paid["fake"].webhook_secret, int(time.time()) - 240))
    assert response.status == 200
    assert stored("bookings", paid["booking"]["_id"])["statut"] == "CONFIRMED"


def test_a_replayed_event_is_applied_once(paid: dict[str, Any], make_client: Any, outbox_dir: Any) -> None:
    body = event_payload("payment_intent.succeeded", paid["pi"], event_id="evt_replay_1")
    signature = sign_payload(body, paid["fake"].webhook_secret)
    assert _deliver(make_client, body, signature).status == 200
    assert _deliver(make_client, body, signature).status == 200
    assert len([m for m in read_outbox(outbox_dir) if m.kind == "booking_confirmation"]) == 1
    assert len(_events()) == 1


def test_a_signed_event_for_the_wrong_amount_does_not_confirm(
    stripe_fake: Any, make_client: Any, retreat: dict, outbox_dir: Any
) -> None:
    """A PaymentIntent made outside our flow (e.g. in the dashboard) that names our booking but
    pays less: the booking stays unpaid and the money goes back."""
    booking = book(make_client(), retreat, nb=2)
    cheap = stripe_fake.add_payment_intent(amount=100, metadata={"bookingId": booking["_id"]}, status="succeeded")
    body, signature = stripe_fake.webhook("payment_intent.succeeded", cheap)
    assert _deliver(make_client, body, signature).status == 200
    doc = stored("bookings", booking["_id"])
    assert (doc["statut"], doc["statutPaiement"]) != ("CONFIRMED", "PAID")
    assert doc["prixTotalCents"] == 2 * PRICE_CENTS
    assert [r.params["payment_intent"] for r in stripe_fake.requests_to("POST", "/v1/refunds")] == [cheap["id"]]
    assert not [m for m in read_outbox(outbox_dir) if m.kind == "booking_confirmation"]


def test_a_failure_event_of_a_stranger_payment_intent_cancels_nothing(paid: dict[str, Any], make_client: Any) -> None:
    """An abandoned or foreign PaymentIntent naming the booking can't cancel the payment in progress."""
    fake, booking = paid["fake"], paid["booking"]
    pending = book(make_client(), paid["retreat"], nb=1)
    created = make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": pending["_id"]}}, headers=guest_proof(pending)
    )
    other = fake.add_payment_intent(amount=PRICE_CENTS, metadata={"bookingId": pending["_id"]})
    body, signature = fake.webhook("payment_intent.payment_failed", other)
    assert _deliver(make_client, body, signature).status == 200
    assert stored("bookings", pending["_id"])["statut"] == "PENDING"
    assert stored("bookings", pending["_id"])["stripePaymentIntentId"] == created.json()["id"]
    assert stored("bookings", booking["_id"])["statut"] == "PENDING"


def test_a_signed_event_that_is_not_json_or_not_an_event_is_400(stripe_fake: Any, make_client: Any) -> None:
    for body in ("not json", "[]", '{"id": 1, "type": "x", "data": {}}', '{"type": "payment_intent.succeeded"}'):
        response = _deliver(make_client, body, sign_payload(body, stripe_fake.webhook_secret))
        assert_error(response, 400)
    assert _events() == []


def test_only_public_fields_of_a_payment_intent_are_passed_on(paid: dict[str, Any], make_client: Any) -> None:
    booking, pi = paid["booking"], paid["pi"]
    response = make_client().post(
        "/stripe/get-payment-intent", json={"paymentIntentId": pi["id"]}, headers={"X-Booking-Token": booking["guestToken"]}
    )
    assert response.status == 200
    assert response.json() == {
        "id": pi["id"],
        "status": "succeeded",
        "amount": 2 * PRICE_CENTS,
        "currency": "eur",
        "client_secret": pi["client_secret"],
    }


def test_stripe_errors_are_not_relayed(paid: dict[str, Any], make_client: Any) -> None:
    """A failing upstream is a 502 with our own message, not Stripe's text."""
    fake, booking = paid["fake"], paid["booking"]
    fake.failures.extend([500] * 3)  # more than the SDK retries
    response = make_client().post(
        "/stripe/get-payment-intent",
        json={"paymentIntentId": paid["pi"]["id"]},
        headers={"X-Booking-Token": booking["guestToken"]},
    )
    assert response.status == 502, response.body
    assert "Something went wrong on Stripe" not in response.body and "sk_test" not in response.body
