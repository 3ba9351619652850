"""Bookings as customers and the admin make and read them: creation and pricing, availability,
owner checks, the admin's views and the stats. Transitions after creation (payment, cancellation,
refund, expiry) live in lutea.domain.booking_lifecycle, seat holding in lutea.domain.seats.

Money is integer cents (``prixTotalCents``); euros appear only on the wire (lutea.schemas.bookings).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from bson import ObjectId

from lutea.auth.codes import hash_link_token, keyed_digest, matches_link_token
from lutea.clock import as_utc, now
from lutea.config import get_settings
from lutea.data.bookings import BookingFilter, BookingRepository
from lutea.domain.booking_lifecycle import MSG_DATE_STARTED, block_started, reserve_seats
from lutea.domain.booking_lookup import MSG_BOOKING_NOT_FOUND, MSG_DATE_NOT_FOUND, get_booking
from lutea.domain.booking_states import (
    CANCELLED,
    CONFIRMED,
    PAID,
    PAY_PENDING,
    PAYMENT_WINDOW,
    PENDING,
    REASON_DEFAULT,
)
from lutea.domain.pricing import unit_price_cents
from lutea.domain.seats import free_seats, release_seats
from lutea.errors import Conflict, NotFound, RateLimited
from lutea.listing import PageRequest
from lutea.observability import count_metric, logger
from lutea.refund_policy import retreat_policy

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc, DateBlockDoc, ParticipantDoc, RetreatDoc

MSG_RETREAT_NOT_FOUND = "Retraite non trouvée"
MSG_USER_NOT_FOUND = "Utilisateur non trouvé"
HOLDERS = {"ip": "depuis cette connexion", "email": "pour cette adresse email"}
NOTE_ADMIN = "Créé manuellement par l'admin"  # the original's default note for manual bookings
MSG_DATE_STARTED_ADMIN = "Cette session a déjà commencé : pour l'enregistrer quand même, envoyez dateCommenceeAutorisee: true"


# --- inputs (lutea/domain/README.md: the handler builds them from its validated request) -----


class Participant(NamedTuple):
    first_name: str
    last_name: str
    email: str


class Party(NamedTuple):
    """Who comes and who pays: what every way of booking carries."""

    participants: tuple[Participant, ...]
    billing_address: Mapping[str, str]  # stored as given: address, city, postalCode, country, phone
    notes: str | None = None


class BookingRequest(NamedTuple):
    """``seats`` on the date block of retreat ``retreat_id`` that starts at ``date_start``."""

    retreat_id: str
    date_start: datetime
    seats: int
    party: Party


# --- helpers -------------------------------------------------------------------------------


def _retreat(retreat_id: ObjectId) -> RetreatDoc | None:
    from lutea.data.retreats import RetreatRepository

    return RetreatRepository().get(retreat_id)


def _date_block(retreat: RetreatDoc, start: datetime) -> DateBlockDoc:
    """The date block starting at the same instant as ``start``, else 404 (as the original)."""
    from lutea.domain.retreats import find_date_block

    block = find_date_block(retreat, start)
    if block is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    return block


# --- availability --------------------------------------------------------------------------


def available_places(retreat_id: ObjectId, date: datetime) -> int:
    """Places of the date block starting at ``date`` minus the seats held by PENDING and
    CONFIRMED bookings (PENDING ones whose payment window has closed count as free)."""
    retreat = _retreat(retreat_id)
    if retreat is None or retreat.get("isActive") is False:
        # A hidden retreat answers as one that does not exist (as GET /retreats/public/:id).
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, date)
    overdue = BookingRepository().overdue_held_places(block["_id"], now())
    return free_seats(block["_id"], int(block.get("places") or 0)) + overdue


# --- creation ------------------------------------------------------------------------------


def hold_keys(client_ip: str | None, contact_email: str) -> list[str]:
    """The clients a booking counts against: its IP address and its contact email, stored
    pseudonymised by a keyed digest (the limit needs equality, never the address itself; a bare
    hash of an IPv4 address is reversed by trying all 2^32). A new server secret starts the
    counts afresh, which costs at most one payment window of holds."""

    def digest(kind: str, value: str) -> str:
        return f"{kind}:" + keyed_digest(f"lutea-hold:{kind}".encode(), value)[:32]

    keys = [digest("email", contact_email.strip().lower())]
    if client_ip:
        keys.insert(0, digest("ip", client_ip))
    return keys


def _check_unpaid_holds(keys: list[str], seats: int) -> None:
    """One client may hold at most ``pending_bookings_per_client`` unpaid bookings and
    ``pending_seats_per_client`` seats at once (else anyone could block a catalogue for free,
    16 minutes at a time): 429, with when the oldest of its holds ends. A race of two requests
    may pass one booking over the limit; the strict rate tier of POST /bookings bounds that."""
    settings = get_settings()
    at = now()
    all_holds = BookingRepository().unpaid_holds(keys, at)
    for key in keys:
        holds = [h for h in all_holds if key in (h.get("holdKeys") or ())]
        held = sum(int(h.get("nbPlaces") or 0) for h in holds)
        if len(holds) + 1 > settings.pending_bookings_per_client or held + seats > settings.pending_seats_per_client:
            first_end = min((as_utc(h["expiresAt"]) for h in holds), default=at + PAYMENT_WINDOW)
            minutes = max(1, -(-int((first_end - at).total_seconds()) // 60))
            count_metric("BookingsRefusedTooManyHolds")
            raise RateLimited(
                int((first_end - at).total_seconds()) + 1,
                (
                    f"Trop de réservations en attente de paiement {HOLDERS[key.split(':', 1)[0]]} "
                    f"(au plus {settings.pending_bookings_per_client} réservations et "
                    f"{settings.pending_seats_per_client} places) : finalisez ou annulez une réservation en cours, "
                    f"ou réessayez dans {minutes} minute{'s' if minutes > 1 else ''}"
                ),
            )


def _participants(items: Iterable[Participant]) -> list[ParticipantDoc]:
    return [{"_id": ObjectId(), "prenom": p.first_name, "nom": p.last_name, "email": p.email} for p in items]


def _new_booking(
    party: Party,
    *,
    seats: int,
    retreat: RetreatDoc,
    block: DateBlockDoc,
    user_id: ObjectId | None,
    stripe: bool,
    status: str,
    payment_status: str,
) -> BookingDoc:
    stamp = now()
    doc: BookingDoc = {
        "_id": ObjectId(),
        "userId": user_id,
        "isGuest": user_id is None,
        "isStripeBooking": stripe,
        "retreatId": retreat["_id"],
        "dateId": block["_id"],
        "retreatName": retreat.get("titreCard") or "",
    }
    if address := block.get("adresseRdv") or retreat.get("adresseRdv"):
        doc["retreatAddress"] = address
    if arrival := block.get("heureArrivee"):
        doc["retreatHeureArrivee"] = arrival
    if departure := block.get("heureDepart"):
        doc["retreatHeureDepart"] = departure
    if included := retreat.get("prestationsIncluses"):  # what was sold, kept with the booking for its PDF
        doc["retreatPrestationsIncluses"] = included
    doc.update(
        {
            "dateStart": as_utc(block["start"]),
            "dateEnd": as_utc(block["end"]),
            "nbPlaces": seats,
            "prixTotalCents": unit_price_cents(retreat, block) * seats,
            "participants": _participants(party.participants),
            "billingAddress": dict(party.billing_address),
            "statut": status,
            "statutPaiement": payment_status,
            "seatsHeld": status != CANCELLED,
        }
    )
    if party.notes is not None:
        doc["notes"] = party.notes
    # The refund terms in force now are the ones this booking is cancelled under.
    doc["politiqueAnnulation"] = retreat_policy(retreat).to_doc()
    doc.update({"createdAt": stamp, "updatedAt": stamp})
    return doc


def _insert_holding_seats(doc: BookingDoc, block: DateBlockDoc) -> BookingDoc:
    """Take the seats, then insert; if the insert fails, the seats go back — unless the booking
    was stored after all (a network error after the server applied the insert), whose own
    cancellation or expiry will release them: releasing twice could oversell the date."""
    doc.setdefault("_id", ObjectId())
    if doc["seatsHeld"]:
        reserve_seats(doc["retreatId"], block["_id"], doc["nbPlaces"], doc["_id"])
    repo = BookingRepository()
    try:
        return repo.insert(doc)
    except BaseException:
        if doc["seatsHeld"] and not _stored_anyway(repo, doc["_id"]):
            release_seats(doc)
        raise


def _stored_anyway(repo: Any, booking_id: ObjectId) -> bool:
    try:
        return repo.get(booking_id) is not None
    except Exception:  # noqa: BLE001 - unknown: keep the seats (a leak is safer than an oversell)
        logger.error("booking insert outcome unknown; seats kept", extra={"bookingId": str(booking_id)})
        return True


def create_booking(
    request: BookingRequest, *, user_id: str | None, client_ip: str | None = None
) -> tuple[BookingDoc, str | None]:
    """A customer's booking (``POST /bookings``): PENDING/PENDING, holding its seats for the
    16-minute payment window. Returns ``(booking, guest_token)``: ``guest_token`` is the proof
    of a guest booking (``user_id`` None), shown once and stored hashed; None for a user.
    ``RateLimited`` (429) when the client (``client_ip``, the contact email) already holds too
    many unpaid seats (``_check_unpaid_holds``)."""
    retreat_id = ObjectId(request.retreat_id)
    retreat = _retreat(retreat_id)
    if retreat is None or retreat.get("isActive") is False:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, request.date_start)
    if block_started(block["start"]):
        raise Conflict(MSG_DATE_STARTED)
    owner = ObjectId(user_id) if user_id else None
    doc = _new_booking(
        request.party,
        seats=request.seats,
        retreat=retreat,
        block=block,
        user_id=owner,
        stripe=True,
        status=PENDING,
        payment_status=PAY_PENDING,
    )
    guest_token = None
    if owner is None:
        guest_token = secrets.token_urlsafe(32)
        doc["guestTokenHash"] = hash_link_token(guest_token)
    doc["expiresAt"] = doc["createdAt"] + PAYMENT_WINDOW
    doc["holdKeys"] = hold_keys(client_ip, doc["participants"][0]["email"])
    _check_unpaid_holds(doc["holdKeys"], doc["nbPlaces"])
    booking = _insert_holding_seats(doc, block)
    count_metric("BookingsCreated")
    logger.info(
        "booking created", extra={"bookingId": str(booking["_id"]), "nbPlaces": booking["nbPlaces"], "guest": owner is None}
    )
    return booking, guest_token


def book_waiting_list_offer(token: str, party: Party, *, user_id: str | None) -> tuple[BookingDoc, str | None]:
    """Book the seats of a waiting-list offer (``POST /bookings/waiting-list/offer/book``): a
    PENDING booking at the server's price, paid like any other within its 16-minute window.
    The seats pass from the offer to the booking without leaving the counter: the offer is
    claimed for this booking's id first, then the booking is inserted holding them. Returns
    ``(booking, guest_token)`` as ``create_booking``."""
    from lutea.domain import waiting_list

    booking_id = ObjectId()
    entry, retreat, block = waiting_list.claim_offer(token, booking_id=booking_id, participant_count=len(party.participants))
    owner = ObjectId(user_id) if user_id else None
    doc = _new_booking(
        party,
        seats=int(entry["nbPlaces"]),
        retreat=retreat,
        block=block,
        user_id=owner,
        stripe=True,
        status=PENDING,
        payment_status=PAY_PENDING,
    )
    doc.update({"_id": booking_id, "waitingListEntryId": entry["_id"], "expiresAt": doc["createdAt"] + PAYMENT_WINDOW})
    guest_token = None
    if owner is None:
        guest_token = secrets.token_urlsafe(32)
        doc["guestTokenHash"] = hash_link_token(guest_token)
    repo = BookingRepository()
    try:
        booking = repo.insert(doc)
    except BaseException:
        if not _stored_anyway(repo, booking_id):
            waiting_list.unclaim_offer(entry["_id"], booking_id)
        raise
    count_metric("BookingsCreatedFromWaitingList")
    logger.info("booking created from a waiting-list offer", extra={"bookingId": str(booking_id)})
    return booking, guest_token


def create_manual_booking(
    request: BookingRequest, *, user_id: str | None, status: str | None, allow_started: bool = False
) -> BookingDoc:
    """An admin's booking (``POST /bookings/admin/create``), not paid through Stripe:
    CONFIRMED/PAID by default; PENDING holds its seats without a payment window (the admin
    confirms or cancels it); CANCELLED takes no seat. A date block that has started is refused
    (409) unless ``allow_started``: the admin says explicitly that the late booking is meant."""
    retreat_id = ObjectId(request.retreat_id)
    retreat = _retreat(retreat_id)
    if retreat is None:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = _date_block(retreat, request.date_start)
    if block_started(block["start"]) and not allow_started:
        raise Conflict(MSG_DATE_STARTED_ADMIN)
    owner = None
    if user_id:
        from lutea.data.users import UserRepository

        owner = ObjectId(user_id)
        if UserRepository().get(owner) is None:
            raise NotFound(MSG_USER_NOT_FOUND)
    status = status or CONFIRMED
    doc = _new_booking(
        request.party,
        seats=request.seats,
        retreat=retreat,
        block=block,
        user_id=owner,
        stripe=False,
        status=status,
        payment_status=PAID if status == CONFIRMED else PAY_PENDING,
    )
    doc.setdefault("notes", NOTE_ADMIN)
    if status == CANCELLED:
        doc.update({"annulationRaison": REASON_DEFAULT, "annulationDate": doc["createdAt"]})
    booking = _insert_holding_seats(doc, block)
    count_metric("BookingsCreatedByAdmin")
    return booking


# --- reading -------------------------------------------------------------------------------


def check_booking_owner(booking: BookingDoc, principal: Any, guest_token: str | None) -> None:
    """Returns None when the caller may see ``booking``: ``principal`` (an object with
    ``user_id``, e.g. lutea.http.Principal) is its user, or ``guest_token`` is its guest proof,
    valid while the booking is PENDING and during its 16-minute payment window (so that the
    page shown right after a payment can still read it). Otherwise ``NotFound``: someone
    else's booking is indistinguishable from a missing one."""
    owner = booking.get("userId")
    user_id = getattr(principal, "user_id", None)
    if owner is not None and user_id is not None and str(owner) == str(user_id):
        return
    if matches_link_token(guest_token, booking.get("guestTokenHash")):
        expires = booking.get("expiresAt")
        if booking.get("statut") == PENDING or (expires is not None and now() < as_utc(expires)):
            return
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def owned_booking(booking_id: ObjectId, principal: Any) -> BookingDoc:
    booking = get_booking(booking_id)
    check_booking_owner(booking, principal, None)
    return booking


