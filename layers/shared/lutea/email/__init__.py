"""Outgoing email: one service, two backends (Resend, or .eml files in a local outbox)."""

from lutea.email.service import Attachment, EmailDeliveryError, EmailMessage, send

__all__ = ["Attachment", "EmailDeliveryError", "EmailMessage", "send"]
