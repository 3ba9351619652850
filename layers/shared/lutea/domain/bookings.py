"""Booking rules: creation and pricing, seat reservation, the status lifecycle, expiry.

Lifecycle (``statut`` / ``statutPaiement``)::

    PENDING/PENDING --paid (webhook, or admin confirm)---> CONFIRMED/PAID
        |--payment failed or cancelled----------------> CANCELLED/FAILED
        |--unpaid 16 minutes after creation-----------> CANCELLED/FAILED  (annulationRaison: expired)
        |--admin cancel-------------------------------> CANCELLED/PENDING
    CONFIRMED/PAID --refund (charge.refunded, or admin cancel of a Stripe booking)--> CANCELLED/REFUNDED
    CONFIRMED/PAID --admin cancel of a manual booking--> CANCELLED/PAID
    CANCELLED/(PENDING|FAILED) --late payment, seats re-taken--> CONFIRMED/PAID

Seats: a PENDING or CONFIRMED booking holds ``nbPlaces`` seats of its date block's counter
(lutea.data.seats), marked by ``seatsHeld: true``. Seats are taken by one conditional atomic
update (never counted then inserted). Every transition is one conditional update whose filter
is the state it leaves (and ``seatsHeld: true`` when it gives seats back), so when callers race
exactly one wins; only the winner releases seats, calls Stripe or sends the email. A late or
repeated event finds the filter unmatched and changes nothing: transitions only move forward.

Money is integer cents (``prixTotalCents``); euros appear only on the wire (lutea.schemas.bookings).
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.bookings import BookingRepository
from lutea.data.seats import SeatRepository
from lutea.errors import Conflict, InvalidInput, NotFound
from lutea.observability import logger, metrics
from lutea.schemas.bookings import BookingStatus, PaymentStatus
from lutea.wire import euros_to_cents, is_object_id

PAYMENT_WINDOW = timedelta(minutes=16)
EXPIRY_BATCH = 200

MSG_BOOKING_NOT_FOUND = "Booking non trouvé"
MSG_RETREAT_NOT_FOUND = "Retraite non trouvée"
MSG_DATE_NOT_FOUND = "Date de retraite non trouvée"
MSG_USER_NOT_FOUND = "Utilisateur non trouvé"
MSG_NOT_PENDING = "Le booking n'est pas en attente"
MSG_NOT_PAYABLE = "Cette réservation n'est plus en attente de paiement"
MSG_EXPIRED = "Cette réservation a expiré, veuillez réserver à nouveau"
MSG_PAYMENT_NOT_FOUND = "Paiement non trouvé"
MSG_PAYMENT_NOT_VALID = "Le paiement n'a pas abouti pour le montant de la réservation"
MSG_PAYMENT_OTHER_BOOKING = "Ce paiement est déjà associé à une autre réservation"

REASON_EXPIRED = "Réservation expirée : paiement non finalisé dans les 16 minutes"
REASON_PAYMENT_FAILED = "Paiement échoué ou annulé"
REASON_REFUNDED = "Paiement remboursé"
REASON_DEFAULT = "Annulation"  # the original's default
NOTE_ADMIN = "Créé manuellement par l'admin"  # the original's default note for manual bookings

PENDING, CONFIRMED = BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value
CANCELLED = BookingStatus.CANCELLED.value
PAY_PENDING, PAID = PaymentStatus.PENDING.value, PaymentStatus.PAID.value
FAILED, REFUNDED = PaymentStatus.FAILED.value, PaymentStatus.REFUNDED.value


class BookingRequest(Protocol):
    """What creating a booking needs (lutea.schemas.bookings.BookingIn satisfies it)."""

    retreatId: str
    dateStart: datetime
    nbPlaces: int
    participants: list[Any]
    billingAddress: Any
    notes: str | None


# --- helpers -------------------------------------------------------------------------------

def _bookings() -> BookingRepository:
    return BookingRepository()


def _seats() -> SeatRepository:
    return SeatRepository()


def _oid(value: Any) -> ObjectId:
    """A booking id from a route (already checked) or from Stripe metadata (anything): an id
    that cannot exist is simply not found."""
    if isinstance(value, ObjectId):
        return value
    if is_object_id(value):
        return ObjectId(value)
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def hash_guest_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _count(name: str, value: int = 1) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    try:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    except Exception:  # noqa: BLE001 - a metric never fails a booking
        logger.debug("metric dropped", extra={"metric": name})


def _retreat(retreat_id: ObjectId) -> dict | None:
    from lutea.data.retreats import RetreatRepository

    return RetreatRepository().get(retreat_id)


def _date_block(retreat: dict, start: datetime) -> dict:
    """The date block starting at the same instant as ``start``, else 404 (as the original)."""
    from lutea.domain.retreats import find_date_block

    block = find_date_block(retreat, start)
    if block is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    return block


def unit_price_cents(retreat: dict, block: dict) -> int:
    """The block's price; older blocks kept euros in ``prix``, older retreats a top-level ``prix``
    (the original's fallback chain: block price, then the retreat's, then 0)."""
    if block.get("prixCents") is not None:
        return int(block["prixCents"])
    if block.get("prix") is not None:
        return euros_to_cents(block["prix"])
    if retreat.get("prix") is not None:
        return euros_to_cents(retreat["prix"])
    return 0


def _overdue_filter(cutoff: datetime) -> dict[str, Any]:
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


def _gateway() -> Any:
    from lutea.payments.gateway import get_gateway

    return get_gateway()


# --- seats ---------------------------------------------------------------------------------

def _reserve(retreat_id: ObjectId, date_id: ObjectId, seats: int) -> None:
    """Take ``seats`` of the date block's counter in one conditional update, or 409 with what
    is left.

    When short, PENDING bookings of this block whose payment window has closed are expired on
    the spot (the sweep runs only every 20 minutes) and the reservation is tried once more.
    A block without a counter is not bookable: counters are created with their block (and by the
    import of older data), never here, so a booking racing an admin who removes the block can't
    bring a counter back for a block that no longer exists."""
    repo = _seats()
    if repo.get(date_id) is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    if repo.try_reserve(date_id, seats):
        return
    if _expire_matching({**_overdue_filter(now()), "dateId": date_id}) and repo.try_reserve(date_id, seats):
        return
    raise Conflict(f"Seulement {_free_seats(date_id)} places disponibles")


def _free_seats(date_id: ObjectId, places_if_new: int = 0) -> int:
    counter = _seats().get(date_id)
    if counter is None:
        return max(0, places_if_new)
    return max(0, int(counter["places"]) - int(counter["held"]))


def _release(booking: dict) -> None:
    """Give back the seats of ``booking``: called only by the winner of a transition that
    turned ``seatsHeld`` from true to false, hence once per booking."""
    if not _seats().release(booking["dateId"], int(booking["nbPlaces"])):
        logger.error("seat counter below a booking's seats", extra={"bookingId": str(booking["_id"])})


# --- availability --------------------------------------------------------------------------

def available_places(retreat_id: ObjectId, date: datetime) -> int:
    """Places of the date block starting at ``date`` minus the seats held by PENDING and
    CONFIRMED bookings (PENDING ones whose payment window has closed count as free)."""
    retreat = _retreat(retreat_id)
    if retreat is None:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, date)
    overdue = _bookings().sum_places({**_overdue_filter(now()), "dateId": block["_id"]})
    return _free_seats(block["_id"], int(block.get("places") or 0)) + overdue


# --- creation ------------------------------------------------------------------------------

def _participants(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"_id": ObjectId(), "prenom": p.prenom, "nom": p.nom, "email": p.email} for p in items]


def _new_booking(request: BookingRequest, *, retreat: dict, block: dict, user_id: ObjectId | None,
                 stripe: bool, statut: str, statut_paiement: str) -> dict[str, Any]:
    stamp = now()
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": user_id,
        "isGuest": user_id is None,
        "isStripeBooking": stripe,
        "retreatId": retreat["_id"],
        "dateId": block["_id"],
        "retreatName": retreat.get("titreCard") or "",
    }
    address = block.get("adresseRdv") or retreat.get("adresseRdv")
    for key, value in (("retreatAddress", address), ("retreatHeureArrivee", block.get("heureArrivee")),
                       ("retreatHeureDepart", block.get("heureDepart"))):
        if value:
            doc[key] = value
    doc.update({
        "dateStart": as_utc(block["start"]),
        "dateEnd": as_utc(block["end"]),
        "nbPlaces": request.nbPlaces,
        "prixTotalCents": unit_price_cents(retreat, block) * request.nbPlaces,
        "participants": _participants(request.participants),
        "billingAddress": request.billingAddress.model_dump()
        if hasattr(request.billingAddress, "model_dump") else dict(request.billingAddress),
        "statut": statut,
        "statutPaiement": statut_paiement,
        "seatsHeld": statut != CANCELLED,
    })
    if request.notes is not None:
        doc["notes"] = request.notes
    doc.update({"createdAt": stamp, "updatedAt": stamp})
    return doc


def _insert_holding_seats(doc: dict[str, Any], block: dict) -> dict[str, Any]:
    """Take the seats, then insert; if the insert fails, the seats go back."""
    if doc["seatsHeld"]:
        _reserve(doc["retreatId"], block["_id"], doc["nbPlaces"])
    try:
        return _bookings().insert(doc)
    except BaseException:
        if doc["seatsHeld"]:
            _release(doc)
        raise


def create_booking(request: BookingRequest, *, user_id: str | None) -> tuple[dict, str | None]:
    """A customer's booking (``POST /bookings``): PENDING/PENDING, holding its seats for the
    16-minute payment window. Returns ``(booking, guest_token)``: ``guest_token`` is the proof
    of a guest booking (``user_id`` None), shown once and stored hashed; None for a user."""
    retreat_id = ObjectId(request.retreatId)
    retreat = _retreat(retreat_id)
    if retreat is None or retreat.get("isActive") is False:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, request.dateStart)
    owner = ObjectId(user_id) if user_id else None
    doc = _new_booking(request, retreat=retreat, block=block, user_id=owner, stripe=True,
                       statut=PENDING, statut_paiement=PAY_PENDING)
    guest_token = None
    if owner is None:
        guest_token = secrets.token_urlsafe(32)
        doc["guestTokenHash"] = hash_guest_token(guest_token)
    doc["expiresAt"] = doc["createdAt"] + PAYMENT_WINDOW
    booking = _insert_holding_seats(doc, block)
    _count("BookingsCreated")
    logger.info("booking created", extra={"bookingId": str(booking["_id"]), "nbPlaces": booking["nbPlaces"],
                                          "guest": owner is None})
    return booking, guest_token


def create_manual_booking(request: BookingRequest, *, user_id: str | None, statut: str | None) -> dict:
    """An admin's booking (``POST /bookings/admin/create``), not paid through Stripe:
    CONFIRMED/PAID by default; PENDING holds its seats without a payment window (the admin
    confirms or cancels it); CANCELLED takes no seat."""
    retreat_id = ObjectId(request.retreatId)
    retreat = _retreat(retreat_id)
    if retreat is None:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, request.dateStart)
    owner = None
    if user_id:
        from lutea.data.users import UserRepository

        owner = ObjectId(user_id)
        if UserRepository().get(owner) is None:
            raise NotFound(MSG_USER_NOT_FOUND)
    statut = statut or CONFIRMED
    doc = _new_booking(request, retreat=retreat, block=block, user_id=owner, stripe=False, statut=statut,
                       statut_paiement=PAID if statut == CONFIRMED else PAY_PENDING)
    doc.setdefault("notes", NOTE_ADMIN)
    if statut == CANCELLED:
        doc.update({"annulationRaison": REASON_DEFAULT, "annulationDate": doc["createdAt"]})
    booking = _insert_holding_seats(doc, block)
    _count("BookingsCreatedByAdmin")
    return booking


# --- reading -------------------------------------------------------------------------------

def get_booking(booking_id: str | ObjectId) -> dict:
    """The stored booking document; ``NotFound`` (404 ``Booking non trouvé``) when there is none."""
    booking = _bookings().get(_oid(booking_id))
    if booking is None:
        raise NotFound(MSG_BOOKING_NOT_FOUND)
    return booking


def check_booking_owner(booking: dict, principal: Any, guest_token: str | None) -> None:
    """Returns None when the caller may see ``booking``: ``principal`` (an object with
    ``user_id``, e.g. lutea.http.Principal) is its user, or ``guest_token`` is its guest proof,
    valid while the booking is PENDING and during its 16-minute payment window (so that the
    page shown right after a payment can still read it). Otherwise ``NotFound``: someone
    else's booking is indistinguishable from a missing one."""
    owner = booking.get("userId")
    user_id = getattr(principal, "user_id", None)
    if owner is not None and user_id is not None and str(owner) == str(user_id):
        return
    stored = booking.get("guestTokenHash")
    if guest_token and stored and hmac.compare_digest(hash_guest_token(guest_token), stored):
        expires = booking.get("expiresAt")
        if booking.get("statut") == PENDING or (expires is not None and now() < as_utc(expires)):
            return
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def owned_booking(booking_id: ObjectId, principal: Any) -> dict:
    booking = get_booking(booking_id)
    check_booking_owner(booking, principal, None)
    return booking


