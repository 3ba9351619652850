"""A booking's two statuses: the values stored in ``statut`` and ``statutPaiement``, and sent
as they are.

It sits below the domain, beside money and refund_policy, because the repositories (their
conditions), the domain (its transitions) and the wire (the enums of the request and response
models) all name the same values, and the domain must not import the wire to learn them: a
function that never validates a booking body would otherwise import every booking model at
its cold start."""

from __future__ import annotations

from enum import StrEnum


class BookingStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


# The same values as plain strings, for stored documents and query conditions: one definition
# for the repositories and the domain (lutea.domain.booking_states re-exports them).
PENDING, CONFIRMED, CANCELLED = BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value
PAY_PENDING, PAID = PaymentStatus.PENDING.value, PaymentStatus.PAID.value
FAILED, REFUNDED = PaymentStatus.FAILED.value, PaymentStatus.REFUNDED.value
