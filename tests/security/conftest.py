"""Fixtures of the OWASP API Top 10 suite.

Every response any test of this folder receives is scanned (autouse ``_no_leaks``): no body may
carry a password or its hash, a token or token hash, a 2FA or reset code, the guest token hash,
internal cent amounts, or a stack trace. A leak fails the test that received it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.support import leaks_in, stack_markers_in
from tests.support.catalogue import insert_retreat
from tests.support.client import ApiClient, ApiResponse
from tests.support.fake_stripe import FakeStripe, use_fake_stripe


@pytest.fixture(autouse=True)
def _no_leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ApiResponse]]:
    received: list[ApiResponse] = []
    original = ApiClient._response

    def recording(self: ApiClient, raw: dict[str, Any]) -> ApiResponse:
        response = original(self, raw)
        received.append(response)
        return response

    monkeypatch.setattr(ApiClient, "_response", recording)
    yield received
    problems: list[str] = []
    for response in received:
        content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
        if response.is_base64 or "json" not in content_type or not response.body:
            continue
        problems += [f"{response.status} {leak}" for leak in leaks_in(response.json())]
        problems += [f"{response.status} stack marker {m!r}" for m in stack_markers_in(response.body)]
    assert not problems, f"responses leaked: {problems}"


@pytest.fixture
def retreat() -> dict[str, Any]:
    return insert_retreat()


@pytest.fixture(scope="session")
def _stripe_server() -> Iterator[FakeStripe]:
    # One server for the session: stopping one costs half a second (the serve_forever poll).
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def stripe_fake(_stripe_server: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """The real Stripe SDK talking to tests/support/fake_stripe.py, emptied for each test."""
    _stripe_server.reset()
    with use_fake_stripe(monkeypatch, _stripe_server) as fake:
        yield fake


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch):
    """Set rate limits for one test (the rig raises them out of the way by default)."""
    from lutea import config

    def set_limits(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        config.reset_settings()

    return set_limits
