"""Bookings routes (API.md, "Bookings — /bookings"): availability, the customer's booking and
its PDF, and the administration of bookings. The rules live in lutea.domain.bookings (creating
and reading) and lutea.domain.booking_lifecycle (confirming, cancelling, expiring)."""

from __future__ import annotations

import json
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from lutea import listing
from lutea.booking_status import BookingStatus, PaymentStatus
from lutea.data.bookings import BookingFilter
from lutea.domain import booking_lifecycle as lifecycle
from lutea.domain import bookings as domain
from lutea.errors import InvalidInput
from lutea.http import (
    CALENDAR,
    PDF,
    admin_required,
    create_app,
    current_principal,
    json_body,
    jwt_required,
    make_handler,
    optional_auth,
    owner_or_guest_required,
    require_principal,
)
from lutea.http.docs import ok
from lutea.http.guards import owner_or_guest
from lutea.http.ratelimit import client_ip
from lutea.schemas.bookings import (
    AdminBookingIn,
    AvailablePlacesIn,
    BookingIn,
    CancelBookingIn,
    ConfirmBookingIn,
    booking_out,
)
from lutea.schemas.cancellation import SelfCancelIn, quote_out
from lutea.schemas.listing import CSV
from lutea.schemas.waiting_list import OfferBookingIn, WaitingListJoinIn, WaitingListTokenIn
from lutea.validation import parse
from lutea.wire import cents_to_euros, iso, parse_instant, parse_object_id

app = create_app()
BOOKING = "booking"  # -> "ID de booking invalide", as the original
RETREAT = "retraite"  # -> "ID de retraite invalide"


def _owner_or_guest() -> tuple[object, str | None]:
    return owner_or_guest(app.current_event.headers)


def _optional_body[M: (CancelBookingIn, SelfCancelIn)](model: type[M]) -> M:
    """A body that may be absent (``PATCH admin/:id/cancel`` with ``raison?``)."""
    raw = app.current_event.body
    if not raw or not raw.strip():
        return model()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(
            ["Le corps de la requête n'est pas un JSON valide"], fields=[{"field": "body", "rule": "json_invalid"}]
        ) from exc
    return parse(model, data)


def _party(body: BookingIn | OfferBookingIn) -> domain.Party:
    """Who comes and who pays, as the domain takes them (lutea/domain/README.md, Inputs)."""
    return domain.Party(
        participants=tuple(domain.Participant(p.prenom, p.nom, p.email) for p in body.participants),
        billing_address=body.billingAddress.model_dump(),
        notes=body.notes,
    )


def _booking_request(body: BookingIn) -> domain.BookingRequest:
    return domain.BookingRequest(retreat_id=body.retreatId, date_start=body.dateStart, seats=body.nbPlaces, party=_party(body))


# --- public --------------------------------------------------------------------------------


@app.post("/bookings/available-places", responses=ok("AvailablePlaces", errors=(404,)))
def available_places(body: AvailablePlacesIn):
    """Free seats on a retreat date.

    For `retreatId` and `date` (the date block's start)."""
    places = domain.available_places(parse_object_id(body.retreatId, RETREAT), body.date)
    return {"placesDisponibles": places}


@app.get("/bookings/availability/<retreatId>", responses=ok("Availability", errors=(404,)))
def availability(retreatId: str):
    """Free seats on a retreat date, with a message.

    `?date=` (ISO) is required."""
    retreat_id = parse_object_id(retreatId, RETREAT)
    raw = app.current_event.get_query_string_value("date")
    if not raw or not raw.strip():
        raise InvalidInput("Paramètre date requis")
    try:
        if len(raw) > 64:
            raise ValueError("too long")
        date = parse_instant(raw)
    except ValueError as exc:
        raise InvalidInput("La date doit être une date valide") from exc
    places = domain.available_places(retreat_id, date)
    return {
        "retreatId": retreatId,
        "date": iso(date),
        "placesDisponibles": places,
        "message": f"{places} places disponibles" if places > 0 else "Aucune place disponible",
    }


