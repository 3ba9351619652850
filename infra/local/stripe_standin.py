"""A local stand-in for the part of Stripe's v1 API that Lutea uses: PaymentIntents (create,
retrieve, list, cancel), their payment or decline, refunds, and signed webhook events.

``make dev`` serves it under ``/_stripe`` (``STRIPE_API_BASE`` points the real SDK there) and
delivers its events, signed with ``STRIPE_WEBHOOK_SECRET``, to the local ``/stripe/webhook``,
as ``stripe listen --forward-to`` would. ``/_stripe/`` is a page listing the PaymentIntents with
Pay and Decline buttons; the same from a shell:

    .venv/bin/python -m infra.local.stripe_standin pay pi_…        # or: decline, refund, list

The tests' fake Stripe (tests/support/fake_stripe.py) is this class served on its own port.
Objects are kept in memory; idempotency keys are honoured as Stripe does (same key + same
parameters -> the first answer replayed; other parameters -> 400).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import itertools
import json
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"
PREFIX = "/_stripe"

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
        "api_version": API_VERSION,
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    return json.dumps(event, separators=(",", ":"))


def form_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
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


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(obj))
    return copy


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
class StripeStandIn:
    api_key: str = "sk_test_fake"
    webhook_secret: str = "whsec_fake_secret"
    page_size: int | None = None  # cap list pages (to exercise pagination)
    # Called with (event type, object) after each change Stripe would announce by webhook.
    on_event: Callable[[str, dict[str, Any]], None] | None = None
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses to answer to the next requests
    _idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        """Forget every object, request, queued failure and idempotency key (between tests)."""
        with self._lock:
            for store in (self.payment_intents, self.charges, self.refunds, self.requests, self.failures, self._idempotent):
                store.clear()

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event_type, _copy(obj))

    # --- what a customer (or a test) does ------------------------------------------------------
    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def add_payment_intent(
        self,
        *,
        amount: int,
        currency: str = "eur",
        metadata: dict[str, str] | None = None,
        status: str = "requires_payment_method",
        created: int | None = None,
    ) -> dict[str, Any]:
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
            charge = {
                "id": new_id("ch"),
                "object": "charge",
                "amount": pi["amount"],
                "amount_refunded": 0,
                "refunded": False,
                "currency": pi["currency"],
                "payment_intent": pi_id,
                "paid": True,
                "status": "succeeded",
                "metadata": dict(pi["metadata"]),
                "created": int(time.time()),
            }
            self.charges[charge["id"]] = charge
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"], last_payment_error=None)
            self._emit("payment_intent.succeeded", pi)
            return _copy(pi)

    def fail(self, pi_id: str) -> dict[str, Any]:
        """The card was declined: the PaymentIntent asks for another payment method."""
        with self._lock:
            pi = self.payment_intents[pi_id]
            pi.update(
                status="requires_payment_method",
                last_payment_error={"code": "card_declined", "message": "Your card was declined."},
            )
            self._emit("payment_intent.payment_failed", pi)
            return _copy(pi)

    def charge_of(self, pi_id: str) -> dict[str, Any]:
        with self._lock:
            return _copy(self.charges[self.payment_intents[pi_id]["latest_charge"]])

    def webhook(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[str, str]:
        """(raw body, Stripe-Signature header) of a webhook delivery."""
        body = event_payload(event_type, obj, event_id=event_id)
        return body, sign_payload(body, secret or self.webhook_secret, timestamp)

    # --- the API ---------------------------------------------------------------------------
    def _new_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], created: int | None = None
    ) -> dict[str, Any]:
        pi_id = new_id("pi")
        pi = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_payment_method",
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(8)}",
            "metadata": metadata,
            "created": created if created is not None else int(time.time()),
            "latest_charge": None,
            "livemode": False,
            "canceled_at": None,
            "cancellation_reason": None,
            "automatic_payment_methods": {"enabled": True},
        }
        self.payment_intents[pi_id] = pi
        return pi

    def dispatch(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One API request (``path`` from ``/v1``, ``headers`` lower-cased): status, body, headers."""
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
                    return (
                        400,
                        _error(
                            "idempotency_error",
                            None,
                            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                        ),
                        {},
                    )
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._route(method, path, params)
            if key and status < 500:
                self._idempotent[key] = (path, params, status, _copy(body))
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
                return 404, _error(
                    "invalid_request_error", "resource_missing", f"No such payment_intent: '{parts[2] if len(parts) > 2 else ''}'"
                )
            if method == "GET" and len(parts) == 3:
                return 200, self._expanded(pi, params)
            if method == "POST" and parts[3:] == ["cancel"]:
                return self._cancel_pi(pi)
        if parts[:2] == ["v1", "refunds"]:
            if method == "POST" and len(parts) == 2:
                return self._create_refund(params)
            if method == "GET" and len(parts) == 2:
                found = [
                    r
                    for r in self.refunds.values()
                    if not params.get("payment_intent") or r["payment_intent"] == params["payment_intent"]
                ]
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
            return 400, _error(
                "invalid_request_error",
                "payment_intent_unexpected_state",
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
            )
        pi.update(status="canceled", canceled_at=int(time.time()), cancellation_reason="requested_by_customer")
        self._emit("payment_intent.canceled", pi)
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
        return 200, {
            "object": "list",
            "url": "/v1/payment_intents",
            "has_more": len(items) > limit,
            "data": [self._expanded(p, {"expand": expand}) for p in page],
        }

    def _expanded(self, pi: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        out = _copy(pi)
        if "latest_charge" in (params.get("expand") or []) and out.get("latest_charge"):
            out["latest_charge"] = _copy(self.charges[out["latest_charge"]])
        return out

    def _create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        pi = self.payment_intents.get(params.get("payment_intent") or "")
        if pi is None:
            return 404, _error(
                "invalid_request_error", "resource_missing", f"No such payment_intent: '{params.get('payment_intent')}'"
            )
        if pi["status"] != "succeeded" or not pi.get("latest_charge"):
            return 400, _error(
                "invalid_request_error",
                "charge_not_refundable",
                "This PaymentIntent does not have a successful charge to refund.",
            )
        charge = self.charges[pi["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(params["amount"]) if params.get("amount") else remaining
        if remaining <= 0:
            return 400, _error(
                "invalid_request_error", "charge_already_refunded", f"Charge {charge['id']} has already been refunded."
            )
        if amount > remaining:
            return 400, _error("invalid_request_error", "amount_too_large", "Refund amount is greater than unrefunded amount.")
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "payment_intent": pi["id"],
            "charge": charge["id"],
            "status": "succeeded",
            "created": int(time.time()),
            "metadata": {},
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._emit("charge.refunded", charge)
        return 200, refund


def _error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    err: dict[str, Any] = {"type": kind, "message": message}
    if code:
        err["code"] = code
    return {"error": err}


# --- make dev: the stand-in served under /_stripe, its events delivered to the local API ----------

Reply = tuple[int, list[tuple[str, str]], bytes]
ACTIONS = ("pay", "decline", "refund")


class WebhookSender:
    """Delivers events one after the other from a background thread, signed, to the local
    webhook, as Stripe does: never inside the API call that caused them (the function that
    made the call may still be busy), retried a few times when the API answers 5xx."""

    def __init__(self, url: str, secret: str, log: Callable[[str], None]) -> None:
        self.url, self.secret, self.log = url, secret, log
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._run, name="stripe-webhooks", daemon=True).start()

    def __call__(self, event_type: str, obj: dict[str, Any]) -> None:
        self._queue.put((event_type, obj))

    def _run(self) -> None:
        while True:
            event_type, obj = self._queue.get()
            body = event_payload(event_type, obj)
            for attempt in range(3):
                status = self._post(body)
                if status is not None and status < 500:
                    break
                time.sleep(0.5 * (attempt + 1))
            self.log(f"stripe   {event_type} {obj.get('id')} -> webhook {status}")

    def _post(self, body: str) -> int | None:
        request = urllib.request.Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, self.secret)},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return None


