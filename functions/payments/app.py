"""Stripe routes (API.md, "Stripe — /stripe"): paying for a booking at the server's price,
reading or cancelling one's own payment, and Stripe's signed webhook. The rules live in
lutea.domain.payments and lutea.domain.payment_events (the signature: lutea.payments.signature)."""

from __future__ import annotations

from typing import Any

from lutea.domain import payment_events as webhooks
from lutea.domain import payments as domain
from lutea.http import create_app, make_handler, owner_or_guest_required
from lutea.http.docs import ok
from lutea.http.guards import header, owner_or_guest
from lutea.schemas.payments import CreatePaymentIntentIn, PaymentIntentRefIn

app = create_app()


def _caller() -> tuple[Any, str | None]:
    return owner_or_guest(app.current_event.headers)


@app.post("/stripe/create-payment-intent", responses=ok("PaymentIntentCreated", errors=(404, 409)))
@owner_or_guest_required
def create_payment_intent(body: CreatePaymentIntentIn):
    """Start paying a booking.

    The booking's owner (cookie or Bearer) or, for a guest booking, X-Booking-Token. The amount is
    the booking's `prixTotal` in cents, EUR: what the client sends is ignored. Idempotent per
    booking. Someone else's booking and an unknown one get the same 404; then the booking must be
    PENDING, unexpired and its date block not started, else 409."""
    # The amount, currency and other metadata sent by the client are ignored (API.md Fix).
    return domain.start_payment(body.metadata.bookingId, *_caller())


@app.post("/stripe/get-payment-intent", responses=ok("PaymentIntent", errors=(404,)))
@owner_or_guest_required
def get_payment_intent(body: PaymentIntentRefIn):
    """A payment's status.

    Only for the caller's own booking (or its guest token), else 404."""
    return domain.payment_intent_for(body.paymentIntentId, *_caller())


@app.post("/stripe/cancel-payment-intent", responses=ok("Success", errors=(404, 409)))
@owner_or_guest_required
def cancel_payment_intent(body: PaymentIntentRefIn):
    """Cancel a payment and its booking.

    The booking's owner or guest token only; the seats are released once."""
    return domain.cancel_payment(body.paymentIntentId, *_caller())


@app.post("/stripe/webhook", responses=ok("WebhookReceived"))
def stripe_webhook():
    """Stripe's webhook (signed).

    `Stripe-Signature` is verified on the raw body (bad or missing: 400); each event is applied
    once; a processing error answers 500 so that Stripe retries."""
    # The raw body, exactly as Stripe sent it: the signature covers those bytes (the resolver
    # has already turned a base64 body back into the same UTF-8 text).
    webhooks.handle_webhook(app.current_event.body, header(app.current_event.headers, "stripe-signature"))
    return {"received": True}


lambda_handler = make_handler(app)
