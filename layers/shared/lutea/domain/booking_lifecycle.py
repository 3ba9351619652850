"""Booking transitions, forward only, and their side effects: seats taken and given back,
payments confirmed or refunded, admin confirmations and cancellations, expiry, and the
confirmation/cancellation emails.

Lifecycle (``statut`` / ``statutPaiement``)::

    PENDING/PENDING --paid (webhook, admin confirm, or expiry finding it paid)--> CONFIRMED/PAID
        |--PaymentIntent cancelled (customer or Stripe)-> CANCELLED/FAILED
        |--unpaid past PAYMENT_WINDOW (16 min)--------> CANCELLED/FAILED  (annulationRaison: expired)
        |--admin cancel-------------------------------> CANCELLED/PENDING
    CONFIRMED/PAID --refund (charge.refunded, or admin cancel of a Stripe booking)--> CANCELLED/REFUNDED
    CONFIRMED/PAID --admin cancel of a manual booking--> CANCELLED/PAID
    CANCELLED/(PENDING|FAILED) --late payment, seats re-taken--> CONFIRMED/PAID

Stripe events (lutea.domain.payment_events) and what they do here. A PaymentIntent's only final
statuses are ``succeeded`` and ``canceled``; every other one (``requires_payment_method``,
``requires_action``, ``processing``...) may still end either way, so only those two move a booking:

- ``payment_intent.succeeded`` -> ``confirm_paid``, with the PaymentIntent as Stripe holds it now
  (re-read, refunds included). ``payment_problem`` is the one test of a payment, shared by the
  webhook, the admin confirm and the expiry: succeeded, in euros, ``metadata.bookingId`` this
  booking, and the amount kept (received minus refunded) equal to the total. Anything else is
  refunded, never confirmed.
- ``payment_intent.canceled`` -> ``cancel_for_payment_failure`` (CANCELLED/FAILED, seats released).
- ``charge.refunded`` (full refund) -> ``mark_refunded``; a partial refund changes nothing.
- Deliberately ignored: ``payment_intent.payment_failed`` (a declined card: the PaymentIntent goes
  back to ``requires_payment_method`` and the customer may pay with another card a minute later,
  so the booking stays PENDING until it is paid, cancelled or expires; it is only logged), and
  every other type (``created``, ``processing``, ``requires_action``...: not final either).

Seats: a PENDING or CONFIRMED booking holds ``nbPlaces`` seats of its date block's counter
(lutea.data.seats), marked by ``seatsHeld: true``. Seats are taken by one conditional atomic
update (never counted then inserted). Every transition is one conditional update whose filter
is the state it leaves (and ``seatsHeld: true`` when it gives seats back), so when callers race
exactly one wins; only the winner releases seats, calls Stripe or sends the email. A late or
repeated event finds the filter unmatched and changes nothing: transitions only move forward.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.seats import SeatRepository
from lutea.domain.booking_common import (
    CANCELLED,
    CONFIRMED,
    FAILED,
    MSG_DATE_NOT_FOUND,
    PAID,
    PAY_PENDING,
    PAYMENT_WINDOW,
    PENDING,
    REASON_DEFAULT,
    REFUNDED,
    booking_oid,
    booking_repository,
    count_metric,
    get_booking,
)
from lutea.errors import Conflict, InvalidInput, NotFound
from lutea.observability import logger
from lutea.payments.gateway import get_gateway

EXPIRY_BATCH = 200

MSG_NOT_PENDING = "Le booking n'est pas en attente"
MSG_NOT_PAYABLE = "Cette réservation n'est plus en attente de paiement"
MSG_EXPIRED = "Cette réservation a expiré, veuillez réserver à nouveau"
MSG_PAYMENT_NOT_FOUND = "Paiement non trouvé"
MSG_PAYMENT_NOT_VALID = "Le paiement n'a pas abouti pour le montant de la réservation"
MSG_PAYMENT_OTHER_BOOKING = "Ce paiement est déjà associé à une autre réservation"
MSG_DATE_STARTED = "Cette session a déjà commencé : elle n'est plus réservable"

PAYMENT_CURRENCY = "eur"

REASON_EXPIRED = (f"Réservation expirée : paiement non finalisé dans les "
                  f"{PAYMENT_WINDOW // timedelta(minutes=1)} minutes")
REASON_PAYMENT_FAILED = "Paiement échoué ou annulé"
REASON_REFUNDED = "Paiement remboursé"


# --- helpers -------------------------------------------------------------------------------

def _seats() -> SeatRepository:
    return SeatRepository()


def overdue_filter(cutoff: datetime) -> dict[str, Any]:
    """PENDING bookings still holding seats whose payment window closed by ``cutoff``."""
    return {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True, "expiresAt": {"$lte": cutoff}}


def _safely(what: str, booking_id: ObjectId, action: Any) -> bool:
    """Run a side effect that must not fail the business operation (emails, PDF, Stripe
    clean-up). Logs the failure without addresses or message text (which may hold one)."""
    try:
        action()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of a side effect is logged, not raised
        logger.error(f"{what} failed", extra={"bookingId": str(booking_id), "error": type(exc).__name__})
        return False


def _send_confirmation(booking: dict) -> None:
    """The confirmation email with the PDF attached (to the contact, copy to the admin). A failed
    delivery never undoes the confirmation: ``notify`` logs it and keeps it for a retry."""
    from lutea.email.messages import notify, send_booking_confirmation

    def send() -> str:
        from lutea.pdf.booking_confirmation import pdf_filename, render_booking_pdf

        _, utf8_name = pdf_filename(booking)
        return send_booking_confirmation(booking, render_booking_pdf(booking), utf8_name)

    notify(send)


def _send_cancelled(booking: dict, *, refunded: bool) -> None:
    from lutea.email.messages import notify, send_booking_cancelled

    notify(send_booking_cancelled, booking, refunded=refunded)


# --- seats ---------------------------------------------------------------------------------

def reserve_seats(retreat_id: ObjectId, date_id: ObjectId, seats: int) -> None:
    """Take ``seats`` of the date block's counter in one conditional update, or 409 with what
    is left.

    When short, PENDING bookings of this block whose payment window has closed are expired on
    the spot (the sweep runs only every 20 minutes) and the reservation is tried once more.
    A block without a counter is not bookable: counters are created with their block (and by the
    import of older data), never here, so a booking racing an admin who removes the block can't
    bring a counter back for a block that no longer exists."""
    repo = _seats()
    if repo.try_reserve(date_id, seats):  # the usual case first: one round trip
        return
    if repo.get(date_id) is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    if _expire_matching({**overdue_filter(now()), "dateId": date_id}) and repo.try_reserve(date_id, seats):
        return
    raise Conflict(f"Seulement {free_seats(date_id)} places disponibles")


def free_seats(date_id: ObjectId, places_if_new: int = 0) -> int:
    """Seats left on the date block's counter (``places_if_new`` when it has none yet)."""
    counter = _seats().get(date_id)
    if counter is None:
        return max(0, places_if_new)
    return max(0, int(counter["places"]) - int(counter["held"]))


