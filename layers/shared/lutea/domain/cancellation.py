"""Self-service cancellation: the owner of a confirmed booking cancels it and is refunded by
the refund policy in force when she booked (lutea.refund_policy), by the server's clock.

    CONFIRMED/PAID --owner cancels--> CANCELLED/REFUNDED  (some money back: Stripe refund owed)
                                   \\-> CANCELLED/PAID     (nothing back, or a manual booking)

One conditional update (the transition's filter is the state it leaves) cancels the booking
and records, in the same update, what it owes (lutea.domain.owed_effects): the refund of the
quoted amount and the emails to the customer and the admin. Only the winner of the transition
releases the seats (offered at once to the waiting list). The owed effects are done right
after; whatever a crash or an outage leaves undone is done by the owed-effects job: the refund
exactly once (Stripe's idempotency key is fixed per PaymentIntent and amount), each email once
(keyed at the provider).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.auth.codes import matches_link_token
from lutea.clock import as_utc, now
from lutea.data.bookings import BookingRepository
from lutea.domain import owed_effects
from lutea.domain.booking_lookup import MSG_BOOKING_NOT_FOUND, get_booking
from lutea.domain.booking_states import CANCELLED, CONFIRMED, PAID, REFUNDED
from lutea.domain.seats import release_seats
from lutea.errors import Conflict, NotFound
from lutea.observability import count_metric, logger
from lutea.payments.gateway import get_gateway
from lutea.refund_policy import Quote, booking_policy, booking_policy_text, policy_text, quote

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc

MSG_NOT_CONFIRMED = "Seule une réservation confirmée et payée peut être annulée"
MSG_STARTED = "Le séjour a déjà commencé : la réservation ne peut plus être annulée"
REASON_CUSTOMER = "Annulée par le client"
BY_CUSTOMER = "client"
BOOKINGS = "bookings"
# Keys of the owed entries on the booking (lutea.domain.owed_effects).
REFUND_KEY, EMAIL_CUSTOMER_KEY, EMAIL_ADMIN_KEY = "refund_customer", "email_customer_cancel", "email_admin_cancel"


# --- who may cancel ------------------------------------------------------------------------


def _owned(booking_id: ObjectId, principal: Any, guest_token: str | None) -> BookingDoc:
    """The booking if the caller owns it: its signed-in user, or the holder of its guest token
    (kept by the guest since the booking was made). Anything else is the same 404 as a missing
    booking."""
    booking = get_booking(booking_id)
    owner = booking.get("userId")
    user_id = getattr(principal, "user_id", None)
    if owner is not None and user_id is not None and str(owner) == str(user_id):
        return booking
    if matches_link_token(guest_token, booking.get("guestTokenHash")):
        return booking
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def _refusal(booking: BookingDoc) -> str | None:
    """Why the owner can't cancel ``booking`` now (None: she can)."""
    if booking.get("statut") != CONFIRMED or booking.get("statutPaiement") != PAID or not booking.get("seatsHeld"):
        return MSG_NOT_CONFIRMED
    if now() >= as_utc(booking["dateStart"]):
        return MSG_STARTED
    return None


def _quote(booking: BookingDoc) -> Quote:
    return quote(
        booking_policy(booking), start=booking["dateStart"], at=now(), paid_cents=int(booking.get("prixTotalCents") or 0)
    )


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