@app.post("/bookings", responses=ok("GuestBooking", 201, errors=(404, 409)))
@optional_auth
def create_booking(body: BookingIn):
    """Book seats, signed in or as a guest.

    The price comes from the date block (a `prixTotal` sent by the client is ignored); the seats are
    held while the booking awaits payment. A guest booking's answer carries `guestToken`: send it as
    X-Booking-Token to the /stripe routes. Not enough seats: 409 `Seulement N places disponibles`."""
    principal = current_principal()
    booking, guest_token = domain.create_booking(
        _booking_request(body), user_id=principal.user_id if principal else None, client_ip=client_ip(app.current_event.raw_event)
    )
    payload = booking_out(booking)
    if guest_token is not None:
        payload["guestToken"] = guest_token
    return json_body(201, payload)


# --- the signed-in customer ------------------------------------------------------------------


@app.get("/bookings/my-bookings", responses=ok(["Booking"]))
@jwt_required
def my_bookings():
    """The signed-in user's bookings.

    Every booking of the signed-in user."""
    return [booking_out(b) for b in domain.user_bookings(require_principal().user_id)]


@app.get("/bookings/<id>", responses=ok("Booking", errors=(404,)))
@jwt_required
def get_my_booking(id: str):
    """One of the signed-in user's bookings.

    Someone else's or unknown: 404."""
    return booking_out(domain.owned_booking(parse_object_id(id, BOOKING), require_principal()))


# --- self-service cancellation (docs/cancellation.md) ----------------------------------------


@app.get(
    "/bookings/<id>/cancellation-quote",
    responses=ok("CancellationQuoteOut", errors=(404,), description="What cancelling now would refund"),
)
@owner_or_guest_required
def cancellation_quote(id: str):
    """What cancelling one's booking now would refund.

    The owner (cookie or Bearer) or the guest token (X-Booking-Token); someone else's or unknown:
    404. See docs/cancellation.md."""
    from lutea.domain import cancellation  # with the refund policy's quote: these two routes' only

    caller = _owner_or_guest()
    return quote_out(cancellation.cancellation_quote(parse_object_id(id, BOOKING), *caller))


@app.post("/bookings/<id>/cancel", responses=ok("CancellationOut", errors=(404, 409), description="The cancelled booking"))
@owner_or_guest_required
def cancel_my_booking(id: str):
    """Cancel one's confirmed booking, refunded by the retreat's policy.

    The owner or the guest token; only a CONFIRMED and PAID booking whose stay has not started,
    else 409. See docs/cancellation.md."""
    from lutea.domain import cancellation

    caller = _owner_or_guest()
    booking_id = parse_object_id(id, BOOKING)
    body = _optional_body(SelfCancelIn)
    return booking_out(cancellation.cancel_by_customer(booking_id, *caller, reason=body.raison))


# --- the waiting list (docs/waiting-list.md) ------------------------------------------------


@app.post(
    "/bookings/waiting-list",
    responses=ok(
        "WaitingListJoinOut",
        201,
        errors=(404, 409),
        description="On the list (the same answer if the address already was)",
    ),
)
@optional_auth
def join_waiting_list(body: WaitingListJoinIn):
    """Join a full date block's waiting list.

    Public; signed in, the entry is the user's. The same 201 whether the address was already on
    this block's list or not; the confirmation (with a leave link) is emailed. See
    docs/waiting-list.md."""
    from lutea.domain import waiting_list  # with its repository: the waiting list's routes only

    principal = current_principal()
    joined = waiting_list.join(
        retreat_id=body.retreatId,
        date_start=body.dateStart,
        seats=body.nbPlaces,
        email=body.email,
        first_name=body.prenom,
        user_id=principal.user_id if principal else None,
    )
    return json_body(201, joined)


@app.post(
    "/bookings/waiting-list/leave",
    responses=ok("MessageOut", errors=(404,), description="Off the list (also when already off)"),
)
def leave_waiting_list(body: WaitingListTokenIn):
    """Leave the waiting list with the token of an emailed link.

    An offer in progress gives its seats back to the next in line. See docs/waiting-list.md."""
    from lutea.domain import waiting_list  # with its repository: the waiting list's routes only

    return waiting_list.leave(body.token)