def user_bookings(user_id: str) -> list[dict]:
    return _bookings().list_for_user(ObjectId(user_id))


def booking_pdf(booking_id: ObjectId, principal: Any) -> tuple[bytes, str, str]:
    """``(pdf, ascii_filename, utf8_filename)`` of the caller's own booking."""
    from lutea.pdf.booking_confirmation import pdf_filename, render_booking_pdf

    booking = owned_booking(booking_id, principal)
    ascii_name, utf8_name = pdf_filename(booking)
    return render_booking_pdf(booking), ascii_name, utf8_name


def _populate(bookings: list[dict]) -> list[dict]:
    """As the original's populate: ``retreatId`` -> ``{_id, prix?}`` (the legacy top-level
    price, when the retreat still has one), ``userId`` -> ``{_id, firstName, lastName, email}``;
    a reference to a deleted document becomes None, as Mongoose did."""
    from lutea.data.users import UserRepository

    retreats: dict[ObjectId, dict | None] = {}
    for rid in {b["retreatId"] for b in bookings}:
        retreats[rid] = _retreat(rid)
    users = UserRepository().find_by_ids({b["userId"] for b in bookings if b.get("userId") is not None})
    populated = []
    for booking in bookings:
        doc = dict(booking)
        retreat = retreats.get(booking["retreatId"])
        if retreat is None:
            doc["retreatId"] = None
        else:
            ref: dict[str, Any] = {"_id": retreat["_id"]}
            if retreat.get("prix") is not None:
                ref["prix"] = retreat["prix"]
            doc["retreatId"] = ref
        user = users.get(booking["userId"]) if booking.get("userId") is not None else None
        doc["userId"] = None if user is None else {
            "_id": user["_id"], "firstName": user.get("firstName"), "lastName": user.get("lastName"),
            "email": user.get("email"),
        }
        populated.append(doc)
    return populated


