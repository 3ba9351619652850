"""Self-service cancellation: the owner of a confirmed booking cancels it and is refunded by
the refund policy in force when she booked (lutea.domain.refund_policy), by the server's clock.

    CONFIRMED/PAID --owner cancels--> CANCELLED/REFUNDED  (some money back: Stripe refund owed)
                                   \\-> CANCELLED/PAID     (nothing back, or a manual booking)

One conditional update (the transition's filter is the state it leaves) cancels the booking,
frees its seats for the waiting list, and records what is owed because of it in the same
document: the refund (amount and idempotency key) and the two emails. Only the winner of the
transition releases the seats. The owed effects are then completed at once, and whatever a
crash or an outage left undone is completed by ``complete_owed_effects`` (scheduled): the
refund exactly once (Stripe's idempotency key is fixed per PaymentIntent and amount), the
emails at least once.
"""
from __future__ import annotations

import contextlib
import hmac
from datetime import timedelta
from typing import Any

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.domain.booking_common import (
    CANCELLED,
    CONFIRMED,
    MSG_BOOKING_NOT_FOUND,
    PAID,
    REFUNDED,
    booking_repository,
    count_metric,
    get_booking,
)
from lutea.domain.refund_policy import Quote, booking_policy, booking_policy_text, policy_text, quote
from lutea.errors import Conflict, NotFound, UpstreamFailure
from lutea.observability import logger
from lutea.payments.gateway import get_gateway

MSG_NOT_CONFIRMED = "Seule une réservation confirmée et payée peut être annulée"
MSG_STARTED = "Le séjour a déjà commencé : la réservation ne peut plus être annulée"
REASON_CUSTOMER = "Annulée par le client"
BY_CUSTOMER = "client"
EMAIL_CUSTOMER, EMAIL_ADMIN = "customer", "admin"
SETTLE_GRACE = timedelta(minutes=2)  # the request completes its own effects; the job takes the rest


# --- who may cancel ------------------------------------------------------------------------

def _owned(booking_id: ObjectId, principal: Any, guest_token: str | None) -> dict:
    """The booking if the caller owns it: its signed-in user, or the holder of its guest token
    (kept by the guest since the booking was made). Anything else is the same 404 as a missing
    booking."""
    from lutea.auth.codes import hash_link_token

    booking = get_booking(booking_id)
    owner = booking.get("userId")
    user_id = getattr(principal, "user_id", None)
    if owner is not None and user_id is not None and str(owner) == str(user_id):
        return booking
    stored = booking.get("guestTokenHash")
    if guest_token and stored and hmac.compare_digest(hash_link_token(guest_token), stored):
        return booking
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def _refusal(booking: dict) -> str | None:
    """Why the owner can't cancel ``booking`` now (None: she can)."""
    if booking.get("statut") != CONFIRMED or booking.get("statutPaiement") != PAID or not booking.get("seatsHeld"):
        return MSG_NOT_CONFIRMED
    if now() >= as_utc(booking["dateStart"]):
        return MSG_STARTED
    return None


def _quote(booking: dict) -> Quote:
    return quote(booking_policy(booking), start=booking["dateStart"], at=now(),
                 paid_cents=int(booking.get("prixTotalCents") or 0))


# --- the routes ----------------------------------------------------------------------------

def cancellation_quote(booking_id: ObjectId, principal: Any, guest_token: str | None) -> dict[str, Any]:
    """What cancelling now would refund (``GET /bookings/:id/cancellation-quote``), in cents."""
    booking = _owned(booking_id, principal, guest_token)
    policy = booking_policy(booking)
    result = _quote(booking)
    refusal = _refusal(booking)
    return {
        "bookingId": str(booking["_id"]),
        "annulable": refusal is None,
        "motif": refusal,
        "paidCents": result.paid_cents,
        "percent": result.percent if refusal is None else 0,
        "refundCents": result.refund_cents if refusal is None else 0,
        "nextChange": result.next_change if refusal is None else None,
        "policy": policy,
        "policyText": policy_text(policy),
        "at": now(),
    }