@app.post("/bookings/waiting-list/offer", responses=ok("OfferOut", errors=(404, 409), description="The offer the link names"))
def waiting_list_offer(body: WaitingListTokenIn):
    """The seats offered to a waiting-list entry, with the token of the offer email.

    409 when the entry holds no live offer. See docs/waiting-list.md."""
    from lutea.domain import waiting_list  # with its repository: the waiting list's routes only

    offer = waiting_list.offer_details(body.token)
    return {
        "retreatId": str(offer["retreatId"]),
        "retreatName": offer["retreatName"],
        "dateStart": iso(offer["dateStart"]),
        "dateEnd": iso(offer["dateEnd"]),
        "nbPlaces": offer["nbPlaces"],
        "prixTotal": cents_to_euros(offer["prixTotalCents"]),
        "offreExpireLe": iso(offer["offerExpiresAt"]),
        "politiqueAnnulation": offer["policyText"],
    }


@app.post("/bookings/waiting-list/offer/book", responses=ok("GuestBooking", 201, errors=(404, 409)))
@optional_auth
def book_waiting_list_offer(body: OfferBookingIn):
    """Book the seats of a waiting-list offer.

    A PENDING booking at the server's price for the offered block and seats, paid like any
    other; signed in, the user's. See docs/waiting-list.md."""
    principal = current_principal()
    booking, guest_token = domain.book_waiting_list_offer(
        body.token, _party(body), user_id=principal.user_id if principal else None
    )
    payload = booking_out(booking)
    if guest_token is not None:
        payload["guestToken"] = guest_token
    return json_body(201, payload)


@app.get(
    "/bookings/admin/waiting-list/<retreatId>",
    responses=ok(["AdminBlockOut"], errors=(404,), description="Each date block's list and offers"),
)
@admin_required
def admin_waiting_list(retreatId: str):
    """The waiting lists of a retreat's date blocks, with their offers (admin).

    See docs/waiting-list.md."""
    from lutea.domain import waiting_list  # with its repository: the waiting list's routes only

    return waiting_list.admin_view(parse_object_id(retreatId, RETREAT))


# --- admin (static paths are matched before admin/<id>: stats is not shadowed) --------------


@app.get("/bookings/admin/all", responses=ok(["Booking"], paged=True))
@admin_required
def list_bookings():
    """All bookings (admin), newest first.

    With `retreatId` and `userId` populated. Filters and pages (`page`, `limit`): see
    docs/admin-lists.md; without `page` or `limit`, the whole array."""
    query = app.current_event.get_query_string_value
    page = listing.page_request(query("page"), query("limit"))
    period = listing.period(query("dateMin"), query("dateMax"))
    where = BookingFilter(
        status=listing.choice(query("statut"), "statut", tuple(s.value for s in BookingStatus)),
        payment_status=listing.choice(query("statutPaiement"), "statutPaiement", tuple(s.value for s in PaymentStatus)),
        retreat_id=listing.object_id_filter(query("retreatId"), RETREAT),
        date_id=listing.object_id_filter(query("dateId"), "date"),
        start_from=period.start,
        start_before=period.end,
    )
    found, total = domain.admin_list(where, page)
    bookings = [booking_out(b) for b in found]
    return bookings if page is None else listing.envelope(bookings, total, page)


@app.get("/bookings/admin/stats", responses=ok("BookingStats"))
@admin_required
def booking_stats():
    """Booking counts and revenue (admin).

    Counts by `statut`; `revenue` is the `prixTotal` of CONFIRMED and PAID bookings, in euros."""
    counts = domain.stats()
    return {
        "total": counts["total"],
        "pending": counts["pending"],
        "confirmed": counts["confirmed"],
        "cancelled": counts["cancelled"],
        "revenue": cents_to_euros(counts["revenueCents"]),
    }


@app.get("/bookings/admin/payment-discrepancies", responses=ok("Discrepancies"))
@admin_required
def payment_discrepancies():
    """Payments and bookings that disagree (admin).

    Succeeded PaymentIntents without a confirmed booking, and confirmed Stripe bookings without a
    succeeded PaymentIntent, over the last 5 days."""
    from lutea.domain.payment_discrepancies import find_payment_discrepancies

    return find_payment_discrepancies()


@app.post("/bookings/admin/send-payment-alert", responses=ok("PaymentAlert", 201))
@admin_required
def send_payment_alert():
    """Email the admin about discrepancies (admin).

    Runs the discrepancy check and emails the admin when anything is off."""
    from lutea.domain.payment_discrepancies import check_and_alert

    return json_body(201, check_and_alert())