def admin_list() -> list[dict]:
    return _populate(_bookings().list_all())


def admin_get(booking_id: ObjectId) -> dict:
    return _populate([get_booking(booking_id)])[0]


def stats() -> dict[str, int]:
    """Counts by ``statut`` and the revenue (cents) of CONFIRMED + PAID bookings."""
    repo = _bookings()
    counts = repo.count_by_status()
    return {
        "total": sum(counts.values()),
        "pending": counts.get(PENDING, 0),
        "confirmed": counts.get(CONFIRMED, 0),
        "cancelled": counts.get(CANCELLED, 0),
        "revenueCents": repo.sum_total_cents({"statut": CONFIRMED, "statutPaiement": PAID}),
    }


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
    return booking


def attach_payment_intent(booking_id: str | ObjectId, pi_id: str) -> None:
    """Record the PaymentIntent of a PENDING booking. Returns None; ``NotFound`` when the
    booking is missing, ``Conflict`` when it is no longer PENDING."""
    oid = _oid(booking_id)
    if _bookings().update_if(oid, {"statut": PENDING}, {"stripePaymentIntentId": pi_id}) is None:
        get_booking(oid)
        raise Conflict(MSG_NOT_PAYABLE)


def confirm_paid(booking_id: str | ObjectId, payment_intent_id: str, amount_cents: int) -> str:
    """A PaymentIntent for this booking succeeded (the webhook). Returns:

    - ``"confirmed"``: this call moved the booking to CONFIRMED/PAID (from PENDING, or from
      CANCELLED after an expiry or a failure, its seats re-taken atomically) and sent the
      confirmation email with the PDF (exactly once: only the winner of the transition sends);
    - ``"already_confirmed"``: this PaymentIntent was already handled for this booking
      (confirmed with it, or already refunded): nothing to do;
    - ``"needs_refund"``: the money must go back: the amount is not the booking's total, the
      booking is already paid by another PaymentIntent or was refunded/cancelled after payment,
      or its seats were taken by others meanwhile. The caller refunds (and then calls
      ``mark_refunded`` when the booking is this payment's).

    ``NotFound`` when the booking does not exist.
    """
    oid = _oid(booking_id)
    repo = _bookings()
    for _ in range(3):  # a lost race re-reads the booking; three rounds settle any interleaving
        booking = get_booking(oid)
        same_pi = booking.get("stripePaymentIntentId") == payment_intent_id
        if booking["statutPaiement"] in (PAID, REFUNDED):
            return "already_confirmed" if same_pi else "needs_refund"
        if int(amount_cents) != int(booking["prixTotalCents"]):
            logger.error("payment amount differs from the booking total", extra={"bookingId": str(oid)})
            return "needs_refund"
        paid = {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id}
        if booking["statut"] == PENDING and booking.get("seatsHeld"):
            before = repo.transition(oid, {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}, paid)
            if before is not None:
                return _confirmed(oid)
            continue
        # Paid after it expired, failed or was cancelled: confirm only if the seats are still free.
        try:
            _reserve(booking["retreatId"], booking["dateId"], int(booking["nbPlaces"]))
        except Conflict:
            logger.warning("late payment: seats gone", extra={"bookingId": str(oid)})
            return "needs_refund"
        before = repo.transition(
            oid, {"statut": {"$in": [PENDING, CANCELLED]}, "statutPaiement": {"$in": [PAY_PENDING, FAILED]},
                  "seatsHeld": False},
            {**paid, "seatsHeld": True}, unset=("annulationRaison", "annulationDate"),
        )
        if before is not None:
            logger.info("late payment: booking revived", extra={"bookingId": str(oid)})
            return _confirmed(oid)
        _seats().release(booking["dateId"], int(booking["nbPlaces"]))  # someone else moved it: give back
    return "needs_refund"