def release_seats(booking: dict) -> None:
    """Give back the seats of ``booking``: called only by the winner of a transition that
    turned ``seatsHeld`` from true to false, hence once per booking."""
    if not _seats().release(booking["dateId"], int(booking["nbPlaces"])):
        logger.error("seat counter below a booking's seats", extra={"bookingId": str(booking["_id"])})
    offer_to_waiting_list(booking["dateId"])


def offer_to_waiting_list(date_id: ObjectId) -> None:
    """Seats came back on a date block: its waiting list is offered them at once. Never fails
    the operation that freed them; the waiting-list job makes any offer missed here."""
    try:
        from lutea.domain.waiting_list import offer_freed_seats

        offer_freed_seats(date_id)
    except Exception:  # noqa: BLE001 - logged; the scheduled job catches up
        logger.exception("waiting list offer failed", extra={"dateId": str(date_id)})


# --- payments (called by lutea payments code and the admin routes) ----------------------------

def payable_booking(booking_id: str | ObjectId) -> dict:
    """The booking if a payment may be started for it now: a Stripe booking, PENDING, holding
    its seats, within its payment window. ``NotFound`` when missing, ``Conflict`` (409) else."""
    booking = get_booking(booking_id)
    if booking.get("statut") != PENDING or not booking.get("seatsHeld") or not booking.get("isStripeBooking"):
        raise Conflict(MSG_NOT_PAYABLE)
    expires = booking.get("expiresAt")
    if expires is None or now() >= as_utc(expires):
        raise Conflict(MSG_EXPIRED)
    if block_started(booking["dateStart"]):
        raise Conflict(MSG_DATE_STARTED)
    return booking


def block_started(start: datetime) -> bool:
    """A date block is no longer sold once it has started (its customers are already there)."""
    return now() >= as_utc(start)


