"""Finding a booking: its id from a route or from Stripe metadata, the stored document, and the
not-found messages (a missing booking, a missing date block)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.data.bookings import BookingRepository
from lutea.errors import NotFound
from lutea.wire import is_object_id

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc

MSG_BOOKING_NOT_FOUND = "Booking non trouvé"
MSG_DATE_NOT_FOUND = "Date de retraite non trouvée"


def booking_oid(value: Any) -> ObjectId:
    """A booking id from a route (already checked) or from Stripe metadata (anything): an id
    that cannot exist is simply not found."""
    if isinstance(value, ObjectId):
        return value
    if is_object_id(value):
        return ObjectId(value)
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def get_booking(booking_id: str | ObjectId) -> BookingDoc:
    """The stored booking document; ``NotFound`` (404 ``Booking non trouvé``) when there is none."""
    booking = BookingRepository().get(booking_oid(booking_id))
    if booking is None:
        raise NotFound(MSG_BOOKING_NOT_FOUND)
    return booking