def _confirmed(oid: ObjectId) -> str:
    booking = get_booking(oid)
    _count("BookingsConfirmed")
    _send_confirmation(booking)
    return "confirmed"


def cancel_for_payment_failure(booking_id: str | ObjectId, payment_intent_id: str | None = None) -> bool:
    """The payment failed or was cancelled: PENDING -> CANCELLED/FAILED, seats released.
    With ``payment_intent_id``, only if that is the booking's PaymentIntent (or it has none),
    so that an abandoned earlier attempt can't cancel a booking being paid by a newer one.
    Returns True when this call made the change, False when it was not PENDING any more."""
    oid = _oid(booking_id)
    precondition: dict[str, Any] = {"statut": PENDING, "statutPaiement": PAY_PENDING, "seatsHeld": True}
    if payment_intent_id is not None:
        precondition["stripePaymentIntentId"] = {"$in": [payment_intent_id, None]}
    before = _bookings().transition(oid, precondition, {
        "statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False,
        "annulationRaison": REASON_PAYMENT_FAILED, "annulationDate": now(),
    })
    if before is None:
        return False
    _release(before)
    _count("BookingsPaymentFailed")
    return True


def mark_refunded(booking_id: str | ObjectId) -> bool:
    """The booking's payment was refunded: ``statutPaiement`` REFUNDED, ``statut`` CANCELLED,
    seats released if it held them. Returns True when this call made the change, False when it
    was already REFUNDED (a repeated event). ``NotFound`` when the booking does not exist."""
    oid = _oid(booking_id)
    repo = _bookings()
    changes = {"statutPaiement": REFUNDED, "statut": CANCELLED, "seatsHeld": False}
    before = repo.transition(oid, {"statutPaiement": {"$ne": REFUNDED}, "statut": {"$ne": CANCELLED}},
                             {**changes, "annulationRaison": REASON_REFUNDED, "annulationDate": now()})
    if before is None:  # already cancelled: keep its reason and date
        before = repo.transition(oid, {"statutPaiement": {"$ne": REFUNDED}}, changes)
    if before is None:
        get_booking(oid)
        return False
    if before.get("seatsHeld"):
        _release(before)
    _count("BookingsRefunded")
    return True


