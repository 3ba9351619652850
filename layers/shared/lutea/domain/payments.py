"""Paying for a booking: the PaymentIntent is priced by the server, one per booking, and only
the booking's owner (or the guest holding its token) may read or cancel it.

Plain Python: the routes of functions/payments call these; the gateway hides Stripe.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from lutea.clock import as_utc
from lutea.data.bookings import BookingRepository
from lutea.domain import booking_lifecycle, bookings
from lutea.domain.booking_lookup import get_booking
from lutea.errors import Conflict, NotFound
from lutea.observability import logger, metrics
from lutea.payments.gateway import get_gateway

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc

CURRENCY = "eur"
METADATA_SOURCE = "lutea-booking"
MESSAGE_PI_NOT_FOUND = "Paiement non trouvé"
MESSAGE_NOT_CANCELLABLE = "Le paiement ne peut pas être annulé dans son état actuel"
MESSAGE_PI_CANCELLED = "Le paiement de cette réservation a été annulé"
MESSAGE_CANCELLED = "PaymentIntent annulé avec succès"


def idempotency_key(booking_id: str) -> str:
    """Derived from the booking: however often the client retries, Stripe creates one PaymentIntent."""
    return f"booking-{booking_id}-pi"


def payment_metadata(booking: BookingDoc) -> dict[str, str]:
    """What the Stripe dashboard and the discrepancy check need; no personal data."""
    start = booking.get("dateStart")
    return {
        "bookingId": str(booking["_id"]),
        "retreatId": str(booking.get("retreatId") or ""),
        "retreatName": str(booking.get("retreatName") or "")[:500],  # Stripe's limit per value
        "sessionDate": as_utc(start).date().isoformat() if isinstance(start, datetime) else "",
        "nbPlaces": str(booking.get("nbPlaces") or ""),
        "source": METADATA_SOURCE,
    }


MINIMUM_CHARGE_CENTS = 50
MESSAGE_AMOUNT_TOO_SMALL = "Le montant de cette réservation est inférieur au minimum d'un paiement en ligne (0,50 €)"


def start_payment(booking_id: str, principal: Any, guest_token: str | None) -> dict[str, str]:
    """``{clientSecret, id}`` of the caller's booking's PaymentIntent, created on first call for
    the booking's own price. Someone else's booking and an unknown one get the same 404 (the
    client secret lets its holder pay, and a declined attempt or a cancel act on the booking);
    then the booking must be PENDING, unexpired and its date block not started (else 409)."""
    booking = get_booking(booking_id)  # read once: owner, then payability
    bookings.check_booking_owner(booking, principal, guest_token)
    booking = booking_lifecycle.check_payable(booking)
    if int(booking["prixTotalCents"]) < MINIMUM_CHARGE_CENTS:
        # Stripe refuses charges under 0.50 EUR (and a free retreat needs no payment at all).
        raise Conflict(MESSAGE_AMOUNT_TOO_SMALL)
    gateway = get_gateway()
    existing = booking.get("stripePaymentIntentId")
    if existing:
        pi = gateway.retrieve_payment_intent(existing)
    else:
        pi = gateway.create_payment_intent(
            booking_id=str(booking["_id"]),
            amount_cents=int(booking["prixTotalCents"]),
            currency=CURRENCY,
            idempotency_key=idempotency_key(str(booking["_id"])),
            metadata=payment_metadata(booking),
        )
        booking_lifecycle.attach_payment_intent(str(booking["_id"]), pi["id"])
        metrics.add_metric(name="PaymentIntentsCreated", unit=MetricUnit.Count, value=1)
        logger.info("payment intent created", extra={"booking_id": str(booking["_id"]), "payment_intent": pi["id"]})
    if pi["status"] == "canceled":
        raise Conflict(MESSAGE_PI_CANCELLED)
    return {"clientSecret": pi["client_secret"], "id": pi["id"]}


def _owned_booking(pi_id: str, principal: Any, guest_token: str | None) -> BookingDoc:
    """The booking paid by ``pi_id`` if the caller owns it; 404 otherwise (existence is not revealed)."""
    booking = BookingRepository().find_by_payment_intent(pi_id)
    if booking is None:
        raise NotFound(MESSAGE_PI_NOT_FOUND)
    try:
        bookings.check_booking_owner(booking, principal, guest_token)
    except NotFound:
        raise NotFound(MESSAGE_PI_NOT_FOUND) from None  # same answer as for an unknown payment
    return booking


def payment_intent_for(pi_id: str, principal: Any, guest_token: str | None) -> dict[str, Any]:
    """The public fields of the caller's own PaymentIntent."""
    _owned_booking(pi_id, principal, guest_token)
    pi = get_gateway().retrieve_payment_intent(pi_id)
    return {key: pi[key] for key in ("id", "status", "amount", "currency", "client_secret")}


def cancel_payment(pi_id: str, principal: Any, guest_token: str | None) -> dict[str, Any]:
    """Cancel the caller's PaymentIntent at Stripe, then the booking (its seats released once)."""
    booking = _owned_booking(pi_id, principal, guest_token)
    gateway = get_gateway()
    try:
        gateway.cancel_payment_intent(pi_id)
    except Conflict:
        # Already cancelled is fine (a retry); succeeded or processing is not cancellable.
        if gateway.retrieve_payment_intent(pi_id)["status"] != "canceled":
            raise Conflict(MESSAGE_NOT_CANCELLABLE) from None
    booking_lifecycle.cancel_for_payment_failure(str(booking["_id"]), pi_id)
    metrics.add_metric(name="PaymentIntentsCancelled", unit=MetricUnit.Count, value=1)
    logger.info("payment cancelled by the customer", extra={"booking_id": str(booking["_id"]), "payment_intent": pi_id})
    return {"success": True, "message": MESSAGE_CANCELLED}