def cancel_by_customer(booking_id: ObjectId, principal: Any, guest_token: str | None,
                       raison: str | None = None) -> dict:
    """Cancel the caller's confirmed booking (``POST /bookings/:id/cancel``); returns the
    cancelled booking. 409 when it is not confirmed and paid, or its stay has started."""
    booking = _owned(booking_id, principal, guest_token)
    refusal = _refusal(booking)
    if refusal is not None:
        raise Conflict(refusal)
    result = _quote(booking)  # by the server's clock, now
    stripe_refund = bool(booking.get("isStripeBooking")) and bool(booking.get("stripePaymentIntentId"))
    changes: dict[str, Any] = {
        "statut": CANCELLED, "seatsHeld": False, "annulePar": BY_CUSTOMER,
        "annulationRaison": raison or REASON_CUSTOMER, "annulationDate": now(),
        "pourcentageRembourse": result.percent, "montantRembourseCents": result.refund_cents,
        "owedEmails": [EMAIL_CUSTOMER, EMAIL_ADMIN],
        # The admin's cancellation email is not sent again for this booking.
        "cancellationEmailAt": now(),
    }
    if result.refund_cents > 0 and stripe_refund:
        changes["statutPaiement"] = REFUNDED
        changes["refundOwed"] = {"amountCents": result.refund_cents, "paymentIntentId": booking["stripePaymentIntentId"]}
    before = booking_repository().transition(
        booking["_id"], {"statut": CONFIRMED, "statutPaiement": PAID, "seatsHeld": True}, changes)
    if before is None:  # cancelled, refunded or changed meanwhile: say what it is now
        raise Conflict(MSG_NOT_CONFIRMED)
    from lutea.domain.booking_lifecycle import release_seats

    release_seats(before)
    count_metric("BookingsCancelledByCustomer")
    logger.info("booking cancelled by its owner", extra={"bookingId": str(before["_id"]), "percent": result.percent})
    settle(before["_id"])
    return get_booking(before["_id"])


# --- owed effects --------------------------------------------------------------------------

def settle(booking_id: ObjectId) -> None:
    """Complete what a customer's cancellation still owes: the refund, then the emails (which
    tell the refund). Each step is marked done by a conditional update, so a repeat does
    nothing; a Stripe outage leaves the refund owed for the next run."""
    repo = booking_repository()
    booking = repo.get(booking_id)
    if booking is None:
        return
    owed = booking.get("refundOwed")
    if owed:
        try:
            with contextlib.suppress(Conflict):  # Stripe says it is already refunded: done
                get_gateway().refund(owed["paymentIntentId"], int(owed["amountCents"]))
        except (UpstreamFailure, NotFound) as exc:
            logger.warning("refund left owed", extra={"bookingId": str(booking_id), "error": type(exc).__name__})
            return
        if repo.complete_owed_refund(booking_id):
            count_metric("BookingsRefunded")
        booking = repo.get(booking_id) or booking
    for kind in list(booking.get("owedEmails") or []):
        _send(kind, booking)
        repo.complete_owed_email(booking_id, kind)


def _send(kind: str, booking: dict) -> None:
    from lutea.email.messages import notify, send_cancellation_to_admin, send_customer_cancellation

    text = booking_policy_text(booking)
    if kind == EMAIL_CUSTOMER:
        notify(send_customer_cancellation, booking, policy_text=text)
    elif kind == EMAIL_ADMIN:
        notify(send_cancellation_to_admin, booking, policy_text=text)


def complete_owed_effects(limit: int = 200) -> int:
    """Scheduled: finish the refunds and emails that customers' cancellations still owe (a
    crash or a Stripe outage after the cancellation). Returns how many bookings were visited."""
    ids = booking_repository().ids_with_owed_effects(now() - SETTLE_GRACE, limit=limit)
    for oid in ids:
        try:
            settle(oid)
        except Exception:  # noqa: BLE001 - one booking's failure must not stop the others
            logger.exception("owed effects not completed", extra={"bookingId": str(oid)})
    return len(ids)


def oldest_owed_refund_age_seconds() -> int:
    """How long the oldest refund still owed by a cancellation has waited (0: none owed)."""
    oldest = booking_repository().oldest_owed_refund_since()
    return 0 if oldest is None else max(0, int((now() - oldest).total_seconds()))
