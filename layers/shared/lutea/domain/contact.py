"""The contact form: reCAPTCHA, the visitor's message to the team, a fixed acknowledgement."""
from __future__ import annotations

from dataclasses import dataclass

from lutea.email import messages
from lutea.email.recaptcha import verify_recaptcha
from lutea.errors import InvalidInput
from lutea.observability import logger

SENT_MESSAGE = "Votre message a été envoyé avec succès. Nous vous répondrons dans les plus brefs délais."
FAILED_MESSAGE = "Erreur lors de l'envoi du message. Veuillez réessayer."
RECAPTCHA_FAILED = "Échec de la vérification reCAPTCHA"


@dataclass(frozen=True)
class ContactForm:
    nom: str
    prenom: str
    email: str
    telephone: str
    message: str
    token: str | None = None


def submit_contact_form(form: ContactForm) -> str:
    """Deliver the visitor's message to the team (reply-to the visitor), then acknowledge it.

    Raises ``InvalidInput`` when reCAPTCHA refuses, and ``EmailDeliveryError`` when the message
    can't reach the team (the visitor must know it was not sent). The acknowledgement is best
    effort: once the team has the message, a failed acknowledgement is kept for a retry."""
    if not verify_recaptcha(form.token):
        logger.info("contact form refused by recaptcha")
        raise InvalidInput(RECAPTCHA_FAILED)
    messages.send_contact_to_team(nom=form.nom, prenom=form.prenom, email=form.email,
                                  telephone=form.telephone, message=form.message)
    messages.notify(messages.send_contact_ack, form.email)
    return SENT_MESSAGE
