"""Answers whose duration must not depend on whether an account exists.

Register and forgot-password do different work for an existing, a pending and an unknown address
(an email or none, a quota reached or not). Each branch hashes the password where one is given,
and the whole answer is padded to a floor (``UNIFORM_ANSWER_MS``) chosen above the usual cost of
sending an email, so that the branches take the same time within noise. A provider slower than
the floor still shows: the floor is a trade between that and the visitor's wait."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lutea.config import get_settings

# Replaceable in tests (a fake clock and sleep prove the padding without waiting for it).
monotonic: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


@contextmanager
def uniform_duration() -> Iterator[None]:
    """The block takes at least the configured floor (exceptions included: a 400 for a bad
    reCAPTCHA is the same for every address anyway, but a failure further in must not be quick)."""
    floor = get_settings().uniform_answer_ms / 1000
    started = monotonic()
    try:
        yield
    finally:
        remaining = floor - (monotonic() - started)
        if remaining > 0:
            sleep(remaining)
