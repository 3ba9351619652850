"""Waiting, in end-to-end tests, for what the local server does in the background (webhooks
delivered by the Stripe stand-in, emails written to the outbox)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """The first truthy value of ``condition()``, polled every 0.2 s; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")
