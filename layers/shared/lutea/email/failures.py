"""Emails that could not be delivered, kept in MongoDB (lutea.data.email_failures) for a later retry.

A document holds the complete rendered message (recipients, subject, bodies, attachments) and
its Idempotency-Key, so a retry sends exactly what the business operation produced, never twice
at Resend. Documents expire after ``RETENTION`` (they carry addresses: personal data).

A message that carries a one-time secret (a validation or reset link, a sign-in code) is stored
without it: whoever reads the database must not find a live link there. Its retry asks the
module that issued the secret for a fresh one (lutea.email.fresh_secrets); when there is none
to give (the secret was used or superseded, or its kind has no provider) the message is dropped.
"""

from __future__ import annotations

import html
import uuid
from typing import TYPE_CHECKING

from bson import ObjectId

from lutea.data.email_failures import EmailFailureRepository
from lutea.email.fresh_secrets import fresh_secret
from lutea.email.service import Attachment, EmailDeliveryError, EmailMessage, send

if TYPE_CHECKING:
    from lutea.data.documents import EmailFailureDoc

# Stands for the secret in a stored message; replaced by a fresh secret on retry.
SECRET_PLACEHOLDER = "\u2063LUTEA-SECRET\u2063"


def _without(secret: str, text: str) -> str:
    return text.replace(secret, SECRET_PLACEHOLDER).replace(html.escape(secret, quote=True), SECRET_PLACEHOLDER)


def message_to_document(message: EmailMessage) -> EmailFailureDoc:
    subject, body_html, body_text = message.subject, message.html, message.text
    if message.secret:
        subject, body_html, body_text = (_without(message.secret, part) for part in (subject, body_html, body_text))
        if any(message.secret in part for part in (subject, body_html, body_text)):
            raise ValueError(f"{message.kind}: the secret could not be taken out of the stored message")
    return {
        "kind": message.kind,
        "to": list(message.to),
        "subject": subject,
        "html": body_html,
        "text": body_text,
        "replyTo": message.reply_to,
        "idempotencyKey": message.idempotency_key,
        "needsFreshSecret": bool(message.secret),
        "attachments": [
            {"filename": a.filename, "content": a.content, "contentType": a.content_type} for a in message.attachments
        ],
    }


def document_to_message(doc: EmailFailureDoc) -> EmailMessage | None:
    """The message to send again; None when it held a secret that can't be issued afresh."""
    subject, body_html, body_text, key = doc["subject"], doc["html"], doc["text"], doc["idempotencyKey"]
    if doc.get("needsFreshSecret"):
        secret = fresh_secret(doc["kind"], doc["to"][0], doc["createdAt"]) if doc["to"] else None
        if not secret:
            return None
        subject = subject.replace(SECRET_PLACEHOLDER, secret)
        body_text = body_text.replace(SECRET_PLACEHOLDER, secret)
        body_html = body_html.replace(SECRET_PLACEHOLDER, html.escape(secret, quote=True))
        # Another content: a new key, or Resend would answer with the first attempt (if it got
        # through after all) and the fresh secret would never leave.
        key = uuid.uuid4().hex
    return EmailMessage(
        to=tuple(doc["to"]),
        subject=subject,
        html=body_html,
        text=body_text,
        kind=doc["kind"],
        reply_to=doc.get("replyTo"),
        idempotency_key=key,
        attachments=tuple(Attachment(a["filename"], bytes(a["content"]), a["contentType"]) for a in doc.get("attachments", [])),
    )


def record_failure(message: EmailMessage, error: str) -> ObjectId:
    """Keep ``message`` (without its secret) for a later retry."""
    return EmailFailureRepository().record(message_to_document(message), error)


def retry_failed_emails(*, limit: int = 50) -> dict[str, int]:
    """Send again the failed messages that are due. Returns ``{sent, failed, abandoned}``."""
    from lutea.observability import logger

    repo = EmailFailureRepository()
    counts = {"sent": 0, "failed": 0, "abandoned": 0}
    for _ in range(limit):
        doc = repo.claim_due()
        if doc is None:
            break
        message = document_to_message(doc)
        if message is None:  # its secret was used or superseded meanwhile: nothing to send
            repo.mark_sent(doc["_id"])
            counts["obsolete"] = counts.get("obsolete", 0) + 1
            continue
        try:
            send(message)
        except EmailDeliveryError as exc:
            if repo.mark_failed(doc["_id"], int(doc["attempts"]), type(exc.__cause__ or exc).__name__):
                counts["abandoned"] += 1
                logger.error("email abandoned after retries", extra={"kind": doc["kind"], "attempts": doc["attempts"]})
            else:
                counts["failed"] += 1
            continue
        repo.mark_sent(doc["_id"])
        counts["sent"] += 1
    if any(counts.values()):
        logger.info("email retry run", extra=counts)
    return counts


__all__ = ["record_failure", "retry_failed_emails"]