def cancel_by_customer(booking_id: ObjectId, principal: Any, guest_token: str | None, reason: str | None = None) -> BookingDoc:
    """Cancel the caller's confirmed booking (``POST /bookings/:id/cancel``); returns the
    cancelled booking. 409 when it is not confirmed and paid, or its stay has started."""
    booking = _owned(booking_id, principal, guest_token)
    refusal = _refusal(booking)
    if refusal is not None:
        raise Conflict(refusal)
    result = _quote(booking)  # by the server's clock, now
    stripe_refund = bool(booking.get("isStripeBooking")) and bool(booking.get("stripePaymentIntentId"))
    changes: dict[str, Any] = {
        "statut": CANCELLED,
        "seatsHeld": False,
        "annulePar": BY_CUSTOMER,
        "annulationRaison": reason or REASON_CUSTOMER,
        "annulationDate": now(),
        "pourcentageRembourse": result.percent,
        "montantRembourseCents": result.refund_cents,
        # The admin's cancellation email is not sent again for this booking.
        "cancellationEmailAt": now(),
    }
    owe = {
        EMAIL_CUSTOMER_KEY: owed_effects.owe(EMAIL_KIND, to="customer"),
        EMAIL_ADMIN_KEY: owed_effects.owe(EMAIL_KIND, to="admin"),
    }
    if result.refund_cents > 0 and stripe_refund:
        changes["statutPaiement"] = REFUNDED
        owe[REFUND_KEY] = owed_effects.owe(REFUND_KIND, pi=booking["stripePaymentIntentId"], amount=result.refund_cents)
    before = BookingRepository().transition(
        booking["_id"], {"statut": CONFIRMED, "statutPaiement": PAID, "seatsHeld": True}, changes, owe=owe
    )
    if before is None:  # cancelled, refunded or changed meanwhile
        raise Conflict(MSG_NOT_CONFIRMED)
    release_seats(before)
    count_metric("BookingsCancelledByCustomer")
    logger.info("booking cancelled by its owner", extra={"bookingId": str(before["_id"]), "percent": result.percent})
    settle(before["_id"])
    return get_booking(before["_id"])


# --- owed effects (lutea.domain.owed_effects) ------------------------------------------------

REFUND_KIND, EMAIL_KIND = "customer_cancellation_refund", "customer_cancellation_email"


def settle(booking_id: ObjectId) -> None:
    """Do what the cancellation owes now (a failure stays owed for the job)."""
    owed_effects.settle(BOOKINGS, booking_id)


def _perform_refund(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    """The quoted share back on the customer's payment, once: Stripe's idempotency key is
    fixed per PaymentIntent and amount, so a retry after a crash replays the same refund. Stripe
    forgets keys after 24 hours, so a retry first asks what the payment already gave back (this
    share is the only refund a customer-cancelled payment gets)."""
    pi_id, amount = str(args["pi"]), int(args["amount"])
    gateway = get_gateway()
    tried_before = int(((booking.get("owed") or {}).get(key) or {}).get("attempts") or 0) > 1
    if tried_before and int(gateway.retrieve_payment_intent(pi_id).get("amount_refunded") or 0) >= amount:
        logger.info("refund already made by an earlier attempt", extra={"bookingId": str(booking["_id"])})
    else:
        try:
            gateway.refund(pi_id, amount)
        except Conflict:  # Stripe says it is already refunded: done
            logger.info("payment already refunded", extra={"bookingId": str(booking["_id"])})
    if owed_effects.complete(BOOKINGS, booking["_id"], key, changes={"refundedAt": now()}) is not None:
        count_metric("BookingsRefunded")


def _perform_email(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    """One of the two cancellation emails, keyed at the provider (a replay is not delivered
    twice). A delivery the provider refuses is queued in ``emailfailures`` (the email failure
    policy) and the entry is done; a message that can't be built raises and stays owed."""
    from lutea.email import messages

    send = messages.send_customer_cancellation if args.get("to") == "customer" else messages.send_cancellation_to_admin
    messages.deliver_owed(
        send,
        booking,
        policy_text=booking_policy_text(booking),
        idempotency_key=owed_effects.idempotency_key(BOOKINGS, booking["_id"], key),
    )


owed_effects.register(REFUND_KIND, collection=BOOKINGS, perform=_perform_refund, refund=True)
owed_effects.register(EMAIL_KIND, collection=BOOKINGS, perform=_perform_email)
