"""One-time codes and link tokens: random, stored only as hashes."""

from __future__ import annotations

import re

from lutea.auth import codes


def test_two_factor_codes_are_eight_random_digits():
    drawn = {codes.new_two_factor_code() for _ in range(200)}

    assert all(re.fullmatch(r"\d{8}", c) for c in drawn)
    assert len(drawn) > 190


def test_two_factor_code_hash_is_keyed_and_stable():
    digest = codes.hash_two_factor_code("01234567")

    assert digest == codes.hash_two_factor_code("01234567")
    assert digest != codes.hash_two_factor_code("01234568")
    import hashlib

    assert digest != hashlib.sha256(b"01234567").hexdigest()  # not guessable without the server key


def test_link_tokens_are_long_random_and_hashed():
    token = codes.new_link_token()

    assert len(token) >= 43 and token != codes.new_link_token()
    assert re.fullmatch(r"[0-9a-f]{64}", codes.hash_link_token(token))
    assert codes.same_hash(codes.hash_link_token(token), codes.hash_link_token(token))
    assert not codes.same_hash(None, codes.hash_link_token(token))
