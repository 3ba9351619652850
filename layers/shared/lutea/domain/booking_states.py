"""A booking's vocabulary, shared by the modules that create, transition and read bookings:
the status names (lutea.booking_status), the payment window
and the default cancellation reason."""

from __future__ import annotations

from datetime import timedelta

from lutea.booking_status import BookingStatus, PaymentStatus

PAYMENT_WINDOW = timedelta(minutes=16)

REASON_DEFAULT = "Annulation"  # the original's default

PENDING, CONFIRMED = BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value
CANCELLED = BookingStatus.CANCELLED.value
PAY_PENDING, PAID = PaymentStatus.PENDING.value, PaymentStatus.PAID.value
FAILED, REFUNDED = PaymentStatus.FAILED.value, PaymentStatus.REFUNDED.value
