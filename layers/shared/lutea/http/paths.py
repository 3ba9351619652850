"""One spelling per path. API Gateway (REST) passes a trailing slash through to the function
and the client chooses how many slashes it sends; the rate limiter's buckets, the guards and the
router must all see the same path, or ``/auth/login/`` and ``//auth/login`` would reach the
login route under the global limit instead of the strict one."""

from __future__ import annotations

import re

_REPEATED_SLASHES = re.compile(r"/{2,}")


def normalize_path(raw: str | None) -> str:
    """``//auth//login/`` -> ``/auth/login``; the root stays ``/``."""
    path = _REPEATED_SLASHES.sub("/", "/" + (raw or "").lstrip("/"))
    return path.rstrip("/") or "/"