def payment_problem(booking: dict, payment: Mapping[str, Any]) -> str | None:
    """Why ``payment`` (a PaymentIntent as lutea.payments.gateway returns it) does not pay for
    ``booking``, or None when it does. The one test of a payment, wherever one is accepted
    (webhook, admin confirm, expiry): it succeeded, in euros, names this booking in its metadata,
    and the amount Stripe kept for us (received minus refunded: a refunded PaymentIntent stays
    ``succeeded``) is the booking's total."""
    if payment.get("status") != "succeeded":
        return "not succeeded"
    if str(payment.get("currency") or "").lower() != PAYMENT_CURRENCY:
        return "currency"
    if (payment.get("metadata") or {}).get("bookingId") != str(booking["_id"]):
        return "other booking"
    if kept_amount(payment) != int(booking["prixTotalCents"]):
        return "amount"
    return None


def kept_amount(payment: Mapping[str, Any]) -> int:
    """Cents Stripe kept for us: received minus refunded."""
    return int(payment.get("amount_received") or 0) - int(payment.get("amount_refunded") or 0)


def attach_payment_intent(booking_id: str | ObjectId, pi_id: str) -> None:
    """Record the PaymentIntent of a PENDING booking. Returns None; ``NotFound`` when the
    booking is missing, ``Conflict`` when it is no longer PENDING."""
    oid = booking_oid(booking_id)
    if booking_repository().update_if(oid, {"statut": PENDING}, {"stripePaymentIntentId": pi_id}) is None:
        get_booking(oid)
        raise Conflict(MSG_NOT_PAYABLE)


