"""Request models of the /stripe routes (API.md, Stripe)."""

from typing import Annotated

from pydantic import StringConstraints

from lutea.validation import LenientModel, StrictModel, object_id

# Stripe object ids: a prefix, an underscore, then letters and digits.
PaymentIntentId = Annotated[str, StringConstraints(pattern=r"^pi_[A-Za-z0-9]{1,200}$")]


class PaymentMetadataIn(LenientModel):
    """Only ``bookingId`` is read; whatever else the frontend puts in the metadata is ignored."""

    bookingId: object_id("booking")  # type: ignore[valid-type]


class CreatePaymentIntentIn(LenientModel):
    """The frontend's body. ``amount`` and ``currency`` are accepted and ignored: the server
    prices the booking itself (API.md Fix)."""

    amount: float | int | str | None = None
    currency: Annotated[str, StringConstraints(max_length=16)] | None = None
    metadata: PaymentMetadataIn


class PaymentIntentRefIn(StrictModel):
    """Body of ``get-payment-intent`` and ``cancel-payment-intent``."""

    paymentIntentId: PaymentIntentId
