"""CORS policy of API.md: origins from FRONTEND_URL are echoed with credentials; outside
production, localhost / 127.0.0.1 on any port too; any other origin gets no CORS headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from lutea.config import get_settings

ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
ALLOW_HEADERS = "Content-Type,Authorization,X-Booking-Token,Stripe-Signature"
MAX_AGE = "600"


def is_allowed_origin(origin: str | None) -> bool:
    if not origin:
        return False
    origin = origin.strip().rstrip("/")
    settings = get_settings()
    if origin in settings.frontend_urls:
        return True
    if settings.is_production:
        return False
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises on "localhost:3000.evil.example", whose .hostname is "localhost"
    except ValueError:
        return False
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        return False  # an origin is scheme://host[:port], nothing else
    # The exact host, not a substring: "localhost.evil.com" is not localhost (a Fix of API.md).
    return parts.scheme in ("http", "https") and parts.hostname in ("localhost", "127.0.0.1")


def cors_headers(origin: str | None, *, preflight: bool = False) -> dict[str, str]:
    if not is_allowed_origin(origin):
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin.strip().rstrip("/"),  # type: ignore[union-attr]
        "Access-Control-Allow-Credentials": "true",
    }
    if preflight:
        headers.update(
            {
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
            }
        )
    return headers
