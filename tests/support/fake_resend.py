"""Small local HTTP fakes for the providers the email module calls, served on 127.0.0.1 from a
thread (tests/support/fake_http.py), for the real clients to talk to.

``FakeResend`` accepts ``POST /emails`` as Resend does: it checks ``Authorization: Bearer <key>``,
records the JSON body (and the Idempotency-Key) and answers ``{"id": ...}``; ``fail_with(status)``
makes the following requests fail. ``FakeRecaptcha`` answers ``siteverify`` form POSTs.

    with use_fake_resend(monkeypatch) as fake:   # a FakeResend, and the app pointed at it
        ...
        assert fake.sent[0]["to"] == ["someone@example.test"]
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.support.fake_http import LocalServer, QuietHandler, send_json

_ids = itertools.count(1)


@dataclass
class ResendRequest:
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeResend(LocalServer):
    api_key: str = "re_test_key"
    requests: list[ResendRequest] = field(default_factory=list)
    failure_status: int | None = None
    # Fail only the emails this predicate selects (given the JSON body), e.g. one recipient.
    fail_if: Callable[[dict[str, Any]], bool] | None = None
    rejected_auth: int = 0

    def __post_init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The JSON bodies of the emails accepted."""
        return [r.body for r in self.requests]

    def fail_with(self, status: int | None = 500) -> None:
        """Answer every following request with ``status`` (``None``: work again)."""
        self.failure_status = status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.read_body()
                if self.path.rstrip("/") != "/emails":
                    send_json(self, 404, {"statusCode": 404, "name": "not_found", "message": "Not found"})
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    with fake._lock:
                        fake.rejected_auth += 1
                    send_json(self, 401, {"statusCode": 401, "name": "missing_api_key", "message": "Bad key"})
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    send_json(self, 422, {"statusCode": 422, "name": "validation_error", "message": "Invalid JSON"})
                    return
                status = fake.failure_status
                if status is None and fake.fail_if is not None and fake.fail_if(body):
                    status = 500
                if status is not None:
                    send_json(self, status, {"statusCode": status, "name": "application_error", "message": "Failure"})
                    return
                with fake._lock:
                    fake.requests.append(ResendRequest(body, {k.lower(): v for k, v in self.headers.items()}))
                send_json(self, 200, {"id": f"{uuid.uuid4()}-{next(_ids)}"})

        return Handler


@contextmanager
def use_fake_resend(monkeypatch: Any, *, api_key: str = "re_test_key") -> Iterator[FakeResend]:
    """A FakeResend running for the block, and the application's Resend backend pointed at it
    (``RESEND_API_KEY``/``RESEND_API_BASE`` through ``monkeypatch``, settings reloaded)."""
    from lutea import config

    with FakeResend(api_key=api_key) as fake:
        monkeypatch.setenv("RESEND_API_KEY", api_key)
        monkeypatch.setenv("RESEND_API_BASE", fake.url)
        config.reset_settings()
        yield fake


@dataclass
class FakeRecaptcha(LocalServer):
    """Google's siteverify: ``accepted`` tokens succeed (with ``score``), any other fails."""

    secret: str = "recaptcha-test-secret"
    accepted: set[str] = field(default_factory=lambda: {"good-token"})
    score: float | None = 0.9
    requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                form = {k: v[-1] for k, v in parse_qs(self.read_body().decode()).items()}
                fake.requests.append(form)
                ok = form.get("secret") == fake.secret and form.get("response") in fake.accepted
                payload: dict[str, Any] = {"success": ok}
                if ok and fake.score is not None:
                    payload["score"] = fake.score
                if not ok:
                    payload["error-codes"] = ["invalid-input-response"]
                send_json(self, 200, payload)

        return Handler
