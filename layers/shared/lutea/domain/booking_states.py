"""A booking's vocabulary, shared by the modules that create, transition and read bookings:
the status names (lutea.booking_status), the payment window
and the default cancellation reason."""

from __future__ import annotations

from datetime import timedelta

from lutea.booking_status import CANCELLED as CANCELLED
from lutea.booking_status import CONFIRMED as CONFIRMED
from lutea.booking_status import FAILED as FAILED
from lutea.booking_status import PAID as PAID
from lutea.booking_status import PAY_PENDING as PAY_PENDING
from lutea.booking_status import PENDING as PENDING
from lutea.booking_status import REFUNDED as REFUNDED

PAYMENT_WINDOW = timedelta(minutes=16)

REASON_DEFAULT = "Annulation"  # the original's default
