"""Per-client-IP rate limits of API.md. Fixed one-minute windows.

In AWS the global limit lives at the edge (the WAF rate rule of template.yaml, 60-second window,
``RATE_LIMIT_GLOBAL_AT_EDGE``): the app then keeps only the strict tiers, so that read-only
traffic writes no counter. ``make dev`` and any deployment without the WAF keep every limit here.

The client IP comes from the API Gateway request context (``identity.sourceIp``), never from
a header the client controls (X-Forwarded-For can be forged). A client is an IPv4 address or an
IPv6 /64: every IPv6 customer is given at least a /64, so counting full IPv6 addresses would
give one client 2^64 budgets (RFC 6177; an IPv4 address written as IPv6 is the IPv4 client).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lutea.clock import now
from lutea.config import get_settings
from lutea.data.rate_limits import RateLimitRepository
from lutea.errors import RateLimited
from lutea.observability import logger, metrics

# Routes that guess secrets or send email get the strict limit.
STRICT_PATHS = frozenset(
    {
        "/auth/login",
        "/auth/2fa/finalize",
        "/auth/2fa/verify",
        "/auth/forgot-password",
        "/auth/reset-password",
        "/auth/register",
        "/auth/validate-email",
        "/users/validate-password",
        "/users/profile/delete",
    }
)
# The waiting list emails an address and its links carry secrets.
STRICT_PREFIXES = ("/users/check-temporary/", "/bookings/waiting-list")
CONTACT_PATHS = frozenset({"/email/contact"})
# Creating a booking holds seats: its own, stricter tier (POST only).
BOOKING_PATHS = frozenset({"/bookings"})
MESSAGES = {"booking": "Trop de réservations tentées depuis cette connexion, veuillez réessayer dans une minute"}
# Stripe retries from a few addresses and is authenticated by signature: never throttled here.
EXEMPT_PATHS = frozenset({"/stripe/webhook"})


def client_ip(event: dict[str, Any]) -> str:
    """The client as every per-client limit counts it: its IPv4 address, or its IPv6 /64."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return client_key(str(identity.get("sourceIp") or "unknown"))


def client_key(source_ip: str) -> str:
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return source_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _bucket(path: str, method: str = "GET") -> tuple[str, int] | None:
    settings = get_settings()
    if path in EXEMPT_PATHS:
        return None
    if path in BOOKING_PATHS and method.upper() == "POST":
        return "booking", settings.rate_limit_booking_per_minute
    if path in CONTACT_PATHS:
        return "contact", settings.rate_limit_contact_per_minute
    if path in STRICT_PATHS or path.startswith(STRICT_PREFIXES):
        return "strict", settings.rate_limit_strict_per_minute
    return "global", settings.rate_limit_per_minute


def enforce(event: dict[str, Any]) -> None:
    """Count the request against the global limit (unless the edge holds it) and, for sensitive
    routes, a stricter one. Raises RateLimited (429 with Retry-After) past a limit."""
    path = event.get("path") or "/"
    specific = _bucket(path, str(event.get("httpMethod") or "GET"))
    if specific is None:
        return
    settings = get_settings()
    buckets = [] if settings.rate_limit_global_at_edge else [("global", settings.rate_limit_per_minute)]
    if specific[0] != "global":
        buckets.append(specific)
    if not buckets:
        return
    ip = client_ip(event)
    current = now()
    window_start = current.replace(second=0, microsecond=0)
    window_end = window_start + timedelta(minutes=1)
    retry_after = max(1, int((window_end - current).total_seconds()) + 1)
    repo = RateLimitRepository()
    for name, limit in buckets:
        count = repo.hit(f"{name}:{ip}:{int(window_start.timestamp())}", window_end)
        if count > limit:
            metrics.add_metric(name="RateLimitedRequests", unit=MetricUnit.Count, value=1)
            # The route's template, not the path: /users/check-temporary/<email> holds an address.
            logger.info("rate limited", extra={"bucket": name, "route": event.get("resource") or "unmatched"})
            raise RateLimited(retry_after, MESSAGES.get(name))
