"""HTTP conventions shared by every function."""

from lutea.http.app import cacheable_json_body, create_app, json_body, json_body_reused, make_handler
from lutea.http.guards import (
    Principal,
    admin_required,
    client_required,
    current_principal,
    jwt_required,
    optional_auth,
    owner_or_guest_required,
    require_principal,
)

# Success responses other than 200, declared on the route for the OpenAPI document.
CREATED = {201: {"description": "Created"}}
NO_CONTENT = {204: {"description": "No Content"}}
_CACHE_HEADERS = {
    "ETag": {"description": "Digest of the body; send it back in If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=60, stale-while-revalidate=300", "schema": {"type": "string"}},
}
CACHEABLE = {
    200: {"description": "Successful Response", "headers": _CACHE_HEADERS},
    304: {"description": "Not Modified: the ETag sent in If-None-Match is current (no body)", "headers": _CACHE_HEADERS},
}
CALENDAR = {
    200: {
        "description": "The booking as an iCalendar event (RFC 5545)",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}
PDF = {
    200: {"description": "The PDF document", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
}

__all__ = [
    "CACHEABLE",
    "CALENDAR",
    "CREATED",
    "NO_CONTENT",
    "PDF",
    "Principal",
    "admin_required",
    "cacheable_json_body",
    "client_required",
    "create_app",
    "current_principal",
    "json_body",
    "json_body_reused",
    "jwt_required",
    "make_handler",
    "optional_auth",
    "owner_or_guest_required",
    "require_principal",
]
