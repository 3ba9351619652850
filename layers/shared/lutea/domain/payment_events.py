"""Stripe's webhook events applied to bookings: the signature checked by the adapter
(lutea.payments.signature), then each event applied once.

    outcome = handle_webhook(raw_body, signature_header)

- A missing or bad signature -> ``InvalidInput`` (400), nothing read.
- An event is applied once: its id is claimed in ``stripeevents`` (unique index) before it is
  applied and marked done after. A redelivery of a done event is acknowledged and skipped; a
  failed one is applied again (Stripe retries because we answered 500).
- Transitions only move forward; the bookings domain's conditional updates make every handler
  safe to run on events arriving out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lutea.clock import now
from lutea.data.bookings import BookingRepository
from lutea.data.payments import DONE, ProcessedEventRepository
from lutea.domain import booking_lifecycle
from lutea.errors import Conflict, LuteaError, NotFound
from lutea.observability import logger, metrics
from lutea.payments.gateway import get_gateway
from lutea.payments.signature import verify_event
from lutea.wire import is_object_id

# A claim older than this whose processing never finished was left by a dead invocation.
STALE_CLAIM = timedelta(minutes=2)

MESSAGE_IN_PROGRESS = "Événement en cours de traitement"

# Outcomes, for the caller's logs and the tests.
PROCESSED = "processed"
DUPLICATE = "duplicate"
IGNORED = "ignored"


class WebhookProcessingFailed(LuteaError):
    """500: the event could not be applied; Stripe will deliver it again."""


def handle_webhook(payload: str | bytes | None, signature: str | None) -> str:
    """Verify, deduplicate and apply one delivery. Returns PROCESSED, DUPLICATE or IGNORED."""
    event = verify_event(payload, signature)
    event_id, event_type = event["id"], event["type"]
    metrics.add_metric(name=f"StripeEvent.{event_type}"[:250], unit=MetricUnit.Count, value=1)
    handler = HANDLERS.get(event_type)
    if handler is None:
        logger.info("stripe event ignored", extra={"event_id": event_id, "event_type": event_type})
        return IGNORED
    events = ProcessedEventRepository()
    if not events.insert_claim(event_id, event_type) and not events.reclaim(event_id, stale_before=now() - STALE_CLAIM):
        known = events.get(event_id)
        if known is not None and known.get("status") == DONE:
            metrics.add_metric(name="StripeEventDuplicate", unit=MetricUnit.Count, value=1)
            logger.info("stripe event already processed", extra={"event_id": event_id, "event_type": event_type})
            return DUPLICATE
        # Another delivery of this event is being applied right now: let Stripe come back later.
        raise Conflict(MESSAGE_IN_PROGRESS)
    try:
        handler(event["data"]["object"])
    except Exception as exc:
        events.mark_failed(event_id, type(exc).__name__)
        metrics.add_metric(name="StripeEventFailed", unit=MetricUnit.Count, value=1)
        logger.exception("stripe event failed", extra={"event_id": event_id, "event_type": event_type})
        raise WebhookProcessingFailed() from exc
    events.mark_done(event_id)
    logger.info("stripe event processed", extra={"event_id": event_id, "event_type": event_type})
    return PROCESSED


# --- what each event does ----------------------------------------------------------------


def _booking_id(obj: dict[str, Any]) -> str | None:
    booking_id = (obj.get("metadata") or {}).get("bookingId")
    if not is_object_id(booking_id):
        # Not one of ours (a payment made in the dashboard, another integration): nothing to do.
        logger.warning("stripe object without a booking", extra={"object_id": obj.get("id")})
        return None
    return booking_id


def on_payment_succeeded(pi: dict[str, Any]) -> None:
    booking_id = _booking_id(pi)
    if booking_id is None:
        return
    # Stripe's current view of the payment, refunds included (the event's copy has the charge
    # as a bare id): the booking is confirmed only for the amount actually kept.
    try:
        payment = get_gateway().retrieve_payment_intent(pi["id"])
    except NotFound:
        logger.error("succeeded payment unknown to Stripe", extra={"payment_intent": pi.get("id")})
        return
    try:
        outcome = booking_lifecycle.confirm_paid(booking_id, payment)
    except NotFound:
        # Retrying cannot help; the discrepancy check reports the payment to the admin.
        logger.error("payment for an unknown booking", extra={"payment_intent": pi["id"], "booking_id": booking_id})
        return
    logger.info("payment succeeded", extra={"payment_intent": pi["id"], "booking_id": booking_id, "outcome": outcome})
    if outcome == "needs_refund":
        refund_late_payment(booking_id, pi["id"])
    elif outcome == "confirmed":
        metrics.add_metric(name="BookingsPaid", unit=MetricUnit.Count, value=1)


def refund_late_payment(booking_id: str, pi_id: str) -> None:
    """A payment arrived that cannot be kept (the booking expired and its seats are gone, was
    cancelled or already paid): the refund is recorded as owed on the booking and done now,
    else retried until Stripe accepts (one refund, whatever the retries); the customer and the
    admin are told once it is done (lutea.domain.booking_lifecycle.owe_late_refund)."""
    booking_lifecycle.owe_late_refund(booking_id, pi_id)


def on_payment_failed(pi: dict[str, Any]) -> None:
    """A declined attempt changes nothing but this log line: the PaymentIntent goes back to
    ``requires_payment_method`` and the customer may pay with another card; the booking stays
    PENDING until it is paid, cancelled or expires. (Cancelling here let anyone holding a
    booking's client secret free its seats with one declined card.)"""
    error = pi.get("last_payment_error") or {}
    logger.info(
        "payment attempt failed",
        extra={
            "payment_intent": pi.get("id"),
            "booking_id": _booking_id(pi),
            "decline_code": error.get("code") if isinstance(error, dict) else None,
        },
    )


def on_payment_canceled(pi: dict[str, Any]) -> None:
    """The PaymentIntent is cancelled for good (``canceled`` is final): the booking is
    cancelled and its seats released, unless it is being paid by another PaymentIntent."""
    booking_id = _booking_id(pi)
    if booking_id is None:
        return
    try:
        cancelled = booking_lifecycle.cancel_for_payment_failure(booking_id, pi.get("id"))
    except NotFound:
        logger.error("cancelled payment for an unknown booking", extra={"payment_intent": pi.get("id")})
        return
    logger.info(
        "payment cancelled", extra={"payment_intent": pi.get("id"), "booking_id": booking_id, "booking_cancelled": cancelled}
    )


def on_charge_refunded(charge: dict[str, Any]) -> None:
    pi_id = charge.get("payment_intent")
    if not isinstance(pi_id, str):
        logger.warning("refunded charge without a payment intent", extra={"charge": charge.get("id")})
        return
    if not charge.get("refunded"):
        # A partial refund (made by the admin in the dashboard) leaves the booking as it is.
        logger.info("partial refund", extra={"payment_intent": pi_id})
        return
    booking = BookingRepository().find_by_payment_intent(pi_id)
    if booking is None:
        logger.warning("refund for an unknown booking", extra={"payment_intent": pi_id})
        return
    # A refund made at Stripe (dashboard): the customer learns that the booking is cancelled
    # (the email is owed by the same update). Refunds we made ourselves (admin cancel, late
    # payment) already marked it, so this changes nothing and sends nothing.
    changed = booking_lifecycle.mark_refunded(str(booking["_id"]), email=True)
    logger.info("charge refunded", extra={"payment_intent": pi_id, "booking_id": str(booking["_id"]), "booking_changed": changed})


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment_intent.succeeded": on_payment_succeeded,
    "payment_intent.payment_failed": on_payment_failed,
    "payment_intent.canceled": on_payment_canceled,
    "charge.refunded": on_charge_refunded,
}
