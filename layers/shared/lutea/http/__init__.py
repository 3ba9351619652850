"""HTTP conventions shared by every function."""
from lutea.http.app import create_app, json_body, json_body_reused, make_handler
from lutea.http.guards import (
    Principal,
    admin_required,
    client_required,
    current_principal,
    jwt_required,
    optional_auth,
    require_principal,
)

# Success responses other than 200, declared on the route for the OpenAPI document.
CREATED = {201: {"description": "Created"}}
NO_CONTENT = {204: {"description": "No Content"}}
PDF = {200: {"description": "The PDF document",
             "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}

__all__ = [
    "CREATED", "NO_CONTENT", "PDF",
    "Principal", "admin_required", "client_required", "create_app", "current_principal", "json_body", "json_body_reused",
    "jwt_required", "make_handler", "optional_auth", "require_principal",
]
