"""Domain errors. Plain Python: the HTTP layer maps each class to a status in one place
(lutea.http.errors). Messages are the French texts of the wire contract."""

from __future__ import annotations

from typing import Any


class LuteaError(Exception):
    default_message = "Erreur interne du serveur"

    def __init__(
        self,
        message: str | list[str] | None = None,
        *,
        fields: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields
        self.headers = headers or {}
        super().__init__(self.message if isinstance(self.message, str) else "; ".join(self.message))


class InvalidInput(LuteaError):
    """400: the request is malformed or breaks a business rule about its content."""

    default_message = "Données invalides"


class NotAuthenticated(LuteaError):
    """401: no valid credentials."""

    default_message = "Unauthorized"


class NotAllowed(LuteaError):
    """403: authenticated, but not allowed."""

    default_message = "Forbidden resource"


class NotFound(LuteaError):
    """404: missing, or belongs to someone else."""

    default_message = "Ressource non trouvée"


class Conflict(LuteaError):
    """409: the current state forbids the operation (no seats left, wrong status)."""

    default_message = "Conflit"


class TooLarge(LuteaError):
    """413: request body too large."""

    default_message = "Requête trop volumineuse"


class RateLimited(LuteaError):
    """429: too many requests; ``retry_after`` in seconds."""

    default_message = "Trop de requêtes, veuillez réessayer plus tard"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class UpstreamFailure(LuteaError):
    """502: a provider we depend on (Stripe, Resend, reCAPTCHA) failed."""

    default_message = "Service externe indisponible"


class Unavailable(LuteaError):
    """503: one of our own stores is down (e.g. the analytics database)."""

    default_message = "Service temporairement indisponible"