def user_bookings(user_id: str) -> list[BookingDoc]:
    return BookingRepository().list_for_user(ObjectId(user_id))


def booking_pdf(booking_id: ObjectId, principal: Any) -> tuple[bytes, str, str]:
    """``(pdf, ascii_filename, utf8_filename)`` of the caller's own booking."""
    from lutea.pdf.booking_confirmation import pdf_filename, render_booking_pdf

    booking = owned_booking(booking_id, principal)
    ascii_name, utf8_name = pdf_filename(booking)
    return render_booking_pdf(booking), ascii_name, utf8_name


def booking_calendar(booking_id: ObjectId, principal: Any, guest_token: str | None) -> tuple[str, str, str]:
    """``(ics, ascii_filename, utf8_filename)`` of the caller's booking (its owner, or the guest
    holding its proof): the stay as a calendar event to import (lutea.ical, METHOD:PUBLISH)."""
    from lutea import ical
    from lutea.config import get_settings

    booking = get_booking(booking_id)
    check_booking_owner(booking, principal, guest_token)
    text = ical.booking_calendar(booking, method=ical.PUBLISH, stamp=now(), organizer_email=get_settings().email_contact)
    ascii_name, utf8_name = ical.calendar_filename(booking)
    return text, ascii_name, utf8_name


