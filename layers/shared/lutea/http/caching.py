"""HTTP caching of public, anonymous answers (the catalogue): a strong ``ETag`` derived from the
exact body, ``Cache-Control`` that lets browsers and CDNs keep it briefly and revalidate in the
background, and ``304 Not Modified`` when the client already holds that body.

The ETag is a digest of the encoded body, so any change to what is served (a retreat edited,
its places changed, hidden, or a date block that has started and drops out of the catalogue)
changes it; nothing has to remember to bump a version."""

from __future__ import annotations

import hashlib

from aws_lambda_powertools.event_handler import Response, content_types

# Short: an admin's edit shows within a minute; a stale copy may be served for five more
# minutes while the browser or CDN revalidates in the background.
PUBLIC_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
# The answer carries CORS headers that depend on the Origin: a shared cache must key on it.
VARY = "Origin"


def etag_of(body: str | bytes) -> str:
    raw = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag equal under weak comparison (a CDN that
    compresses may hand back ``W/"…"``)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def cacheable_json(body: str, etag: str, if_none_match: str | None, cache_control: str = PUBLIC_CACHE_CONTROL) -> Response[str]:
    """200 with ``body``, or 304 without one when the client's copy is current."""
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": VARY}
    if matches(if_none_match, etag):
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


__all__ = ["PUBLIC_CACHE_CONTROL", "cacheable_json", "etag_of", "matches"]