def confirm_paid(booking_id: str | ObjectId, payment: Mapping[str, Any]) -> str:
    """``payment``, a PaymentIntent naming this booking, succeeded (the webhook, or the expiry
    finding it paid). Returns:

    - ``"confirmed"``: this call moved the booking to CONFIRMED/PAID (from PENDING, or from
      CANCELLED after an expiry or a failure, its seats re-taken atomically) and sent the
      confirmation email with the PDF (exactly once: only the winner of the transition sends);
    - ``"already_confirmed"``: this PaymentIntent was already handled for this booking
      (confirmed with it, or already refunded): nothing to do;
    - ``"needs_refund"``: the money must go back: the payment does not pass ``payment_problem``
      (amount kept, currency, booking), the booking is already paid by another PaymentIntent or
      was refunded/cancelled after payment, its date block has started since it expired, or its
      seats were taken by others meanwhile. The caller refunds (and then calls
      ``mark_refunded`` when the booking is this payment's).

    ``NotFound`` when the booking does not exist.
    """
    oid = booking_oid(booking_id)
    payment_intent_id = str(payment.get("id"))
    repo = booking_repository()
    paid = {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id}
    # The usual case in one round trip: a PENDING booking holding its seats, paid its total (the
    # rest of ``payment_problem`` does not depend on the booking's state).
    if payment_problem({"_id": oid, "prixTotalCents": kept_amount(payment)}, payment) is None:
        before = repo.transition(oid, {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True,
                                       "prixTotalCents": kept_amount(payment)}, paid)
        if before is not None:
            return _confirmed({**before, **paid})
    for _ in range(3):  # a lost race re-reads the booking; three rounds settle any interleaving
        booking = get_booking(oid)
        same_pi = booking.get("stripePaymentIntentId") == payment_intent_id
        if booking["statutPaiement"] in (PAID, REFUNDED):
            return "already_confirmed" if same_pi else "needs_refund"
        problem = payment_problem(booking, payment)
        if problem is not None:
            logger.error("payment does not pay for the booking", extra={"bookingId": str(oid), "problem": problem})
            return "needs_refund"
        if booking["statut"] == PENDING and booking.get("seatsHeld"):
            before = repo.transition(oid, {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}, paid)
            if before is not None:
                return _confirmed({**before, **paid})
            continue
        # Paid after it expired or its payment failed: confirm only if the seats are still free.
        # A booking the admin cancelled stays cancelled (its customer was told so): refund.
        if not (booking["statut"] == CANCELLED and booking["statutPaiement"] == FAILED):
            return "needs_refund"
        if block_started(booking["dateStart"]):
            logger.warning("late payment: date block started", extra={"bookingId": str(oid)})
            return "needs_refund"
        try:
            reserve_seats(booking["retreatId"], booking["dateId"], int(booking["nbPlaces"]))
        except (Conflict, NotFound):  # seats taken, or the date block (or retreat) removed since
            logger.warning("late payment: seats gone", extra={"bookingId": str(oid)})
            return "needs_refund"
        before = repo.transition(
            oid, {"statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False},
            {**paid, "seatsHeld": True}, unset=("annulationRaison", "annulationDate"),
        )
        if before is not None:
            logger.info("late payment: booking revived", extra={"bookingId": str(oid)})
            revived = {k: v for k, v in before.items() if k not in ("annulationRaison", "annulationDate")}
            return _confirmed({**revived, **paid, "seatsHeld": True})
        _seats().release(booking["dateId"], int(booking["nbPlaces"]))  # someone else moved it: give back
    return "needs_refund"


def _confirmed(booking: dict[str, Any]) -> str:
    """``booking`` as the winning transition left it (its state before, plus the changes)."""
    count_metric("BookingsConfirmed")
    _send_confirmation(booking)
    return "confirmed"


def cancel_for_payment_failure(booking_id: str | ObjectId, payment_intent_id: str | None = None) -> bool:
    """The PaymentIntent was cancelled (by the customer, or by Stripe): PENDING ->
    CANCELLED/FAILED, seats released. (A declined attempt is not a reason: see the module doc.)
    With ``payment_intent_id``, only if that is the booking's PaymentIntent (or it has none),
    so that an abandoned earlier attempt can't cancel a booking being paid by a newer one.
    Returns True when this call made the change, False when it was not PENDING any more."""
    oid = booking_oid(booking_id)
    precondition: dict[str, Any] = {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}
    if payment_intent_id is not None:
        precondition["stripePaymentIntentId"] = {"$in": [payment_intent_id, None]}
    before = booking_repository().transition(oid, precondition, {
        "statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False,
        "annulationRaison": REASON_PAYMENT_FAILED, "annulationDate": now(),
    })
    if before is None:
        return False
    release_seats(before)
    count_metric("BookingsPaymentFailed")
    return True


def mark_refunded(booking_id: str | ObjectId) -> bool:
    """The booking's payment was refunded: ``statutPaiement`` REFUNDED, ``statut`` CANCELLED,
    seats released if it held them. Returns True when this call made the change, False when it
    was already REFUNDED (a repeated event). ``NotFound`` when the booking does not exist."""
    oid = booking_oid(booking_id)
    repo = booking_repository()
    changes = {"statutPaiement": REFUNDED, "statut": CANCELLED, "seatsHeld": False}
    before = repo.transition(oid, {"statutPaiement": {"$ne": REFUNDED}, "statut": {"$ne": CANCELLED}},
                             {**changes, "annulationRaison": REASON_REFUNDED, "annulationDate": now()})
    if before is None:  # already cancelled: keep its reason and date
        before = repo.transition(oid, {"statutPaiement": {"$ne": REFUNDED}}, changes)
    if before is None:
        get_booking(oid)
        return False
    if before.get("seatsHeld"):
        release_seats(before)
    count_metric("BookingsRefunded")
    return True


# --- admin transitions ---------------------------------------------------------------------

def admin_confirm(booking_id: ObjectId, payment_intent_id: str) -> dict:
    """PENDING -> CONFIRMED/PAID by an admin, once the PaymentIntent is checked at Stripe: it
    exists, passes ``payment_problem`` (succeeded, in euros, for this booking, the amount kept
    equal to the total), and pays for no other booking."""
    booking = get_booking(booking_id)
    if booking["statut"] != PENDING:
        raise InvalidInput(MSG_NOT_PENDING)
    other = booking_repository().find_by_payment_intent(payment_intent_id)
    if other is not None and other["_id"] != booking["_id"]:
        raise InvalidInput(MSG_PAYMENT_OTHER_BOOKING)
    try:
        intent = get_gateway().retrieve_payment_intent(payment_intent_id)
    except NotFound as exc:
        raise InvalidInput(MSG_PAYMENT_NOT_FOUND) from exc
    problem = payment_problem(booking, intent)
    if problem is not None:
        logger.info("admin confirm refused", extra={"bookingId": str(booking["_id"]), "problem": problem})
        raise InvalidInput(MSG_PAYMENT_NOT_VALID)
    before = booking_repository().transition(
        booking["_id"], {"statut": PENDING, "seatsHeld": True},
        {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id},
    )
    if before is None:
        raise InvalidInput(MSG_NOT_PENDING)
    confirmed = get_booking(booking["_id"])
    count_metric("BookingsConfirmed")
    _send_confirmation(confirmed)
    return confirmed


def admin_cancel(booking_id: ObjectId, raison: str | None) -> dict:
    """Cancel (any status but CANCELLED): seats released once, a PAID Stripe booking refunded
    (``statutPaiement`` REFUNDED), the contact emailed. Cancelling again returns the booking
    unchanged, except that it completes a refund that failed the first time."""
    repo = booking_repository()
    oid = get_booking(booking_id)["_id"]
    before = repo.transition(oid, {"statut": {"$ne": CANCELLED}}, {
        "statut": CANCELLED, "seatsHeld": False, "annulationRaison": raison or REASON_DEFAULT,
        "annulationDate": now(),
    })
    if before is not None:
        if before.get("seatsHeld"):
            release_seats(before)
        pi_id = before.get("stripePaymentIntentId")
        if before["statutPaiement"] == PAY_PENDING and pi_id:
            # No payment may complete on a booking the admin cancelled.
            _safely("payment intent cancellation", oid, lambda: get_gateway().cancel_payment_intent(pi_id))
        count_metric("BookingsCancelled")
    _refund_if_paid(get_booking(oid))
    final = get_booking(oid)
    # One email per cancellation, whoever of two overlapping cancels gets here first, telling
    # what finally happened to the money.
    if final["statut"] == CANCELLED and repo.update_if(oid, {"cancellationEmailAt": None},
                                                       {"cancellationEmailAt": now()}) is not None:
        _send_cancelled(final, refunded=final["statutPaiement"] == REFUNDED)
    return get_booking(oid)


def _refund_if_paid(booking: dict) -> bool:
    """Refund a cancelled, PAID Stripe booking. True when this call flipped it to REFUNDED."""
    pi_id = booking.get("stripePaymentIntentId")
    if (booking["statut"] != CANCELLED or booking["statutPaiement"] != PAID or not booking.get("isStripeBooking")
            or not pi_id):
        return False
    if booking.get("annulePar") == "client":
        return False  # cancelled by its owner: the refund policy already decided what goes back
    with contextlib.suppress(Conflict):  # Stripe says it is already refunded: record it
        get_gateway().refund(pi_id)
    flipped = booking_repository().update_if(booking["_id"], {"statut": CANCELLED, "statutPaiement": PAID},
                                             {"statutPaiement": REFUNDED})
    if flipped is not None:
        count_metric("BookingsRefunded")
    return flipped is not None


# --- expiry --------------------------------------------------------------------------------

def _expire_matching(match: dict[str, Any]) -> int:
    repo = booking_repository()
    expired = 0
    while True:
        ids = repo.ids_matching(match, limit=EXPIRY_BATCH)
        for oid in ids:
            if _expire_one(oid, match):
                expired += 1
        if len(ids) < EXPIRY_BATCH:
            return expired


def _expire_one(oid: ObjectId, match: dict[str, Any]) -> bool:
    before = booking_repository().transition(oid, match, {
        "statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False,
        "annulationRaison": REASON_EXPIRED, "annulationDate": now(),
    })
    if before is None:
        return False  # paid, cancelled or expired by someone else meanwhile
    release_seats(before)
    pi_id = before.get("stripePaymentIntentId")
    if pi_id:
        # A failure here must not block the expiry; a payment that still succeeds later is
        # handled by confirm_paid (seats re-taken, or refunded).
        _safely("payment intent cancellation", oid, lambda: _cancel_or_confirm(oid, pi_id))
    return True


def _cancel_or_confirm(oid: ObjectId, pi_id: str) -> None:
    """Cancel the expired booking's PaymentIntent. Stripe refuses when it has just succeeded:
    the customer paid in time, so confirm now (seats re-taken while still free) instead of
    waiting for the webhook, which then finds the booking already confirmed."""
    gateway = get_gateway()
    try:
        gateway.cancel_payment_intent(pi_id)
    except Conflict:
        payment = gateway.retrieve_payment_intent(pi_id)
        if payment.get("status") == "succeeded":
            outcome = confirm_paid(oid, payment)
            logger.info("expiry found the payment succeeded", extra={"bookingId": str(oid), "outcome": outcome})


def expire_pending_bookings() -> int:
    """PENDING bookings whose 16-minute payment window has closed -> CANCELLED/FAILED
    (``annulationRaison`` says expired), seats released once, PaymentIntents cancelled at
    Stripe. Safe to run concurrently (each booking is expired by one conditional update).
    Returns how many bookings this run expired."""
    count = _expire_matching(overdue_filter(now()))
    if count:
        count_metric("BookingsExpired", count)
    logger.info("pending bookings expired", extra={"count": count})
    return count
