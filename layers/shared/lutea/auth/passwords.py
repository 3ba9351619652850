"""Password hashing: Argon2id for every new hash; the original backend's bcrypt hashes still
verify and are replaced by an Argon2id hash at the next successful sign-in."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# OWASP Password Storage Cheat Sheet, current minimum for Argon2id: m=19 MiB, t=2, p=1
# (~35 ms per hash on the project's machines, so tests run it as production does).
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# bcrypt only reads the first 72 bytes; the original (Node bcrypt) silently truncated.
_BCRYPT_MAX_BYTES = 72


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # on first use: the routes that never hash don't import it

    return PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def is_bcrypt(stored: str) -> bool:
    return stored.startswith(_BCRYPT_PREFIXES)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (Argon2id or legacy bcrypt). Never raises."""
    if not stored or not isinstance(stored, str) or not isinstance(password, str):
        return False
    if is_bcrypt(stored):
        import bcrypt  # only legacy accounts pay for the import

        try:
            return bcrypt.checkpw(password.encode("utf-8")[:_BCRYPT_MAX_BYTES], stored.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return False
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """bcrypt hashes, and Argon2 hashes made with other parameters, are replaced on sign-in."""
    if is_bcrypt(stored):
        return True
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the account is unknown, so that an unknown email takes
    as long as a wrong password (no account enumeration by timing)."""
    return hash_password("lutea-dummy-password-never-matches")
