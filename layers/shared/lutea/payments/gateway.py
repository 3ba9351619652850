"""The payment gateway: Stripe behind a small interface that speaks plain dicts.

Callers (the payments and bookings domains, the discrepancy check) use ``get_gateway()`` and
never see the SDK. The official ``stripe`` SDK is imported on first use (cold starts of the
functions that never pay stay small); its client is created once per container and pointed at
``STRIPE_API_BASE`` when set (tests run the real SDK against a local fake server).

Errors: a missing PaymentIntent is ``NotFound``, an operation the PaymentIntent's state forbids
(cancelling a succeeded payment) is ``Conflict``, anything else Stripe or the network does
wrong is ``UpstreamFailure``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from lutea.clock import as_utc
from lutea.config import get_settings
from lutea.errors import Conflict, NotFound, UpstreamFailure
from lutea.observability import logger

# The API version the SDK's types were generated for (stripe 16.1.0). Pinned so a change of the
# account's default version in the dashboard never changes what we receive.
STRIPE_API_VERSION = "2026-10-28.endive"
# Lambda functions time out at 15 s: fail fast rather than wait for the SDK's 80 s default.
HTTP_TIMEOUT = (3.0, 8.0)  # (connect, read) seconds
MAX_NETWORK_RETRIES = 1  # the SDK retries with the same Idempotency-Key, so a retry is safe
LIST_LIMIT = 1000  # upper bound on PaymentIntents read by one listing

MESSAGE_UPSTREAM = "Le service de paiement est indisponible, veuillez réessayer"
MESSAGE_NOT_FOUND = "Paiement non trouvé"
MESSAGE_STATE = "Le paiement ne peut pas être modifié dans son état actuel"

T = TypeVar("T")


class PaymentGateway(Protocol):
    def create_payment_intent(
        self, *, booking_id: str, amount_cents: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> dict[str, Any]: ...

    def retrieve_payment_intent(self, pi_id: str) -> dict[str, Any]: ...

    def cancel_payment_intent(self, pi_id: str) -> dict[str, Any]: ...

    def refund(self, pi_id: str, amount_cents: int | None = None) -> dict[str, Any]: ...

    def list_payment_intents(self, created_after: datetime) -> list[dict[str, Any]]: ...


def _payment_intent(obj: Any) -> dict[str, Any]:
    """The fields of a PaymentIntent we use, as a plain dict (SDK objects are not dicts)."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    charge = data.get("latest_charge")
    amount_refunded = int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0
    return {
        "id": data.get("id"),
        "status": data.get("status"),
        "amount": int(data.get("amount") or 0),
        "amount_received": int(data.get("amount_received") or 0),
        "amount_refunded": amount_refunded,
        "currency": data.get("currency"),
        "client_secret": data.get("client_secret"),
        "metadata": {str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        "created": int(data.get("created") or 0),
        "latest_charge": charge.get("id") if isinstance(charge, dict) else charge,
    }


def _refund(obj: Any) -> dict[str, Any]:
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return {
        "id": data.get("id"),
        "status": data.get("status"),
        "amount": int(data.get("amount") or 0),
        "payment_intent": data.get("payment_intent"),
    }


@contextmanager
def _stripe_errors(operation: str) -> Iterator[None]:
    """Map the SDK's errors to ours. Logs the Stripe code and request id, never card data."""
    import stripe

    try:
        yield
    except stripe.InvalidRequestError as exc:
        code = getattr(exc, "code", None)
        logger.warning(
            "stripe refused", extra={"operation": operation, "code": code, "stripe_request_id": getattr(exc, "request_id", None)}
        )
        if code == "resource_missing":
            raise NotFound(MESSAGE_NOT_FOUND) from exc
        if code in ("payment_intent_unexpected_state", "charge_already_refunded"):
            raise Conflict(MESSAGE_STATE) from exc
        raise UpstreamFailure(MESSAGE_UPSTREAM) from exc
    except stripe.StripeError as exc:
        if isinstance(exc, stripe.AuthenticationError):
            # A rotated key: read the Stripe secret again for the next call.
            from lutea.config import refresh_secrets

            refresh_secrets()
        logger.error(
            "stripe failed",
            extra={
                "operation": operation,
                "error": type(exc).__name__,
                "http_status": getattr(exc, "http_status", None),
                "stripe_request_id": getattr(exc, "request_id", None),
            },
        )
        raise UpstreamFailure(MESSAGE_UPSTREAM) from exc


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str | None) -> Any:
    """One StripeClient per (key, base) and container: connections are reused across calls."""
    import stripe

    # The SDK would otherwise report request timings to Stripe and write under ~/.config.
    stripe.enable_telemetry = False
    return stripe.StripeClient(
        api_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=HTTP_TIMEOUT),
    )