# --- admin transitions ---------------------------------------------------------------------

def admin_confirm(booking_id: ObjectId, payment_intent_id: str) -> dict:
    """PENDING -> CONFIRMED/PAID by an admin, once the PaymentIntent is checked at Stripe: it
    exists, succeeded, in euros, for the booking's total, and belongs to no other booking."""
    booking = get_booking(booking_id)
    if booking["statut"] != PENDING:
        raise InvalidInput(MSG_NOT_PENDING)
    other = _bookings().find_by_payment_intent(payment_intent_id)
    if other is not None and other["_id"] != booking["_id"]:
        raise InvalidInput(MSG_PAYMENT_OTHER_BOOKING)
    try:
        intent = _gateway().retrieve_payment_intent(payment_intent_id)
    except NotFound as exc:
        raise InvalidInput(MSG_PAYMENT_NOT_FOUND) from exc
    meta_booking = (intent.get("metadata") or {}).get("bookingId")
    if (intent.get("status") != "succeeded" or int(intent.get("amount") or 0) != int(booking["prixTotalCents"])
            or str(intent.get("currency") or "").lower() != "eur"
            or (meta_booking and meta_booking != str(booking["_id"]))):
        raise InvalidInput(MSG_PAYMENT_NOT_VALID)
    before = _bookings().transition(
        booking["_id"], {"statut": PENDING, "seatsHeld": True},
        {"statut": CONFIRMED, "statutPaiement": PAID, "stripePaymentIntentId": payment_intent_id},
    )
    if before is None:
        raise InvalidInput(MSG_NOT_PENDING)
    confirmed = get_booking(booking["_id"])
    _count("BookingsConfirmed")
    _send_confirmation(confirmed)
    return confirmed


