"""Route guards: one declaration per route, checked by the resolver before validation (as Nest
guards ran before pipes, so 401/403 come before 400).

    @app.get("/users")
    @admin_required
    def list_users(): ...

Inside the route, ``current_principal()`` returns who is calling (or ``None`` on public and
optional routes without credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

from lutea.auth.tokens import decode_access
from lutea.data.sessions import SessionFamilyRepository
from lutea.errors import NotAllowed, NotAuthenticated
from lutea.http.cookies import ACCESS_COOKIE, parse_cookie_header
from lutea.http.cors import is_allowed_origin

Access = Literal["public", "optional", "jwt", "client", "admin"]
F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "__lutea_access__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Principal(NamedTuple):
    user_id: str
    email: str
    role: str
    family_id: str
    mfa: bool
    via: Literal["cookie", "bearer"]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and self.mfa


_principal: ContextVar[Principal | None] = ContextVar("lutea_principal", default=None)


def _requires(level: Access) -> Callable[[F], F]:
    def mark(func: F) -> F:
        setattr(func, ACCESS_ATTR, level)
        return func

    return mark


jwt_required = _requires("jwt")
client_required = _requires("client")
admin_required = _requires("admin")
optional_auth = _requires("optional")
PROOF_ATTR = "__lutea_owner_or_guest__"


def owner_or_guest_required[G: Callable[..., Any]](func: G) -> G:
    """A route of one booking, for its owner (session) or its guest (header X-Booking-Token):
    optional authentication, and a caller with neither is 401 before the request is validated
    (the handler then checks that the proof is this booking's: ``owner_or_guest``)."""
    setattr(func, PROOF_ATTR, True)
    return optional_auth(func)


def access_of(func: Callable[..., Any]) -> Access:
    return getattr(func, ACCESS_ATTR, "public")


def check_proof(func: Callable[..., Any], principal: Principal | None, headers: dict[str, str]) -> None:
    """401 on an owner-or-guest route (``owner_or_guest_required``) without a session or a
    guest token. ``headers`` must have lower-case names."""
    if getattr(func, PROOF_ATTR, False) and principal is None and not header(headers, GUEST_TOKEN_HEADER):
        raise NotAuthenticated()


def current_principal() -> Principal | None:
    return _principal.get()


def require_principal() -> Principal:
    principal = _principal.get()
    if principal is None:
        raise NotAuthenticated()
    return principal


def lowercase_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """Header names are case-insensitive (API Gateway may pass them in any case)."""
    return {k.lower(): v for k, v in (headers or {}).items()}


GUEST_TOKEN_HEADER = "x-booking-token"
MAX_HEADER_LENGTH = 512  # longer values are ignored, never parsed or looked up


def header(headers: dict[str, str] | None, name: str) -> str | None:
    """A request header by its lower-case name, whatever case the client used; None when absent
    or over MAX_HEADER_LENGTH."""
    value = lowercase_headers(headers).get(name)
    return value if isinstance(value, str) and len(value) <= MAX_HEADER_LENGTH else None


def owner_or_guest(headers: dict[str, str] | None) -> tuple[Principal | None, str | None]:
    """(principal, guest token): the signed-in caller, or the holder of a guest booking's proof
    (header X-Booking-Token); neither is 401, before anything else is looked at."""
    principal, token = current_principal(), header(headers, GUEST_TOKEN_HEADER)
    if principal is None and not token:
        raise NotAuthenticated()
    return principal, token


def bearer_or_cookie(headers: dict[str, str], cookie_name: str = ACCESS_COOKIE) -> tuple[str | None, str | None]:
    """(token, via): the Authorization Bearer token first, else the named cookie."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip(), "bearer"
    cookie = parse_cookie_header(headers.get("cookie")).get(cookie_name)
    return (cookie, "cookie") if cookie else (None, None)


def check_csrf(method: str, headers: dict[str, str]) -> None:
    """Cookies travel with cross-site requests (SameSite=None in production): a state-changing
    request authenticated by cookie must come from an allowed origin (Origin, else Referer)."""
    if method.upper() in SAFE_METHODS:
        return
    origin = headers.get("origin")
    if not origin and headers.get("referer"):
        parts = urlsplit(headers["referer"])
        origin = f"{parts.scheme}://{parts.netloc}"
    if not is_allowed_origin(origin):
        raise NotAllowed("Origine de la requête non autorisée")


def authenticate(method: str, headers: dict[str, str], level: Access) -> Principal | None:
    """Resolve the caller for a route of the given access level; raise 401/403 as needed.
    ``headers`` must have lower-case names."""
    if level == "public":
        return None
    token, via = bearer_or_cookie(headers)
    if token is None:
        if level == "optional":
            return None
        raise NotAuthenticated()
    try:
        claims = decode_access(token)
    except NotAuthenticated:
        if level == "optional":
            return None
        raise
    if via == "cookie":
        check_csrf(method, headers)
    # A logged-out or reused-and-revoked session ends its access tokens too, and a token naming
    # another user's session is no session at all.
    if not SessionFamilyRepository().is_active(claims.family_id, user_id=claims.user_id):
        if level == "optional":
            return None
        raise NotAuthenticated()
    principal = Principal(claims.user_id, claims.email, claims.role, claims.family_id, claims.mfa, via)  # type: ignore[arg-type]
    if level == "admin" and not (principal.is_admin and _still_admin(principal.user_id)):
        raise NotAllowed()
    if level == "client" and principal.role != "client":
        raise NotAllowed()
    return principal


def _still_admin(user_id: str) -> bool:
    """The role in an access token can be 15 minutes old: admin routes check the account is
    still an admin, so that a demotion takes effect at once."""
    from bson import ObjectId

    from lutea.data.users import UserRepository
    from lutea.wire import is_object_id

    user = UserRepository().get(ObjectId(user_id)) if is_object_id(user_id) else None
    return user is not None and user.get("role") == "admin"


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)
