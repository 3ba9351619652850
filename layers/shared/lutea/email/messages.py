"""Every email the application sends, one function per kind (the triggers call these)."""
from __future__ import annotations

from lutea.email.service import EmailMessage, send
from lutea.email.templates import render


def _send(kind: str, to: str | list[str], **values: object) -> str:
    subject, text, html = render(kind, **values)
    recipients = (to,) if isinstance(to, str) else tuple(to)
    return send(EmailMessage(to=recipients, subject=subject, html=html, text=text, kind=kind))


def send_validation_link(to: str, first_name: str, link: str) -> str:
    return _send("validation_link", to, firstName=first_name, link=link)


def send_already_registered(to: str, first_name: str, login_link: str) -> str:
    return _send("already_registered", to, firstName=first_name, loginLink=login_link)


def send_two_factor_code(to: str, first_name: str, code: str) -> str:
    return _send("two_factor_code", to, firstName=first_name, code=code)


def send_password_reset(to: str, first_name: str, link: str) -> str:
    return _send("password_reset", to, firstName=first_name, link=link)
