"""The email service. Callers build an ``EmailMessage`` and call ``send``; the backend comes
from configuration: Resend when ``RESEND_API_KEY`` is set, else complete ``.eml`` files in
``EMAIL_OUTBOX_DIR``. Callers never know which."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lutea.clock import now
from lutea.config import get_settings
from lutea.errors import UpstreamFailure

if TYPE_CHECKING:
    from email.message import EmailMessage as MimeMessage


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class EmailMessage:
    to: tuple[str, ...]
    subject: str
    html: str
    text: str
    kind: str  # e.g. "booking_confirmation": for logs and metrics, never the address
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    reply_to: str | None = None
    # Sent to Resend as its Idempotency-Key: a retry of the same message is never sent twice.
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # A one-time secret in the body (a validation or reset link, a sign-in code): never stored
    # with a failed message; a retry asks for a fresh one (lutea.email.failures).
    secret: str | None = field(default=None, repr=False)


class EmailDeliveryError(UpstreamFailure):
    """The provider refused or failed. ``email`` is the message that was not delivered (kept
    for a retry by ``lutea.email.messages.notify``)."""

    default_message = "L'envoi de l'email a échoué"

    def __init__(self, message: str | None = None, *, email: EmailMessage | None = None) -> None:
        super().__init__(message)
        self.email = email


class EmailBackend(Protocol):
    def deliver(self, message: EmailMessage, sender: str) -> str: ...


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    # Imported here: only the outbox writes MIME files; the functions' cold start skips the email package.
    import email.policy
    from email.message import EmailMessage as MimeMessage
    from email.utils import formatdate, make_msgid

    mime = MimeMessage(policy=email.policy.SMTP)
    mime["From"] = sender
    mime["To"] = ", ".join(message.to)
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(now().timestamp(), usegmt=True)
    mime["Message-ID"] = make_msgid(domain="lutea.local")
    mime["X-Lutea-Kind"] = message.kind
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    for att in message.attachments:
        media_type, *raw_params = (part.strip() for part in att.content_type.split(";"))
        maintype, _, subtype = media_type.partition("/")
        # Parameters (a calendar's ``charset`` and iTIP ``method``) stay on the part's Content-Type.
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        mime.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename, params=params or None)
    return mime


class OutboxBackend:
    """Writes each message as a complete .eml file (local development and tests)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def deliver(self, message: EmailMessage, sender: str) -> str:
        # As Resend does with its Idempotency-Key: a message sent again under the same key (a
        # retry after a crash) is not delivered twice.
        sent_marker = self.directory / ".sent" / message.idempotency_key
        if sent_marker.exists():
            return sent_marker.read_text()
        message_id = uuid.uuid4().hex
        name = f"{now().strftime('%Y%m%dT%H%M%S%f')}-{message.kind}-{message_id[:8]}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.tmp"
            tmp.write_bytes(to_mime(message, sender).as_bytes())
            tmp.replace(self.directory / name)  # atomic: readers never see half a file
            sent_marker.parent.mkdir(exist_ok=True)
            sent_marker.write_text(message_id)
        except OSError as exc:  # a full or read-only disk is a delivery failure like any other
            raise EmailDeliveryError() from exc
        return message_id


# Bounded: a slow provider must not hold a Lambda (15 s) hostage. The SDK's default is 30 s.
RESEND_TIMEOUT_SECONDS = 5


class ResendBackend:
    """The official resend SDK, imported on first use (cold starts stay small)."""

    def __init__(self, api_key: str, api_base: str | None) -> None:
        self.api_key = api_key
        self.api_base = api_base

    def deliver(self, message: EmailMessage, sender: str) -> str:
        import resend

        resend.api_key = self.api_key
        # RESEND_API_URL is read by the SDK at import time only: set the module attribute.
        resend.api_url = (self.api_base or "https://api.resend.com").rstrip("/")
        if (
            not isinstance(resend.default_http_client, resend.RequestsClient)
            or getattr(resend.default_http_client, "_timeout", None) != RESEND_TIMEOUT_SECONDS
        ):
            resend.default_http_client = resend.RequestsClient(timeout=RESEND_TIMEOUT_SECONDS)
        params: dict = {
            "from": sender,
            "to": list(message.to),
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
        }
        if message.reply_to:
            params["reply_to"] = message.reply_to
        if message.attachments:
            params["attachments"] = [
                {"filename": a.filename, "content": base64.b64encode(a.content).decode(), "content_type": a.content_type}
                for a in message.attachments
            ]
        try:
            sent = resend.Emails.send(params, {"idempotency_key": message.idempotency_key})  # type: ignore[arg-type]
        except Exception as exc:
            if isinstance(exc, resend.exceptions.ResendError) and str(getattr(exc, "code", "")) in ("401", "403"):
                # A rotated key: read the Resend secret again for the next message.
                from lutea.config import refresh_secrets

                refresh_secrets()
            raise EmailDeliveryError() from exc
        return str(sent.get("id", "")) if isinstance(sent, dict) else str(getattr(sent, "id", ""))


def backend() -> EmailBackend:
    settings = get_settings()
    if settings.resend_api_key:
        return ResendBackend(settings.resend_api_key, settings.resend_api_base)
    if settings.is_production:
        # An outbox in a Lambda's /tmp reaches nobody: fail, so that the message is kept for a
        # retry (emailfailures) until RESEND_API_KEY is configured.
        raise EmailDeliveryError("Aucun fournisseur d'email configuré (RESEND_API_KEY)")
    return OutboxBackend(settings.email_outbox_dir)


def send(message: EmailMessage) -> str:
    """Deliver ``message``; raises ``EmailDeliveryError`` when the provider refuses or fails."""
    from lutea.email.addresses import is_single_address
    from lutea.observability import logger

    # Each recipient is one mailbox: a typed value must never become several (defence in depth
    # behind the request models).
    if not all(is_single_address(r) for r in (*message.to, *([message.reply_to] if message.reply_to else []))):
        raise ValueError(f"{message.kind}: a recipient is not exactly one email address")
    try:
        message_id = backend().deliver(message, get_settings().email_from)
    except EmailDeliveryError as exc:
        exc.email = message
        raise
    logger.info("email sent", extra={"kind": message.kind, "recipients": len(message.to)})
    return message_id
