"""Webhook verification and the once-only bookkeeping of events (no HTTP, no Stripe server)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from lutea.errors import Conflict, InvalidInput

from tests.support.fake_stripe import event_payload, sign_payload

SECRET = "whsec_unit_secret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    config.reset_settings()


def _signed(
    event_type: str = "payment_intent.succeeded", obj: dict | None = None, event_id: str | None = None
) -> tuple[str, str]:
    body = event_payload(event_type, obj or {"id": "pi_1", "object": "payment_intent", "metadata": {}}, event_id=event_id)
    return body, sign_payload(body, SECRET)


def test_sign_payload_is_stripes_scheme() -> None:
    import hashlib
    import hmac

    header = sign_payload('{"a":1}', "whsec_x", timestamp=1700000000)
    expected = hmac.new(b"whsec_x", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_valid_delivery_gives_the_event_as_a_dict() -> None:
    from lutea.payments.signature import verify_event

    body, signature = _signed(event_id="evt_123")
    event = verify_event(body, signature)
    assert isinstance(event, dict)
    assert (event["id"], event["type"]) == ("evt_123", "payment_intent.succeeded")
    assert event["data"]["object"]["id"] == "pi_1"
    assert verify_event(body.encode(), signature)["id"] == "evt_123"  # bytes work too


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b, s: (b + " ", s),  # one byte more
        lambda b, s: (json.dumps(json.loads(b)), s),  # re-serialised
        lambda b, s: (b, sign_payload(b, "whsec_other")),  # another secret
        lambda b, s: (b, sign_payload(b, SECRET, int(time.time()) - 301)),  # too old (replay)
        lambda b, s: (b, s.replace("v1=", "v0=")),  # other scheme
        lambda b, s: (b, "t=abc,v1=def"),  # malformed
        lambda b, s: (b, "nonsense"),
    ],
)
def test_anything_but_the_exact_signed_bytes_is_refused(mutate: Any) -> None:
    from lutea.payments.signature import verify_event

    body, signature = mutate(*_signed())
    with pytest.raises(InvalidInput) as caught:
        verify_event(body, signature)
    assert caught.value.message == "Signature Stripe invalide"


@pytest.mark.parametrize(("body", "signature"), [(None, "t=1,v1=0"), ("{}", None), ("", "t=1,v1=0"), ("{}", "")])
def test_a_missing_body_or_signature_is_refused(body: Any, signature: Any) -> None:
    from lutea.payments.signature import verify_event

    with pytest.raises(InvalidInput) as caught:
        verify_event(body, signature)
    assert caught.value.message == "Signature Stripe manquante"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"id": "evt_1", "type": "x"}',
        '{"id": 1, "type": "x", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "x", "data": {"object": "pi_1"}}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(body: str) -> None:
    from lutea.payments.signature import verify_event

    with pytest.raises(InvalidInput):
        verify_event(body, sign_payload(body, SECRET))


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea import config
    from lutea.payments.signature import verify_event

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_local")
    monkeypatch.setattr(config, "_check", lambda s, env: None)  # the other production checks are not ours
    config.reset_settings()
    body = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    with pytest.raises(RuntimeError):
        verify_event(body, sign_payload(body, "whsec_local"))


# --- once-only bookkeeping ---------------------------------------------------------------------


def test_an_event_is_claimed_once() -> None:
    from lutea.clock import now
    from lutea.data.payments import ProcessedEventRepository

    repo = ProcessedEventRepository()
    assert repo.insert_claim("evt_a", "payment_intent.succeeded") is True
    assert repo.insert_claim("evt_a", "payment_intent.succeeded") is False
    assert repo.reclaim("evt_a", stale_before=now() - timedelta(minutes=2)) is False  # fresh claim: busy
    repo.mark_done("evt_a")
    assert repo.reclaim("evt_a", stale_before=now() + timedelta(days=1)) is False  # done is final
    assert repo.get("evt_a")["status"] == "done"


def test_a_failed_or_abandoned_claim_can_be_taken_again(frozen_clock: Any) -> None:
    from lutea.clock import now
    from lutea.data.payments import ProcessedEventRepository

    repo = ProcessedEventRepository()
    repo.insert_claim("evt_f", "charge.refunded")
    repo.mark_failed("evt_f", "RuntimeError")
    assert repo.reclaim("evt_f", stale_before=now() - timedelta(minutes=2)) is True
    assert repo.reclaim("evt_f", stale_before=now() - timedelta(minutes=2)) is False  # one winner
    frozen_clock.advance(minutes=3)  # the claimant died without a word
    assert repo.reclaim("evt_f", stale_before=now() - timedelta(minutes=2)) is True
    stored = repo.get("evt_f")
    assert (stored["status"], stored["attempts"]) == ("processing", 3)


def test_the_event_id_index_is_unique() -> None:
    from lutea.data.mongo import get_db

    get_db()  # builds the registered indexes
    indexes = get_db()["stripeevents"].index_information()
    assert any(spec["key"] == [("eventId", 1)] and spec.get("unique") for spec in indexes.values())


def test_a_delivery_while_another_is_applying_the_event_is_409(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea.data.payments import ProcessedEventRepository
    from lutea.domain import payment_events as webhooks

    applied: list[dict] = []
    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", applied.append)
    body, signature = _signed(event_id="evt_busy")
    ProcessedEventRepository().insert_claim("evt_busy", "payment_intent.succeeded")  # someone else is at it
    with pytest.raises(Conflict):
        webhooks.handle_webhook(body, signature)
    assert applied == []


def test_handle_webhook_outcomes(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea.domain import payment_events as webhooks

    applied: list[dict] = []
    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", applied.append)
    body, signature = _signed(event_id="evt_once")
    assert webhooks.handle_webhook(body, signature) == webhooks.PROCESSED
    assert webhooks.handle_webhook(body, signature) == webhooks.DUPLICATE
    assert len(applied) == 1
    other, other_sig = _signed("invoice.paid", {"id": "in_1"})
    assert webhooks.handle_webhook(other, other_sig) == webhooks.IGNORED


def test_a_failing_handler_is_recorded_and_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from lutea.data.payments import ProcessedEventRepository
    from lutea.domain import payment_events as webhooks

    attempts: list[int] = []

    def flaky(obj: dict) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("boom")

    monkeypatch.setitem(webhooks.HANDLERS, "charge.refunded", flaky)
    body, signature = _signed("charge.refunded", {"id": "ch_1"}, event_id="evt_retry")
    with pytest.raises(webhooks.WebhookProcessingFailed):
        webhooks.handle_webhook(body, signature)
    stored = ProcessedEventRepository().get("evt_retry")
    assert (stored["status"], stored["error"]) == ("failed", "ValueError")
    assert webhooks.handle_webhook(body, signature) == webhooks.PROCESSED
    assert ProcessedEventRepository().get("evt_retry")["status"] == "done"
    assert len(attempts) == 2
