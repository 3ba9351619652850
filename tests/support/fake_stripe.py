"""The Stripe stand-in of `make dev` (infra/local/stripe_standin.py) served on 127.0.0.1 from a
thread (the LocalServer of tests/support/fake_http.py), for the real ``stripe`` SDK to talk to
(``STRIPE_API_BASE``). It keeps PaymentIntents, charges and refunds in memory, records every
request (with its Idempotency-Key), honours idempotency keys as Stripe does, and signs webhook
payloads exactly as Stripe does. Tests deliver webhooks themselves (no ``on_event``).

    with use_fake_stripe(monkeypatch) as fake:   # a FakeStripe, and the app pointed at it
        ...
        fake.succeed(pi_id)                       # the customer paid
        body, header = fake.webhook("payment_intent.succeeded", fake.payment_intents[pi_id])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.stripe_standin import (  # noqa: F401 - the tests' names for the stand-in's helpers
    RecordedRequest,
    StripeStandIn,
    event_payload,
    form_params,
    new_id,
    sign_payload,
)
from tests.support.fake_http import LocalServer, QuietHandler, send_json


@dataclass
class FakeStripe(StripeStandIn, LocalServer):
    """make dev's Stripe stand-in, served on its own port for one test or a module."""

    def __post_init__(self) -> None:
        LocalServer.__init__(self)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                raw = self.read_body().decode()
                split = urlsplit(self.path)
                pairs = parse_qsl(raw if self.command == "POST" else split.query, keep_blank_values=True)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body, extra = fake.dispatch(self.command, split.path, form_params(pairs), headers)
                send_json(self, status, body, {"Request-Id": new_id("req"), **extra})

            do_GET = do_POST = do_DELETE = _handle

        return Handler


@contextmanager
def use_fake_stripe(monkeypatch: Any, fake: FakeStripe | None = None) -> Iterator[FakeStripe]:
    """The application's Stripe gateway pointed at ``fake`` for the block: the real SDK with the
    fake's base URL, secret key and webhook secret (``monkeypatch`` env), settings reloaded, the
    cached gateway dropped on the way in and out. Without ``fake``, a new FakeStripe runs for the
    block only (give a running one to keep a server across tests)."""
    from lutea import config
    from lutea.payments import gateway

    with ExitStack() as stack:
        if fake is None:
            fake = stack.enter_context(FakeStripe())
        monkeypatch.setenv("STRIPE_API_BASE", fake.url)
        monkeypatch.setenv("STRIPE_SECRET_KEY", fake.api_key)
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
        config.reset_settings()
        gateway.reset_gateway()
        gateway.set_gateway(None)
        try:
            yield fake
        finally:
            gateway.reset_gateway()
