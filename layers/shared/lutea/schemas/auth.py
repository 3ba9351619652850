"""Request bodies of the /auth routes (unknown fields rejected, strings bounded)."""

from typing import Annotated

from pydantic import StringConstraints

from lutea.validation import Email, LenientModel, Name, Password, ShortText, StrictModel

TwoFactorCode = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# What a person may type at sign-in: bounded, but never judged (a wrong one is just wrong).
TypedEmail = Annotated[str, StringConstraints(min_length=1, max_length=254)]
TypedPassword = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RegisterIn(StrictModel):
    email: Email
    password: Password
    firstName: Name
    lastName: Name
    # Required, but checked by the domain so that a missing one gives the original's
    # "Champs manquants : …" message.
    phone: ShortText | None = None
    address: ShortText | None = None
    city: ShortText | None = None
    postalCode: ShortText | None = None
    country: ShortText | None = None
    token: Annotated[str, StringConstraints(max_length=4096)] | None = None  # reCAPTCHA


class ValidateEmailIn(StrictModel):
    token: LinkToken


class LoginIn(LenientModel):
    """The original read these two fields through passport-local, with no DTO: other fields
    were ignored, and still are (a frontend sending e.g. a reCAPTCHA token keeps working)."""

    email: TypedEmail
    password: TypedPassword


class FinalizeLoginIn(StrictModel):
    email: TypedEmail
    code: TwoFactorCode


class VerifyCodeIn(StrictModel):
    code: TwoFactorCode


class RefreshIn(LenientModel):
    """The original read no body at all here: other fields are ignored."""

    refresh_token: Annotated[str, StringConstraints(max_length=4096)] | None = None


class ForgotPasswordIn(StrictModel):
    email: Email


class ResetPasswordIn(StrictModel):
    token: LinkToken
    newPassword: Password