class StripeGateway:
    """The real gateway: Stripe's v1 API through the official SDK."""

    def _call(self, operation: str, call: Callable[[Any], T]) -> T:
        settings = get_settings()
        client = _client(settings.stripe_secret_key, settings.stripe_api_base)
        with _stripe_errors(operation):
            return call(client)

    def create_payment_intent(
        self, *, booking_id: str, amount_cents: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        if amount_cents <= 0:
            raise ValueError("a PaymentIntent needs a positive amount")
        params = {
            "amount": amount_cents,
            "currency": currency,
            "metadata": {**metadata, "bookingId": booking_id},
            "automatic_payment_methods": {"enabled": True},
        }
        created = self._call(
            "create_payment_intent",
            lambda c: c.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key}),
        )
        return _payment_intent(created)

    def retrieve_payment_intent(self, pi_id: str) -> dict[str, Any]:
        # The charge, expanded, tells how much of the payment was refunded (the status stays
        # ``succeeded`` after a refund): accepting a payment checks the amount kept.
        return _payment_intent(
            self._call(
                "retrieve_payment_intent", lambda c: c.v1.payment_intents.retrieve(pi_id, params={"expand": ["latest_charge"]})
            )
        )

    def cancel_payment_intent(self, pi_id: str) -> dict[str, Any]:
        # Cancelling is naturally idempotent; a fixed key would replay a refusal met in a passing state.
        return _payment_intent(self._call("cancel_payment_intent", lambda c: c.v1.payment_intents.cancel(pi_id)))

    def refund(self, pi_id: str, amount_cents: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"payment_intent": pi_id}
        if amount_cents is not None:
            params["amount"] = amount_cents
        # One refund per PaymentIntent and amount, however often a webhook is redelivered.
        key = f"{pi_id}-refund-{'full' if amount_cents is None else amount_cents}"
        return _refund(self._call("refund", lambda c: c.v1.refunds.create(params=params, options={"idempotency_key": key})))

    def list_payment_intents(self, created_after: datetime) -> list[dict[str, Any]]:
        params = {
            "created": {"gte": int(as_utc(created_after).timestamp())},
            "limit": 100,
            # The charge tells whether the payment was refunded, without one request per payment.
            "expand": ["data.latest_charge"],
        }

        def collect(client: Any) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for pi in client.v1.payment_intents.list(params=params).auto_paging_iter():
                found.append(_payment_intent(pi))
                if len(found) >= LIST_LIMIT:
                    logger.warning("payment listing truncated", extra={"limit": LIST_LIMIT})
                    break
            return found

        return self._call("list_payment_intents", collect)


_override: PaymentGateway | None = None


def get_gateway() -> PaymentGateway:
    """The gateway of this container (a test may install another with ``set_gateway``)."""
    return _override if _override is not None else StripeGateway()


def set_gateway(gateway: PaymentGateway | None) -> None:
    """Install a gateway (unit tests of code that pays); ``None`` restores Stripe."""
    global _override
    _override = gateway


def reset_gateway() -> None:
    """Forget the cached Stripe clients (tests change STRIPE_API_BASE between runs)."""
    _client.cache_clear()
