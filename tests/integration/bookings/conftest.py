"""Fixtures of the bookings tests: retreats stored with their seat counters (tests/support/
catalogue.py, which also builds the booking bodies the tests send), and Stripe as the real SDK
talking to the fake server of tests/support/fake_stripe.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.catalogue import insert_retreat
from tests.support.fake_stripe import FakeStripe, use_fake_stripe


@pytest.fixture
def retreat() -> dict[str, Any]:
    return insert_retreat()


@pytest.fixture
def make_retreat() -> Callable[..., dict[str, Any]]:
    return insert_retreat


@pytest.fixture
def stripe_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with use_fake_stripe(monkeypatch) as fake:
        yield fake