def _euros(cents: int) -> str:
    return f"{cents / 100:,.2f} €".replace(",", " ").replace(".", ",")


def page(standin: StripeStandIn) -> str:
    """The list of PaymentIntents, newest first, with what a customer can do to each."""
    rows = []
    with standin._lock:
        items = sorted(standin.payment_intents.values(), key=lambda p: (p["created"], p["id"]), reverse=True)
        for pi in items:
            buttons = []
            if pi["status"] in ("requires_payment_method", "requires_confirmation", "requires_action"):
                buttons += [
                    f'<button formaction="{PREFIX}/pay/{pi["id"]}">Payer</button>',
                    f'<button formaction="{PREFIX}/decline/{pi["id"]}">Refuser la carte</button>',
                ]
            if pi["status"] == "succeeded":
                buttons.append(f'<button formaction="{PREFIX}/refund/{pi["id"]}">Rembourser</button>')
            refunded = standin.charges[pi["latest_charge"]]["amount_refunded"] if pi.get("latest_charge") else 0
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(c))}</td>"
                    for c in (
                        pi["id"],
                        _euros(pi["amount"]),
                        pi["status"] + (" (remboursé)" if refunded else ""),
                        pi["metadata"].get("bookingId", ""),
                    )
                )
                + f'<td><form method="post">{"".join(buttons)}</form></td></tr>'
            )
    body = "".join(rows) or '<tr><td colspan="5">Aucun paiement : créez-en un avec POST /stripe/create-payment-intent.</td></tr>'
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Stripe local</title>
<style>body{{font:15px system-ui;margin:2em}}td,th{{padding:.3em .8em;text-align:left}}button{{margin-right:.4em}}</style>
</head><body><h1>Stripe local (make dev)</h1>
<p>Les PaymentIntents créés par l'API locale. « Payer » et « Refuser la carte » font ce que ferait
le client sur la page de paiement ; l'événement signé est livré à <code>/stripe/webhook</code>.</p>
<table><tr><th>PaymentIntent</th><th>Montant</th><th>Statut</th><th>bookingId</th><th></th></tr>{body}</table>
</body></html>"""


def act(standin: StripeStandIn, action: str, pi_id: str) -> tuple[int, dict[str, Any]]:
    """A customer's (or the dashboard's) action on a PaymentIntent: pay, decline or refund."""
    with standin._lock:
        pi = standin.payment_intents.get(pi_id)
        if pi is None:
            return 404, _error("invalid_request_error", "resource_missing", f"No such payment_intent: '{pi_id}'")
        if action == "refund":
            return standin._create_refund({"payment_intent": pi_id})
        if pi["status"] in ("succeeded", "canceled"):
            return 400, _error(
                "invalid_request_error", "payment_intent_unexpected_state", f"This PaymentIntent has a status of {pi['status']}."
            )
        return 200, standin.succeed(pi_id) if action == "pay" else standin.fail(pi_id)


def serve(standin: StripeStandIn, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None) -> Reply:
    """A request to ``/_stripe/…`` on the local server (``headers`` lower-cased)."""
    sub = path[len(PREFIX) :] or "/"
    if sub.startswith("/v1/"):
        pairs = parse_qsl((body or b"").decode() if method == "POST" else query, keep_blank_values=True)
        status, payload, extra = standin.dispatch(method, sub, form_params(pairs), headers)
        return status, [("Content-Type", "application/json"), *extra.items()], json.dumps(payload).encode()
    if sub == "/" and method in ("GET", "HEAD"):
        return 200, [("Content-Type", "text/html; charset=utf-8")], page(standin).encode()
    found = re.fullmatch(r"/(pay|decline|refund)/([\w-]+)", sub)
    if found and method == "POST":
        origin = headers.get("origin")
        if origin and urlsplit(origin).hostname not in ("localhost", "127.0.0.1"):
            # Another site's page cannot press these buttons (a local frontend may).
            return 403, [("Content-Type", "application/json")], b'{"error":"cross-origin"}'
        status, payload = act(standin, found.group(1), found.group(2))
        if "text/html" in headers.get("accept", "") and status == 200:
            return 303, [("Location", f"{PREFIX}/"), ("Content-Type", "text/plain")], b""
        return status, [("Content-Type", "application/json")], json.dumps(payload).encode()
    return (
        404,
        [("Content-Type", "application/json")],
        json.dumps(_error("invalid_request_error", None, f"Unrecognized request URL ({method}: {path})")).encode(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Act on a PaymentIntent of make dev's Stripe stand-in.")
    parser.add_argument("action", choices=(*ACTIONS, "list"))
    parser.add_argument("payment_intent", nargs="?", help="pi_… (not for list)")
    parser.add_argument("--api", default="http://127.0.0.1:3001", help="the local API (make dev)")
    args = parser.parse_args(argv)
    if args.action == "list":
        request = urllib.request.Request(
            f"{args.api}{PREFIX}/v1/payment_intents?limit=100", headers={"Authorization": "Bearer " + _local_key()}
        )
    elif not args.payment_intent:
        parser.error(f"{args.action} needs a PaymentIntent id")
    else:
        request = urllib.request.Request(f"{args.api}{PREFIX}/{args.action}/{args.payment_intent}", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        print(exc.read().decode())
        return 1
    if args.action == "list":
        for pi in payload["data"]:
            print(f"{pi['id']}  {_euros(pi['amount']):>12}  {pi['status']:<24} {pi['metadata'].get('bookingId', '')}")
    else:
        print(f"{payload['id']}: {payload.get('status')}")
    return 0


def _local_key() -> str:
    import os

    return os.environ.get("STRIPE_SECRET_KEY", "sk_test_local")


if __name__ == "__main__":
    raise SystemExit(main())
