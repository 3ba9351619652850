"""Who issues a fresh one-time secret for the retry of a failed email that held one.

A message with a validation or reset link is stored without it (lutea.email.failures); its
retry asks the module that issued the link for a fresh one. That module registers here when it
is imported; this module imports nothing, so registering costs a function's cold start nothing
(the account routes import the email machinery only when they send)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

# kind -> f(recipient, failed_at) -> a fresh secret for that recipient, or None when the
# message must not be sent any more (the secret was used, or a newer message was sent since).
FreshSecret = Callable[[str, datetime], "str | None"]
_providers: dict[str, FreshSecret] = {}


def register(kind: str, provider: FreshSecret) -> None:
    """The module that issues the secrets of ``kind`` says how to issue a fresh one on retry."""
    _providers[kind] = provider


def fresh_secret(kind: str, recipient: str, failed_at: datetime) -> str | None:
    """A fresh secret of ``kind`` for ``recipient``; None when there is none to give (used or
    superseded meanwhile, or no module issues this kind)."""
    provider = _providers.get(kind)
    return provider(recipient, failed_at) if provider is not None else None
