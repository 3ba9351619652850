"""The contact form: reCAPTCHA, the visitor's message to the team, a fixed acknowledgement."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from lutea.email import messages
from lutea.email.recaptcha import verify_recaptcha
from lutea.errors import InvalidInput
from lutea.observability import logger

SENT_MESSAGE = "Votre message a été envoyé avec succès. Nous vous répondrons dans les plus brefs délais."
FAILED_MESSAGE = "Erreur lors de l'envoi du message. Veuillez réessayer."
RECAPTCHA_FAILED = "Échec de la vérification reCAPTCHA"


class ContactForm(NamedTuple):
    last_name: str
    first_name: str
    email: str
    phone: str
    message: str
    token: str | None = None


# How long the proof of consent is kept (CNIL: three years after the last contact).
CONSENT_RETENTION = timedelta(days=3 * 365)


def _record_consent(email: str) -> None:
    """Keep the proof that this address accepted the privacy notice (RGPD art. 7): the date
    only, never the message. Best effort: the message has already reached the team."""
    from lutea.clock import now
    from lutea.data.contact_consents import ContactConsentRepository
    from lutea.data.users import normalize_email

    try:
        at = now()
        ContactConsentRepository().record(normalize_email(email) or email, at=at, expires_at=at + CONSENT_RETENTION)
    except Exception:  # noqa: BLE001 - the visitor's message was sent; say so
        logger.exception("contact consent not recorded")


def submit_contact_form(form: ContactForm) -> str:
    """Deliver the visitor's message to the team (reply-to the visitor), then acknowledge it.

    Raises ``InvalidInput`` when reCAPTCHA refuses, and ``EmailDeliveryError`` when the message
    can't reach the team (the visitor must know it was not sent). The acknowledgement is best
    effort: once the team has the message, a failed acknowledgement is kept for a retry."""
    if not verify_recaptcha(form.token):
        logger.info("contact form refused by recaptcha")
        raise InvalidInput(RECAPTCHA_FAILED)
    messages.send_contact_to_team(
        last_name=form.last_name, first_name=form.first_name, email=form.email, phone=form.phone, message=form.message
    )
    _record_consent(form.email)
    messages.notify(messages.send_contact_ack, form.email)
    return SENT_MESSAGE
