"""Access and refresh tokens: HS256, distinct keys, a ``typ`` claim, algorithm pinned on decode.

Access tokens carry ``fam``, the refresh family (sign-in session) they belong to, so that a
logout or a detected refresh-token reuse also ends the access tokens of that session, and
``mfa`` (true once an admin has passed the 2FA step).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, NamedTuple

from lutea.clock import now
from lutea.config import get_settings
from lutea.errors import NotAuthenticated

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
# A sign-in session ends this long after the sign-in however often it is refreshed: a stolen
# refresh token kept fresh by its thief still dies.
SESSION_MAX_AGE = timedelta(days=30)
_ALGORITHM = "HS256"
ISSUER = "lutea"


class AccessClaims(NamedTuple):
    user_id: str
    email: str
    role: str
    family_id: str
    mfa: bool


class RefreshClaims(NamedTuple):
    user_id: str
    family_id: str
    jti: str


def new_id() -> str:
    return secrets.token_urlsafe(24)


def _encode(claims: dict[str, Any], key: str, ttl: timedelta) -> str:
    issued = now()
    payload = {**claims, "iss": ISSUER, "iat": int(issued.timestamp()), "exp": int((issued + ttl).timestamp())}
    import jwt  # imported on first use: public requests never pay for it

    return jwt.encode(payload, key, algorithm=_ALGORITHM)


def _decode(token: str, key: str, typ: str) -> dict[str, Any]:
    if not token or len(token) > 4096:
        raise NotAuthenticated()
    import jwt  # imported on first use: public requests never pay for it

    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            # Expiry is checked below against our clock (replaceable in tests), not PyJWT's.
            options={"require": ["exp", "iat", "sub", "typ"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated() from exc
    if claims.get("typ") != typ or claims["exp"] < now().timestamp():
        raise NotAuthenticated()
    return claims


def issue_access(*, user_id: str, email: str, role: str, family_id: str, mfa: bool) -> str:
    claims = {"sub": user_id, "email": email, "role": role, "fam": family_id, "mfa": mfa, "typ": "access"}
    return _encode(claims, get_settings().jwt_access_secret, ACCESS_TTL)


def issue_refresh(*, user_id: str, family_id: str, jti: str) -> str:
    claims = {"sub": user_id, "fam": family_id, "jti": jti, "typ": "refresh"}
    return _encode(claims, get_settings().jwt_refresh_secret, REFRESH_TTL)


def decode_access(token: str) -> AccessClaims:
    c = _decode(token, get_settings().jwt_access_secret, "access")
    try:
        return AccessClaims(str(c["sub"]), str(c["email"]), str(c["role"]), str(c["fam"]), bool(c.get("mfa")))
    except KeyError as exc:
        raise NotAuthenticated() from exc


def decode_refresh(token: str) -> RefreshClaims:
    c = _decode(token, get_settings().jwt_refresh_secret, "refresh")
    try:
        return RefreshClaims(str(c["sub"]), str(c["fam"]), str(c["jti"]))
    except KeyError as exc:
        raise NotAuthenticated() from exc