def admin_cancel(booking_id: ObjectId, raison: str | None) -> dict:
    """Cancel (any status but CANCELLED): seats released once, a PAID Stripe booking refunded
    (``statutPaiement`` REFUNDED), the contact emailed. Cancelling again returns the booking
    unchanged, except that it completes a refund that failed the first time."""
    repo = _bookings()
    oid = get_booking(booking_id)["_id"]
    before = repo.transition(oid, {"statut": {"$ne": CANCELLED}}, {
        "statut": CANCELLED, "seatsHeld": False, "annulationRaison": raison or REASON_DEFAULT,
        "annulationDate": now(),
    })
    if before is not None:
        if before.get("seatsHeld"):
            _release(before)
        pi_id = before.get("stripePaymentIntentId")
        if before["statutPaiement"] == PAY_PENDING and pi_id:
            # No payment may complete on a booking the admin cancelled.
            _safely("payment intent cancellation", oid, lambda: _gateway().cancel_payment_intent(pi_id))
        _count("BookingsCancelled")
    current = get_booking(oid)
    refunded = _refund_if_paid(current)
    if before is not None or refunded:
        _send_cancelled(get_booking(oid), refunded=refunded)
    return get_booking(oid)


def _refund_if_paid(booking: dict) -> bool:
    """Refund a cancelled, PAID Stripe booking. True when this call flipped it to REFUNDED."""
    pi_id = booking.get("stripePaymentIntentId")
    if booking["statutPaiement"] != PAID or not booking.get("isStripeBooking") or not pi_id:
        return False
    with contextlib.suppress(Conflict):  # Stripe says it is already refunded: record it
        _gateway().refund(pi_id)
    flipped = _bookings().update_if(booking["_id"], {"statutPaiement": PAID}, {"statutPaiement": REFUNDED})
    if flipped is not None:
        _count("BookingsRefunded")
    return flipped is not None


# --- expiry --------------------------------------------------------------------------------

def _expire_matching(match: dict[str, Any]) -> int:
    repo = _bookings()
    expired = 0
    while True:
        ids = repo.ids_matching(match, limit=EXPIRY_BATCH)
        for oid in ids:
            if _expire_one(oid, match):
                expired += 1
        if len(ids) < EXPIRY_BATCH:
            return expired


def _expire_one(oid: ObjectId, match: dict[str, Any]) -> bool:
    before = _bookings().transition(oid, match, {
        "statut": CANCELLED, "statutPaiement": FAILED, "seatsHeld": False,
        "annulationRaison": REASON_EXPIRED, "annulationDate": now(),
    })
    if before is None:
        return False  # paid, cancelled or expired by someone else meanwhile
    _release(before)
    pi_id = before.get("stripePaymentIntentId")
    if pi_id:
        # A failure here must not block the expiry; a payment that still succeeds later is
        # handled by confirm_paid (seats re-taken, or refunded).
        _safely("payment intent cancellation", oid, lambda: _gateway().cancel_payment_intent(pi_id))
    return True


def expire_pending_bookings() -> int:
    """PENDING bookings whose 16-minute payment window has closed -> CANCELLED/FAILED
    (``annulationRaison`` says expired), seats released once, PaymentIntents cancelled at
    Stripe. Safe to run concurrently (each booking is expired by one conditional update).
    Returns how many bookings this run expired."""
    count = _expire_matching(_overdue_filter(now()))
    if count:
        _count("BookingsExpired", count)
    logger.info("pending bookings expired", extra={"count": count})
    return count
