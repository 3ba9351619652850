"""HTTP conventions shared by every function."""
from lutea.http.app import create_app, json_body, make_handler
from lutea.http.guards import (
    Principal,
    admin_required,
    client_required,
    current_principal,
    jwt_required,
    optional_auth,
    require_principal,
)

__all__ = [
    "Principal", "admin_required", "client_required", "create_app", "current_principal", "json_body",
    "jwt_required", "make_handler", "optional_auth", "require_principal",
]
