"""Password hashing: Argon2id at OWASP's parameters, legacy bcrypt verification."""

from __future__ import annotations

import bcrypt
from lutea.auth import passwords


def test_new_hashes_are_argon2id_at_owasp_parameters():
    stored = passwords.hash_password("Password1!")

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(stored, "Password1!")
    assert not passwords.verify_password(stored, "Password1?")
    assert not passwords.needs_rehash(stored)


def test_bcrypt_hashes_of_the_original_verify_and_need_rehash():
    for prefix in ("$2a$", "$2b$"):
        legacy = bcrypt.hashpw(b"Password1!", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", prefix, 1)
        assert passwords.verify_password(legacy, "Password1!")
        assert not passwords.verify_password(legacy, "password1!")
        assert passwords.needs_rehash(legacy)


def test_bcrypt_reads_72_bytes_as_the_original_did():
    long_password = "Aa1!" + "x" * 80
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()

    assert passwords.verify_password(legacy, long_password)


def test_argon2_hashes_with_other_parameters_are_upgraded():
    from argon2 import PasswordHasher

    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("Password1!")

    assert passwords.verify_password(weaker, "Password1!")
    assert passwords.needs_rehash(weaker)


def test_unusable_or_missing_hashes_never_match():
    for stored in (None, "", "!unusable", "$2b$garbage", "$argon2id$garbage"):
        assert passwords.verify_password(stored, "Password1!") is False
    assert passwords.verify_password(passwords.dummy_hash(), "Password1!") is False
    assert passwords.needs_rehash("!unusable")
