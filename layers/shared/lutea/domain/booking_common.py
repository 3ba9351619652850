"""What the booking modules share (lutea.domain.bookings: creating and reading bookings;
lutea.domain.booking_lifecycle: their transitions): the status names, the payment window, the
messages both raise, loading a booking by id, and the booking metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId

from lutea.data.bookings import BookingRepository
from lutea.errors import NotFound
from lutea.schemas.bookings import BookingStatus, PaymentStatus
from lutea.wire import is_object_id

PAYMENT_WINDOW = timedelta(minutes=16)

MSG_BOOKING_NOT_FOUND = "Booking non trouvé"
MSG_DATE_NOT_FOUND = "Date de retraite non trouvée"
REASON_DEFAULT = "Annulation"  # the original's default

PENDING, CONFIRMED = BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value
CANCELLED = BookingStatus.CANCELLED.value
PAY_PENDING, PAID = PaymentStatus.PENDING.value, PaymentStatus.PAID.value
FAILED, REFUNDED = PaymentStatus.FAILED.value, PaymentStatus.REFUNDED.value


def booking_repository() -> BookingRepository:
    return BookingRepository()


def booking_oid(value: Any) -> ObjectId:
    """A booking id from a route (already checked) or from Stripe metadata (anything): an id
    that cannot exist is simply not found."""
    if isinstance(value, ObjectId):
        return value
    if is_object_id(value):
        return ObjectId(value)
    raise NotFound(MSG_BOOKING_NOT_FOUND)


def get_booking(booking_id: str | ObjectId) -> dict:
    """The stored booking document; ``NotFound`` (404 ``Booking non trouvé``) when there is none."""
    booking = booking_repository().get(booking_oid(booking_id))
    if booking is None:
        raise NotFound(MSG_BOOKING_NOT_FOUND)
    return booking
