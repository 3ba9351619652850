"""Request models of /auth and /users."""

from __future__ import annotations

import pytest
from lutea.schemas.auth import FinalizeLoginIn, RegisterIn
from lutea.schemas.users import UpdateProfileIn
from pydantic import ValidationError


def test_profile_update_accepts_only_profile_and_password_fields():
    for forbidden in ("role", "email", "isEmailVerified", "failedLoginAttempts", "lockUntil", "password"):
        with pytest.raises(ValidationError):
            UpdateProfileIn.model_validate({forbidden: "x"})
    ok = UpdateProfileIn.model_validate({"firstName": "Léa", "country": "France"})
    assert ok.model_dump(exclude_unset=True) == {"firstName": "Léa", "country": "France"}


def test_blank_password_fields_are_absent_and_new_password_follows_the_rules():
    blank = UpdateProfileIn.model_validate({"currentPassword": "", "newPassword": "", "confirmPassword": ""})
    assert (blank.currentPassword, blank.newPassword, blank.confirmPassword) == (None, None, None)
    with pytest.raises(ValidationError):
        UpdateProfileIn.model_validate({"newPassword": "sansmajuscule1!"})


def test_register_normalises_the_email_and_bounds_strings():
    model = RegisterIn.model_validate({"email": " Bob@Example.COM ", "password": "Password1!", "firstName": "B", "lastName": "C"})
    assert model.email == "bob@example.com" and model.phone is None
    with pytest.raises(ValidationError):
        RegisterIn.model_validate(
            {"email": "b@example.com", "password": "Password1!", "firstName": "B", "lastName": "C", "city": "x" * 256}
        )
    with pytest.raises(ValidationError):
        RegisterIn.model_validate({"email": {"$ne": ""}, "password": "Password1!", "firstName": "B", "lastName": "C"})


@pytest.mark.parametrize("code", ["1234567", "123456789", "abcdefgh", "1234 678", 12345678])
def test_two_factor_code_is_exactly_eight_digits(code):
    with pytest.raises(ValidationError):
        FinalizeLoginIn.model_validate({"email": "a@b.co", "code": code})