def _populate(bookings: list[BookingDoc]) -> list[dict[str, Any]]:
    """As the original's populate: ``retreatId`` -> ``{_id, prix?}`` (the legacy top-level
    price, when the retreat still has one), ``userId`` -> ``{_id, firstName, lastName, email}``;
    a reference to a deleted document becomes None, as Mongoose did."""
    from lutea.data.users import UserRepository

    retreats: dict[ObjectId, RetreatDoc | None] = {}
    for rid in {b["retreatId"] for b in bookings}:
        retreats[rid] = _retreat(rid)
    users = UserRepository().find_by_ids({user_id for b in bookings if (user_id := b.get("userId")) is not None})
    populated = []
    for booking in bookings:
        doc: dict[str, Any] = dict(booking)
        retreat = retreats.get(booking["retreatId"])
        if retreat is None:
            doc["retreatId"] = None
        else:
            ref: dict[str, Any] = {"_id": retreat["_id"]}
            if retreat.get("prix") is not None:
                ref["prix"] = retreat["prix"]
            doc["retreatId"] = ref
        user = users.get(user_id) if (user_id := booking.get("userId")) is not None else None
        doc["userId"] = (
            None
            if user is None
            else {
                "_id": user["_id"],
                "firstName": user.get("firstName"),
                "lastName": user.get("lastName"),
                "email": user.get("email"),
            }
        )
        populated.append(doc)
    return populated


def admin_list(where: BookingFilter | None = None, page: PageRequest | None = None) -> tuple[list[dict[str, Any]], int]:
    """The admin's bookings, newest first, populated; with ``page``, that page and the total
    matching ``where``; without, all of them (the original's answer)."""
    repo = BookingRepository()
    where = where or BookingFilter()
    if page is None:
        found = repo.list_filtered(where)
        return _populate(found), len(found)
    return _populate(repo.list_filtered(where, skip=page.skip, limit=page.limit)), repo.count_filtered(where)


def admin_get(booking_id: ObjectId) -> dict[str, Any]:
    return _populate([get_booking(booking_id)])[0]


def stats() -> dict[str, int]:
    """Counts by ``statut`` and the revenue (cents) of CONFIRMED + PAID bookings."""
    repo = BookingRepository()
    counts = repo.count_by_status()
    return {
        "total": sum(counts.values()),
        "pending": counts.get(PENDING, 0),
        "confirmed": counts.get(CONFIRMED, 0),
        "cancelled": counts.get(CANCELLED, 0),
        "revenueCents": repo.revenue_cents(),
    }
