"""reCAPTCHA verification (the original's ``EmailService.verifyRecaptcha``), used by the contact
form and available to registration. Standard library only: one form POST with a timeout."""

from __future__ import annotations

import json

from lutea.config import get_settings

TIMEOUT_SECONDS = 3
MIN_SCORE = 0.5  # reCAPTCHA v3: below this, a bot (as the original)


def verify_recaptcha(token: str | None) -> bool:
    """True when the token is accepted, or when no secret is configured (local development).
    With a secret, a missing token is a failure (the original skipped the check without one),
    and so is an unreachable verifier (fail closed)."""
    from lutea.observability import logger

    settings = get_settings()
    if not settings.recaptcha_secret_key:
        return True
    if not token:
        return False
    import urllib.error  # on first use: cold starts of the routes without reCAPTCHA skip it
    import urllib.parse
    import urllib.request

    form = urllib.parse.urlencode({"secret": settings.recaptcha_secret_key, "response": token}).encode()
    request = urllib.request.Request(  # noqa: S310 - URL from config
        settings.recaptcha_verify_url,
        data=form,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - URL from config
            answer = json.loads(response.read(64 * 1024))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        logger.warning("recaptcha verification unavailable", extra={"error": type(exc).__name__})
        return False
    if not isinstance(answer, dict) or answer.get("success") is not True:
        return False
    score = answer.get("score")
    # The original let a score of 0 through (falsy in JavaScript); here any score must reach MIN_SCORE.
    return score is None or (isinstance(score, int | float) and score >= MIN_SCORE)