@app.post("/bookings/admin/cleanup", responses=ok("Cleanup"))
@admin_required
def cleanup_expired_bookings():
    """Expire unpaid bookings now (admin).

    As the scheduled expiry: PENDING bookings past their payment window are cancelled and their
    seats released."""
    cleaned = lifecycle.expire_pending_bookings()
    return {"message": f"{cleaned} bookings expirés ont été nettoyés", "cleanedCount": cleaned}


@app.post("/bookings/admin/create", responses=ok("Booking", 201, errors=(404, 409)))
@admin_required
def create_manual_booking(body: AdminBookingIn):
    """Create a booking by hand (admin).

    `isStripeBooking: false`, CONFIRMED and PAID unless `statut` says otherwise; seats taken
    atomically, price from the date block."""
    booking = domain.create_manual_booking(
        _booking_request(body),
        user_id=body.userId,
        status=body.statut.value if body.statut else None,
        allow_started=body.dateCommenceeAutorisee,
    )
    return json_body(201, booking_out(booking))


@app.get("/bookings/admin/roster/<retreatId>/<dateId>", responses=ok(None, errors=(404,), merge=CSV))
@admin_required
def date_block_roster(retreatId: str, dateId: str):
    """The roster of a date block as CSV (admin).

    One line per participant of the date's CONFIRMED and PENDING bookings: see
    docs/admin-lists.md."""
    from lutea.domain import rosters  # with the CSV writer and the file names: this route's only
    from lutea.filenames import attachment

    text, ascii_name, utf8_name = rosters.date_block_roster(parse_object_id(retreatId, RETREAT), parse_object_id(dateId, "date"))
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=text,
        headers={"Content-Disposition": attachment(ascii_name, utf8_name)},
    )


@app.get("/bookings/admin/<id>", responses=ok("Booking", errors=(404,)))
@admin_required
def get_booking(id: str):
    """One booking (admin).

    Populated as admin/all."""
    return booking_out(domain.admin_get(parse_object_id(id, BOOKING)))


@app.patch("/bookings/admin/<id>/confirm", responses=ok("Booking", errors=(404, 409)))
@admin_required
def confirm_booking(id: str, body: ConfirmBookingIn):
    """Confirm a pending booking (admin).

    The PaymentIntent must have succeeded for the booking's amount; a booking that is not pending:
    400 `Le booking n'est pas en attente`. Sends the confirmation email with the PDF."""
    return booking_out(lifecycle.admin_confirm(parse_object_id(id, BOOKING), body.stripePaymentIntentId))


@app.patch("/bookings/admin/<id>/cancel", responses=ok("Booking", errors=(404, 409)))
@admin_required
def cancel_booking(id: str):
    """Cancel a booking (admin).

    Optional body `{raison}`. Seats are released once; a paid Stripe booking is refunded."""
    booking_id = parse_object_id(id, BOOKING)
    body = _optional_body(CancelBookingIn)
    return booking_out(lifecycle.admin_cancel(booking_id, body.raison))


# --- the PDF (after admin/<id>, so /bookings/admin/pdf can't reach it) ------------------------


@app.get("/bookings/<id>/pdf", responses=ok(None, errors=(404,), merge=PDF))
@jwt_required
def booking_pdf(id: str):
    """The booking's confirmation as a PDF.

    The owner's booking only; someone else's or unknown: 404."""
    pdf, ascii_name, utf8_name = domain.booking_pdf(parse_object_id(id, BOOKING), require_principal())
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(utf8_name, safe='')}"
    return Response(status_code=200, content_type="application/pdf", body=pdf, headers={"Content-Disposition": disposition})


@app.get("/bookings/<id>/calendar", responses=ok(None, errors=(404,), merge=CALENDAR))
@owner_or_guest_required
def booking_calendar(id: str):
    """The booking as an iCalendar event (.ics) to add to a calendar.

    Its owner (session), or for a guest booking the holder of its proof (`X-Booking-Token`);
    neither: 401; someone else's or unknown: 404. docs/calendar.md."""
    from lutea import ical  # this route's only
    from lutea.filenames import attachment

    caller = _owner_or_guest()
    text, ascii_name, utf8_name = domain.booking_calendar(parse_object_id(id, BOOKING), *caller)
    return Response(
        status_code=200,
        content_type=ical.content_type(ical.PUBLISH),
        body=text,
        headers={"Content-Disposition": attachment(ascii_name, utf8_name)},
    )


lambda_handler = make_handler(app)
