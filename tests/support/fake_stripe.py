"""A small fake of Stripe's v1 HTTP API on 127.0.0.1, served from a thread (the LocalServer of
tests/support/fake_http.py), for the real ``stripe`` SDK to talk to (``STRIPE_API_BASE``). It
keeps PaymentIntents, charges and refunds in memory, records every request (with its
Idempotency-Key), honours idempotency keys as Stripe does (same key + same parameters -> the
first response replayed; same key + other parameters -> 400), and signs webhook payloads
exactly as Stripe does.

    with use_fake_stripe(monkeypatch) as fake:   # a FakeStripe, and the app pointed at it
        ...
        fake.succeed(pi_id)                       # the customer paid
        body, header = fake.webhook("payment_intent.succeeded", fake.payment_intents[pi_id])
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.fake_http import LocalServer, QuietHandler, send_json

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}{secrets.token_hex(6)}"


def sign_payload(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send: ``t=<ts>,v1=<HMAC-SHA256 of "{t}.{payload}">``."""
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), f"{ts}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> str:
    """A Stripe event as the raw JSON body of a webhook delivery."""
    event = {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    return json.dumps(event, separators=(",", ":"))


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[bookingId]=x``, ``expand[0]=y``) back to a dict."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                if part == "[]" or part.isdigit():
                    node.append(value)
                else:
                    node[part] = value
            else:
                nxt_is_list = parts[i + 1] == "[]" or parts[i + 1].isdigit()
                if isinstance(node, list):
                    node.append([] if nxt_is_list else {})
                    node = node[-1]
                else:
                    node = node.setdefault(part, [] if nxt_is_list else {})
    return out


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class FakeStripe(LocalServer):
    api_key: str = "sk_test_fake"
    webhook_secret: str = "whsec_fake_secret"
    page_size: int | None = None  # cap list pages (to exercise pagination)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses to answer to the next requests
    _idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        super().__init__()

    def reset(self) -> None:
        """Forget every object, request, queued failure and idempotency key (between tests)."""
        with self._lock:
            for store in (self.payment_intents, self.charges, self.refunds, self.requests, self.failures,
                          self._idempotent):
                store.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                raw = self.read_body().decode()
                split = urlsplit(self.path)
                pairs = parse_qsl(raw if self.command == "POST" else split.query, keep_blank_values=True)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body, extra = fake._dispatch(self.command, split.path, _nest(pairs), headers)
                send_json(self, status, body, {"Request-Id": new_id("req"), **extra})

            do_GET = do_POST = do_DELETE = _handle

        return Handler

    # --- what tests do ---------------------------------------------------------------------
    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def add_payment_intent(self, *, amount: int, currency: str = "eur", metadata: dict[str, str] | None = None,
                           status: str = "requires_payment_method", created: int | None = None) -> dict[str, Any]:
        """A PaymentIntent created elsewhere (e.g. straight in the dashboard)."""
        with self._lock:
            pi = self._new_payment_intent(amount, currency, metadata or {}, created)
        if status == "succeeded":
            return self.succeed(pi["id"])
        pi["status"] = status
        return pi

    def succeed(self, pi_id: str) -> dict[str, Any]:
        """The customer paid: the PaymentIntent succeeds with a charge for its amount."""
        with self._lock:
            pi = self.payment_intents[pi_id]
            charge = {"id": new_id("ch"), "object": "charge", "amount": pi["amount"], "amount_refunded": 0,
                      "refunded": False, "currency": pi["currency"], "payment_intent": pi_id, "paid": True,
                      "status": "succeeded", "metadata": dict(pi["metadata"]), "created": int(time.time())}
            self.charges[charge["id"]] = charge
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"])
            return json.loads(json.dumps(pi))

    def fail(self, pi_id: str) -> dict[str, Any]:
        """The card was declined: the PaymentIntent asks for another payment method."""
        with self._lock:
            pi = self.payment_intents[pi_id]
            pi.update(status="requires_payment_method",
                      last_payment_error={"code": "card_declined", "message": "Your card was declined."})
            return json.loads(json.dumps(pi))

    def charge_of(self, pi_id: str) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self.charges[self.payment_intents[pi_id]["latest_charge"]]))

    def webhook(self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None,
                secret: str | None = None, timestamp: int | None = None) -> tuple[str, str]:
        """(raw body, Stripe-Signature header) of a webhook delivery."""
        body = event_payload(event_type, obj, event_id=event_id)
        return body, sign_payload(body, secret or self.webhook_secret, timestamp)

    # --- the API ---------------------------------------------------------------------------
    def _new_payment_intent(self, amount: int, currency: str, metadata: dict[str, str],
                            created: int | None = None) -> dict[str, Any]:
        pi_id = new_id("pi")
        pi = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency, "status": "requires_payment_method",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(8)}", "metadata": metadata,
            "created": created if created is not None else int(time.time()), "latest_charge": None,
            "livemode": False, "canceled_at": None, "cancellation_reason": None,
            "automatic_payment_methods": {"enabled": True},
        }
        self.payment_intents[pi_id] = pi
        return pi

    def _dispatch(self, method: str, path: str, params: dict[str, Any],
                  headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return 401, _error("invalid_request_error", None, "Invalid API Key provided"), {}
            if self.failures:
                return self.failures.pop(0), _error("api_error", None, "Something went wrong on Stripe's end."), {}
            key = headers.get("idempotency-key") if method == "POST" else None
            if key and key in self._idempotent:
                first_path, first_params, status, body = self._idempotent[key]
                if (first_path, first_params) != (path, params):
                    return 400, _error("idempotency_error", None, "Keys for idempotent requests can only be "
                                       "used with the same parameters they were first used with."), {}
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._route(method, path, params)
            if key and status < 500:
                self._idempotent[key] = (path, params, status, json.loads(json.dumps(body)))
            return status, body, {}

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self._create_pi(params)
            if method == "GET" and len(parts) == 2:
                return self._list_pi(params)
            pi = self.payment_intents.get(parts[2]) if len(parts) > 2 else None
            if pi is None:
                return 404, _error("invalid_request_error", "resource_missing",
                                   f"No such payment_intent: '{parts[2] if len(parts) > 2 else ''}'")
            if method == "GET" and len(parts) == 3:
                return 200, self._expanded(pi, params)
            if method == "POST" and parts[3:] == ["cancel"]:
                return self._cancel_pi(pi)
        if parts[:2] == ["v1", "refunds"]:
            if method == "POST" and len(parts) == 2:
                return self._create_refund(params)
            if method == "GET" and len(parts) == 2:
                found = [r for r in self.refunds.values()
                         if not params.get("payment_intent") or r["payment_intent"] == params["payment_intent"]]
                return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/refunds"}
        return 404, _error("invalid_request_error", None, f"Unrecognized request URL ({method}: {path})")

    def _create_pi(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return 400, _error("invalid_request_error", "parameter_missing", "Missing required param: amount.")
        if amount < 50:
            return 400, _error("invalid_request_error", "amount_too_small", "Amount must be at least €0.50 eur")
        if not params.get("currency"):
            return 400, _error("invalid_request_error", "parameter_missing", "Missing required param: currency.")
        pi = self._new_payment_intent(amount, params["currency"], dict(params.get("metadata") or {}))
        return 200, pi

    def _cancel_pi(self, pi: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if pi["status"] in ("succeeded", "canceled"):
            return 400, _error("invalid_request_error", "payment_intent_unexpected_state",
                               f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.")
        pi.update(status="canceled", canceled_at=int(time.time()), cancellation_reason="requested_by_customer")
        return 200, pi

    def _list_pi(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        items = sorted(self.payment_intents.values(), key=lambda p: (p["created"], p["id"]), reverse=True)
        created = params.get("created") or {}
        if isinstance(created, dict) and created.get("gte"):
            items = [p for p in items if p["created"] >= int(created["gte"])]
        if params.get("starting_after"):
            ids = [p["id"] for p in items]
            idx = ids.index(params["starting_after"]) + 1 if params["starting_after"] in ids else len(ids)
            items = items[idx:]
        limit = int(params.get("limit") or 10)
        if self.page_size:
            limit = min(limit, self.page_size)
        page = items[:limit]
        expand = [e.removeprefix("data.") for e in params.get("expand") or []]
        return 200, {"object": "list", "url": "/v1/payment_intents", "has_more": len(items) > limit,
                     "data": [self._expanded(p, {"expand": expand}) for p in page]}

    def _expanded(self, pi: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        out = json.loads(json.dumps(pi))
        if "latest_charge" in (params.get("expand") or []) and out.get("latest_charge"):
            out["latest_charge"] = json.loads(json.dumps(self.charges[out["latest_charge"]]))
        return out

    def _create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        pi = self.payment_intents.get(params.get("payment_intent") or "")
        if pi is None:
            return 404, _error("invalid_request_error", "resource_missing",
                               f"No such payment_intent: '{params.get('payment_intent')}'")
        if pi["status"] != "succeeded" or not pi.get("latest_charge"):
            return 400, _error("invalid_request_error", "charge_not_refundable",
                               "This PaymentIntent does not have a successful charge to refund.")
        charge = self.charges[pi["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(params["amount"]) if params.get("amount") else remaining
        if remaining <= 0:
            return 400, _error("invalid_request_error", "charge_already_refunded",
                               f"Charge {charge['id']} has already been refunded.")
        if amount > remaining:
            return 400, _error("invalid_request_error", "amount_too_large",
                               "Refund amount is greater than unrefunded amount.")
        refund = {"id": new_id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
                  "payment_intent": pi["id"], "charge": charge["id"], "status": "succeeded",
                  "created": int(time.time()), "metadata": {}}
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        return 200, refund


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


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    err: dict[str, Any] = {"type": kind, "message": message}
    if code:
        err["code"] = code
    return {"error": err}
