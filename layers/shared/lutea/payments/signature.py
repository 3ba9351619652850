"""Stripe's webhook signature: the adapter's half of a webhook delivery. The ``Stripe-Signature``
header is verified by the SDK on the body exactly as received (a re-serialised body would not
verify); missing or bad -> ``InvalidInput`` (400), nothing read. What each event does is the
domain's (lutea.domain.payment_events)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lutea.config import get_settings
from lutea.errors import InvalidInput
from lutea.observability import metrics

# Stripe's own default: a signature older than 5 minutes is refused (replays).
SIGNATURE_TOLERANCE_S = 300
DEV_WEBHOOK_SECRET = "whsec_local"

MESSAGE_NO_SIGNATURE = "Signature Stripe manquante"
MESSAGE_BAD_SIGNATURE = "Signature Stripe invalide"


def verify_event(payload: str | bytes | None, signature: str | None) -> dict[str, Any]:
    """The event of a delivery whose signature is valid, as a plain dict; ``InvalidInput`` otherwise."""
    import stripe

    if not payload or not signature:
        raise InvalidInput(MESSAGE_NO_SIGNATURE)
    secret = get_settings().stripe_webhook_secret
    if get_settings().is_production and secret == DEV_WEBHOOK_SECRET:
        raise RuntimeError("production needs a real STRIPE_WEBHOOK_SECRET")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, SIGNATURE_TOLERANCE_S)
    except (stripe.SignatureVerificationError, ValueError, IndexError) as exc:
        metrics.add_metric(name="StripeWebhookRejected", unit=MetricUnit.Count, value=1)
        raise InvalidInput(MESSAGE_BAD_SIGNATURE) from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:  # signed, yet not JSON: not from Stripe as we know it
        raise InvalidInput(MESSAGE_BAD_SIGNATURE) from exc
    data = event.get("data") if isinstance(event, dict) else None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        raise InvalidInput("Événement Stripe mal formé")
    return event
