"""Booking transitions, forward only, and their side effects: seats taken and given back,
payments confirmed or refunded, admin confirmations and cancellations, expiry, and the
confirmation/cancellation emails.

Lifecycle (``statut`` / ``statutPaiement``)::

    PENDING/PENDING --paid (webhook, admin confirm, or expiry finding it paid)--> CONFIRMED/PAID
        |--PaymentIntent cancelled (customer or Stripe)-> CANCELLED/FAILED
        |--unpaid past PAYMENT_WINDOW (16 min)--------> CANCELLED/FAILED  (annulationRaison: expired)
        |--admin cancel-------------------------------> CANCELLED/PENDING
    CONFIRMED/PAID --refund (charge.refunded)--> CANCELLED/REFUNDED
    CONFIRMED/PAID --admin cancel of a Stripe booking--> CANCELLED/PAID --refund done--> CANCELLED/REFUNDED
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
(lutea.domain.seats over lutea.data.seats), marked by ``seatsHeld: true``. Seats are taken by one conditional atomic
update (never counted then inserted). Every transition is one conditional update whose filter
is the state it leaves (and ``seatsHeld: true`` when it gives seats back), so when callers race
exactly one wins; only the winner releases seats, calls Stripe or sends the email. A late or
repeated event finds the filter unmatched and changes nothing: transitions only move forward.

Side effects that must happen once a transition is made (the confirmation and cancellation
emails, a refund, the cancellation of a PaymentIntent) are recorded as owed in the transition's
own update and done right after it, or later by the owed-effects job (lutea.domain.owed_effects):
a crash or a Stripe outage delays them, never loses them, and never does them twice. Money that
must go back (an admin cancel of a paid booking, a payment that cannot be kept) is therefore
never kept without a seat: the refund stays owed, retried until Stripe accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.bookings import BookingRepository
from lutea.domain import owed_effects
from lutea.domain.booking_lookup import booking_oid, get_booking
from lutea.domain.booking_states import (
    CANCELLED,
    CONFIRMED,
    FAILED,
    PAID,
    PAY_PENDING,
    PAYMENT_WINDOW,
    PENDING,
    REASON_DEFAULT,
    REFUNDED,
)
from lutea.domain.seats import give_back, hold_seats, release_seats, retry_hold, short_of_seats
from lutea.errors import Conflict, InvalidInput, NotFound
from lutea.observability import count_metric, logger
from lutea.payments.gateway import get_gateway

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc, OwedEntryDoc

EXPIRY_BATCH = 200

MSG_NOT_PENDING = "Le booking n'est pas en attente"
MSG_NOT_PAYABLE = "Cette réservation n'est plus en attente de paiement"
MSG_EXPIRED = "Cette réservation a expiré, veuillez réserver à nouveau"
MSG_PAYMENT_NOT_FOUND = "Paiement non trouvé"
MSG_PAYMENT_NOT_VALID = "Le paiement n'a pas abouti pour le montant de la réservation"
MSG_PAYMENT_OTHER_BOOKING = "Ce paiement est déjà associé à une autre réservation"
MSG_DATE_STARTED = "Cette session a déjà commencé : elle n'est plus réservable"

PAYMENT_CURRENCY = "eur"

REASON_EXPIRED = f"Réservation expirée : paiement non finalisé dans les {PAYMENT_WINDOW // timedelta(minutes=1)} minutes"
REASON_PAYMENT_FAILED = "Paiement échoué ou annulé"
REASON_REFUNDED = "Paiement remboursé"


# --- helpers -------------------------------------------------------------------------------


def _safely(what: str, booking_id: ObjectId, action: Any) -> bool:
    """Run a side effect that must not fail the business operation (emails, PDF, Stripe
    clean-up). Logs the failure without addresses or message text (which may hold one)."""
    try:
        action()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of a side effect is logged, not raised
        logger.error(f"{what} failed", extra={"bookingId": str(booking_id), "error": type(exc).__name__})
        return False


# --- owed side effects (lutea.domain.owed_effects) -------------------------------------------
# Recorded in the same update as the transition that makes them due, done at once by the caller
# (``_settle``) and retried by the owed-effects job: a crash delays them, never loses them, and
# the provider's idempotency key (Resend, Stripe) keeps a replay from acting twice.

BOOKINGS = "bookings"
EMAIL_CONFIRMATION = "email_confirmation"
EMAIL_CANCELLED = "email_cancelled"


def _owe_email(template: str) -> OwedEntryDoc:
    return owed_effects.owe("booking_email", template=template)


def _refund_key(pi_id: str) -> str:
    return f"refund_{pi_id}"


def _settle(oid: ObjectId) -> None:
    owed_effects.settle(BOOKINGS, oid)


def _perform_email(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    """Hand one booking email to the email service, with the entry's idempotency key (a replay
    after a crash is not delivered twice). A delivery the provider refuses is queued in
    ``emailfailures`` and retried there (the email failure policy), which completes the entry;
    a message that cannot even be built raises and stays owed."""
    from lutea.email.messages import deliver_owed

    deliver_owed(_send_booking_email, booking, key, args)


def _send_booking_email(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    from lutea.email import messages

    idem = owed_effects.idempotency_key(BOOKINGS, booking["_id"], key)
    template = args.get("template")
    if template == "confirmation":
        from lutea.pdf.booking_confirmation import pdf_filename, render_booking_pdf

        _, utf8_name = pdf_filename(booking)
        messages.send_booking_confirmation(booking, render_booking_pdf(booking), utf8_name, idempotency_key=idem)
    elif template == "cancelled":
        messages.send_booking_cancelled(booking, refunded=booking.get("statutPaiement") == REFUNDED, idempotency_key=idem)
    elif template == "late_refund":
        messages.send_late_payment_refunded(booking, idempotency_key=idem)
    else:
        raise ValueError(f"unknown booking email {template!r}")


def _perform_refund(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    """Give the money of PaymentIntent ``args['pi']`` back, once (Stripe's idempotency key is
    derived from the PaymentIntent), then record it on the booking in the same update that
    removes the entry and owes the email that tells the customer:

    - ``reason == "cancel"`` (the admin cancelled a paid booking): PAID -> REFUNDED, then the
      cancellation email (which says refunded);
    - ``reason == "late"`` (a payment that could not be kept): the booking paid by this
      PaymentIntent becomes CANCELLED/REFUNDED (seats given back if it held any); the customer
      and the admin get the late-payment email."""
    pi_id = str(args["pi"])
    try:
        get_gateway().refund(pi_id)
    except Conflict:  # Stripe says it is already refunded: record it
        logger.info("payment already refunded", extra={"bookingId": str(booking["_id"])})
    oid = booking["_id"]
    if args.get("reason") == "cancel":
        if (
            owed_effects.complete(
                BOOKINGS,
                oid,
                key,
                precondition={"statut": CANCELLED, "statutPaiement": PAID},
                changes={"statutPaiement": REFUNDED},
                owe={EMAIL_CANCELLED: _owe_email("cancelled")},
            )
            is not None
        ):
            count_metric("BookingsRefunded")
        return
    late_email = {f"email_late_{pi_id}": _owe_email("late_refund")}
    # Only if this PaymentIntent still pays for the booking, and it is not refunded yet.
    before = BookingRepository().complete_late_refund(
        oid,
        key,
        payment_intent_id=pi_id,
        changes={
            "statutPaiement": REFUNDED,
            "statut": CANCELLED,
            "seatsHeld": False,
            **({} if booking.get("statut") == CANCELLED else {"annulationRaison": REASON_REFUNDED, "annulationDate": now()}),
        },
        owe=late_email,
        otherwise_owe=late_email,
    )
    if before is None:  # another booking's payment, or already refunded: only the email
        return
    if before.get("seatsHeld"):
        release_seats(before)
    count_metric("BookingsRefunded")
    count_metric("LatePaymentsRefunded")


def _perform_cancel_payment_intent(booking: BookingDoc, key: str, args: dict[str, Any]) -> None:
    """Cancel the PaymentIntent of a booking that ended unpaid, so no payment can complete on
    it. Stripe refuses when it has just succeeded: after an expiry (``confirm_if_paid``) the
    customer paid in time, so the booking is confirmed now (seats re-taken while free, else the
    payment is refunded); after an admin cancel the payment webhook refunds it."""
    pi_id = str(args["pi"])
    gateway = get_gateway()
    try:
        gateway.cancel_payment_intent(pi_id)
    except Conflict:
        if not args.get("confirm_if_paid"):
            return
        payment = gateway.retrieve_payment_intent(pi_id)
        if payment.get("status") == "succeeded":
            outcome = confirm_paid(booking["_id"], payment)
            logger.info("expiry found the payment succeeded", extra={"bookingId": str(booking["_id"]), "outcome": outcome})
            if outcome == "needs_refund":
                owe_late_refund(booking["_id"], pi_id)


owed_effects.register("booking_email", collection=BOOKINGS, perform=_perform_email)
owed_effects.register("booking_refund", collection=BOOKINGS, perform=_perform_refund, refund=True)
owed_effects.register("booking_cancel_payment_intent", collection=BOOKINGS, perform=_perform_cancel_payment_intent)


def owe_late_refund(booking_id: str | ObjectId, pi_id: str) -> None:
    """A payment that cannot be kept (the booking expired and its seats are gone, it was
    cancelled, it was already paid, or the amount is wrong): record the refund as owed on the
    booking, then try it now. Recording twice (a redelivered webhook) owes it once."""
    oid = booking_oid(booking_id)
    refund = owed_effects.owe("booking_refund", pi=pi_id, reason="late")
    if owed_effects.owe_once(BOOKINGS, oid, _refund_key(pi_id), refund) is None:
        get_booking(oid)  # NotFound for a missing booking; otherwise already owed
    logger.warning("late payment: refund owed", extra={"bookingId": str(oid)})
    _settle(oid)


# --- seats ---------------------------------------------------------------------------------


def reserve_seats(retreat_id: ObjectId, date_id: ObjectId, seats: int, booking_id: ObjectId) -> None:
    """Take ``seats`` of the date block's counter (lutea.domain.seats.hold_seats), or 409 with
    what is left.

    When short, PENDING bookings of this block whose payment window has closed are expired on
    the spot (the sweep runs only every 20 minutes) and the reservation is tried once more."""
    if hold_seats(date_id, seats, booking_id):
        return
    if _expire_overdue(now(), date_id=date_id) and retry_hold(date_id, seats, booking_id):
        return
    raise short_of_seats(date_id)


# --- payments (called by lutea payments code and the admin routes) ----------------------------


def payable_booking(booking_id: str | ObjectId) -> BookingDoc:
    """The booking if a payment may be started for it now: a Stripe booking, PENDING, holding
    its seats, within its payment window. ``NotFound`` when missing, ``Conflict`` (409) else."""
    return check_payable(get_booking(booking_id))


def check_payable(booking: BookingDoc) -> BookingDoc:
    """``booking`` (as just read) if a payment may be started for it now, else ``Conflict``."""
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


def payment_problem(booking: BookingDoc, payment: Mapping[str, Any]) -> str | None:
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
    if BookingRepository().update_if(oid, {"statut": PENDING}, {"stripePaymentIntentId": pi_id}) is None:
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
    repo = BookingRepository()
    paid = {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id}
    # The usual case in one round trip: a PENDING booking holding its seats, paid its total (the
    # rest of ``payment_problem`` does not depend on the booking's state).
    email = owed_effects.owe_now("booking_email", template="confirmation")
    if payment_problem({"_id": oid, "prixTotalCents": kept_amount(payment)}, payment) is None:
        before = repo.transition(
            oid,
            {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True, "prixTotalCents": kept_amount(payment)},
            paid,
            owe={EMAIL_CONFIRMATION: email},
        )
        if before is not None:
            return _confirmed({**before, **paid}, email)
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
            before = repo.transition(
                oid, {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}, paid, owe={EMAIL_CONFIRMATION: email}
            )
            if before is not None:
                return _confirmed({**before, **paid}, email)
            continue
        # Paid after it expired or its payment failed: confirm only if the seats are still free.
        # A booking the admin cancelled stays cancelled (its customer was told so): refund.
        if not (booking["statut"] == CANCELLED and booking["statutPaiement"] == FAILED):
            return "needs_refund"
        if block_started(booking["dateStart"]):
            logger.warning("late payment: date block started", extra={"bookingId": str(oid)})
            return "needs_refund"
        try:
            reserve_seats(booking["retreatId"], booking["dateId"], int(booking["nbPlaces"]), oid)
        except (Conflict, NotFound):  # seats taken, or the date block (or retreat) removed since
            logger.warning("late payment: seats gone", extra={"bookingId": str(oid)})
            return "needs_refund"
        before = repo.transition(
            oid,
            {"statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False},
            {**paid, "seatsHeld": True},
            unset=("annulationRaison", "annulationDate"),
            owe={EMAIL_CONFIRMATION: email},
        )
        if before is not None:
            logger.info("late payment: booking revived", extra={"bookingId": str(oid)})
            revived = {k: v for k, v in before.items() if k not in ("annulationRaison", "annulationDate")}
            return _confirmed({**revived, **paid, "seatsHeld": True}, email)
        if not get_booking(oid).get("seatsHeld"):  # someone else moved it: give back (unless it holds them)
            give_back(booking["dateId"], int(booking["nbPlaces"]), oid)
    return "needs_refund"


def _confirmed(booking: dict[str, Any], email: OwedEntryDoc) -> str:
    """``booking`` as the winning transition left it (its state before, plus the changes);
    ``email`` the confirmation entry that transition owed, done now from that document."""
    count_metric("BookingsConfirmed")
    owed_effects.perform_now(BOOKINGS, booking, EMAIL_CONFIRMATION, email)
    return "confirmed"


def cancel_for_payment_failure(booking_id: str | ObjectId, payment_intent_id: str | None = None) -> bool:
    """The PaymentIntent was cancelled (by the customer, or by Stripe): PENDING ->
    CANCELLED/FAILED, seats released. (A declined attempt is not a reason: see the module doc.)
    With ``payment_intent_id``, only if that is the booking's PaymentIntent (or it has none),
    so that an abandoned earlier attempt can't cancel a booking being paid by a newer one.
    Returns True when this call made the change, False when it was not PENDING any more."""
    oid = booking_oid(booking_id)
    before = BookingRepository().cancel_unpaid_hold(
        oid,
        payment_intent_id=payment_intent_id,
        changes={
            "statut": CANCELLED,
            "statutPaiement": FAILED,
            "seatsHeld": False,
            "annulationRaison": REASON_PAYMENT_FAILED,
            "annulationDate": now(),
        },
    )
    if before is None:
        return False
    release_seats(before)
    count_metric("BookingsPaymentFailed")
    return True


def mark_refunded(booking_id: str | ObjectId, *, email: bool = False) -> bool:
    """The booking's payment was refunded: ``statutPaiement`` REFUNDED, ``statut`` CANCELLED,
    seats released if it held them; with ``email``, the cancellation email (saying refunded) is
    owed by the same update. Returns True when this call made the change, False when it was
    already REFUNDED (a repeated event). ``NotFound`` when the booking does not exist."""
    oid = booking_oid(booking_id)
    repo = BookingRepository()
    changes = {"statutPaiement": REFUNDED, "statut": CANCELLED, "seatsHeld": False}
    owe = {EMAIL_CANCELLED: _owe_email("cancelled")} if email else None
    before = repo.mark_refunded_if_open(oid, {**changes, "annulationRaison": REASON_REFUNDED, "annulationDate": now()}, owe=owe)
    if before is None:  # already cancelled: keep its reason and date
        before = repo.mark_refunded_unless_refunded(oid, changes, owe=owe)
    if before is None:
        get_booking(oid)
        return False
    if before.get("seatsHeld"):
        release_seats(before)
    count_metric("BookingsRefunded")
    if email:
        _settle(oid)
    return True


# --- admin transitions ---------------------------------------------------------------------


def admin_confirm(booking_id: ObjectId, payment_intent_id: str) -> BookingDoc:
    """PENDING -> CONFIRMED/PAID by an admin, once the PaymentIntent is checked at Stripe: it
    exists, passes ``payment_problem`` (succeeded, in euros, for this booking, the amount kept
    equal to the total), and pays for no other booking."""
    booking = get_booking(booking_id)
    if booking["statut"] != PENDING:
        raise InvalidInput(MSG_NOT_PENDING)
    other = BookingRepository().find_by_payment_intent(payment_intent_id)
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
    before = BookingRepository().transition(
        booking["_id"],
        {"statut": PENDING, "seatsHeld": True},
        {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id},
        owe={EMAIL_CONFIRMATION: _owe_email("confirmation")},
    )
    if before is None:
        raise InvalidInput(MSG_NOT_PENDING)
    count_metric("BookingsConfirmed")
    _settle(booking["_id"])
    return get_booking(booking["_id"])


def admin_cancel(booking_id: ObjectId, reason: str | None) -> BookingDoc:
    """Cancel (any status but CANCELLED): seats released once, and owed in the same update as
    the transition: for a PAID Stripe booking, its refund (then ``statutPaiement`` REFUNDED and
    the email saying so); for a PENDING one with a PaymentIntent, its cancellation at Stripe;
    otherwise the cancellation email. If Stripe fails, the booking stays CANCELLED/PAID with the
    refund owed: it is retried until Stripe accepts (one refund, whatever the retries) and the
    admin is alerted if it keeps failing. Cancelling again returns the booking as it is, and
    tries what is still owed once more."""
    repo = BookingRepository()
    oid = get_booking(booking_id)["_id"]
    again = False
    for _ in range(3):  # the owed effects depend on the state left: a lost race re-reads it
        current = get_booking(oid)
        if current["statut"] == CANCELLED:
            again = True
            break
        pi_id = current.get("stripePaymentIntentId")
        owe: dict[str, OwedEntryDoc] = {}
        if current["statutPaiement"] == PAID and current.get("isStripeBooking") and pi_id:
            owe[_refund_key(pi_id)] = owed_effects.owe("booking_refund", pi=pi_id, reason="cancel")
        else:
            owe[EMAIL_CANCELLED] = _owe_email("cancelled")
        if current["statutPaiement"] == PAY_PENDING and pi_id:
            # No payment may complete on a booking the admin cancelled.
            owe[f"cancel_{pi_id}"] = owed_effects.owe("booking_cancel_payment_intent", pi=pi_id)
        before = repo.transition(
            oid,
            {
                "statut": current["statut"],
                "statutPaiement": current["statutPaiement"],
                "stripePaymentIntentId": pi_id,
                "seatsHeld": bool(current.get("seatsHeld")),
            },
            {"statut": CANCELLED, "seatsHeld": False, "annulationRaison": reason or REASON_DEFAULT, "annulationDate": now()},
            owe=owe,
        )
        if before is not None:
            if before.get("seatsHeld"):
                release_seats(before)
            count_metric("BookingsCancelled")
            break
    owed_effects.settle(BOOKINGS, oid, now_even_if_waiting=again)
    return get_booking(oid)


# --- expiry --------------------------------------------------------------------------------


def _expire_overdue(cutoff: datetime, *, date_id: ObjectId | None = None) -> int:
    """Expire the PENDING bookings (of date block ``date_id`` when given) still holding seats
    whose payment window closed by ``cutoff``; how many this call expired."""
    repo = BookingRepository()
    expired = 0
    while True:
        ids = repo.overdue_hold_ids(cutoff, date_id=date_id, limit=EXPIRY_BATCH)
        for oid in ids:
            if _expire_one(oid, cutoff, date_id):
                expired += 1
        if len(ids) < EXPIRY_BATCH:
            return expired


def _expire_one(oid: ObjectId, cutoff: datetime, date_id: ObjectId | None) -> bool:
    repo = BookingRepository()
    for _ in range(2):  # a PaymentIntent attached between the read and the update: read again
        pi_id = (repo.get(oid) or {}).get("stripePaymentIntentId")
        owe = (
            {f"cancel_{pi_id}": owed_effects.owe("booking_cancel_payment_intent", pi=pi_id, confirm_if_paid=True)}
            if pi_id
            else None
        )
        before = repo.expire_overdue_hold(
            oid,
            cutoff,
            date_id=date_id,
            payment_intent_id=pi_id,
            changes={
                "statut": CANCELLED,
                "statutPaiement": FAILED,
                "seatsHeld": False,
                "annulationRaison": REASON_EXPIRED,
                "annulationDate": now(),
            },
            owe=owe,
        )
        if before is not None:
            break
    if before is None:
        return False  # paid, cancelled or expired by someone else meanwhile
    release_seats(before)
    if pi_id:
        # A failure here must not block the expiry: the cancellation stays owed (retried), and a
        # payment that still succeeds later is handled by confirm_paid (seats re-taken, or refunded).
        _safely("payment intent cancellation", oid, lambda: _settle(oid))
    return True


def expire_pending_bookings() -> int:
    """PENDING bookings whose 16-minute payment window has closed -> CANCELLED/FAILED
    (``annulationRaison`` says expired), seats released once, PaymentIntents cancelled at
    Stripe. Safe to run concurrently (each booking is expired by one conditional update).
    Returns how many bookings this run expired."""
    count = _expire_overdue(now())
    if count:
        count_metric("BookingsExpired", count)
    logger.info("pending bookings expired", extra={"count": count})
    return count
