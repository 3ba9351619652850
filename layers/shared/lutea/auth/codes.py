"""One-time secrets sent by email: the admin's 8-digit sign-in code, the password-reset token
and the registration (email validation) token. Only their hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from lutea.config import get_settings

TWO_FACTOR_DIGITS = 8


def new_two_factor_code() -> str:
    return f"{secrets.randbelow(10**TWO_FACTOR_DIGITS):0{TWO_FACTOR_DIGITS}d}"


def keyed_digest(purpose: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` under a key derived from the server's secret for ``purpose``: for
    stored values with too little entropy for a bare hash (an 8-digit code, an IPv4 address, an
    email address: a leaked database would give them away by enumeration); the key never sits
    in the database."""
    key = hmac.new(get_settings().jwt_access_secret.encode(), purpose, hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def hash_two_factor_code(code: str) -> str:
    return keyed_digest(b"lutea-2fa-code", code)


def new_link_token() -> str:
    """A random token for a link sent by email (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_link_token(token: str) -> str:
    """The stored form of a random token (emailed links, a guest booking's proof): SHA-256
    suffices for 256-bit random tokens; stored and looked up by this value."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def matches_link_token(token: str | None, stored_hash: str | None) -> bool:
    """Whether ``token`` (as presented) is the one whose hash is stored (in constant time)."""
    return bool(token) and same_hash(hash_link_token(str(token)), stored_hash)
