"""Request models of the /stripe routes."""

from __future__ import annotations

import pytest
from lutea.schemas.payments import CreatePaymentIntentIn, PaymentIntentRefIn
from pydantic import ValidationError

BOOKING_ID = "0123456789abcdef01234567"


def test_the_frontends_body_is_accepted_and_only_the_booking_id_kept() -> None:
    body = CreatePaymentIntentIn.model_validate(
        {
            "amount": 24000,
            "currency": "eur",
            "metadata": {"bookingId": BOOKING_ID, "retreatName": "x", "clientEmail": "a@b.c", "nbPlaces": 2},
            "somethingElse": True,
        }
    )
    assert body.metadata.bookingId == BOOKING_ID
    assert body.metadata.model_dump() == {"bookingId": BOOKING_ID}
    assert CreatePaymentIntentIn.model_validate({"metadata": {"bookingId": BOOKING_ID}}).amount is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"amount": 1, "currency": "eur"},
        {"metadata": {}},
        {"metadata": {"bookingId": "nope"}},
        {"metadata": {"bookingId": {"$gt": ""}}},
        {"metadata": "x"},
        {"metadata": {"bookingId": BOOKING_ID}, "currency": "e" * 17},
    ],
)
def test_a_body_without_a_valid_booking_id_is_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        CreatePaymentIntentIn.model_validate(body)


def test_payment_intent_ids_are_stripe_ids_only() -> None:
    assert PaymentIntentRefIn.model_validate({"paymentIntentId": "pi_3MtwBwLkdIwHu7ix28a3tqPa"})
    for bad in ("", "pi_", "ch_123", "pi_12/../cancel", "pi_1 ", {"$ne": None}, 12, "pi_" + "a" * 201):
        with pytest.raises(ValidationError):
            PaymentIntentRefIn.model_validate({"paymentIntentId": bad})
    with pytest.raises(ValidationError):
        PaymentIntentRefIn.model_validate({"paymentIntentId": "pi_1", "extra": 1})
