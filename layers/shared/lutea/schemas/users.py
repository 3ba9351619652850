"""Request bodies of the /users routes."""

from typing import Annotated, Any

from pydantic import StringConstraints, field_validator

from lutea.validation import Name, Password, ShortText, StrictModel

TypedPassword = Annotated[str, StringConstraints(max_length=1024)]


class UpdateProfileIn(StrictModel):
    """Only these fields: role, email, verification and lockout fields can never be set."""

    firstName: Name | None = None
    lastName: Name | None = None
    phone: ShortText | None = None
    address: ShortText | None = None
    city: ShortText | None = None
    postalCode: ShortText | None = None
    country: ShortText | None = None
    currentPassword: TypedPassword | None = None
    newPassword: Password | None = None
    confirmPassword: TypedPassword | None = None

    @field_validator("currentPassword", "newPassword", "confirmPassword", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        # The profile form sends empty password fields when the password is not changed.
        return None if value == "" else value


class ValidatePasswordIn(StrictModel):
    currentPassword: TypedPassword


class DeleteAccountIn(StrictModel):
    """``POST /users/profile/delete``: the account's password, typed again (docs/rgpd.md)."""

    currentPassword: TypedPassword
