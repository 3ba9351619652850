"""Request body of POST /email/contact (the original's ContactDto, with bounded lengths)."""

from typing import Annotated

from pydantic import StrictBool, StringConstraints, field_validator

from lutea.validation import Email, StrictModel

ContactName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)]
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
RecaptchaToken = Annotated[str, StringConstraints(max_length=4096)]

RGPD_REQUIRED = "Vous devez accepter la politique de confidentialité (rgpd)"


class ContactIn(StrictModel):
    nom: ContactName
    prenom: ContactName
    email: Email
    telephone: Phone
    message: MessageText
    rgpd: StrictBool
    token: RecaptchaToken | None = None

    @field_validator("rgpd")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        # The original accepted false: consent is required to process the message.
        if value is not True:
            raise ValueError(RGPD_REQUIRED)
        return value
