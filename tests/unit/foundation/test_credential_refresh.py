"""A refused credential makes the next call read the secrets again (rotation without redeploy):
Stripe through the real SDK against the fake server, Resend through the real SDK."""

from __future__ import annotations

import pytest
from lutea import config


@pytest.fixture
def refreshes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    monkeypatch.setattr(config, "refresh_secrets", lambda: calls.append(True) or True)
    return calls


def test_stripe_refusing_the_key_re_reads_the_secret(refreshes: list[bool]) -> None:
    import stripe
    from lutea.errors import UpstreamFailure
    from lutea.payments.gateway import _stripe_errors

    with pytest.raises(UpstreamFailure), _stripe_errors("retrieve"):
        raise stripe.AuthenticationError("Invalid API Key provided", http_status=401)
    assert refreshes == [True]
    with pytest.raises(UpstreamFailure), _stripe_errors("retrieve"):
        raise stripe.APIConnectionError("network")
    assert refreshes == [True]  # an outage is not a credential problem


def test_resend_refusing_the_key_re_reads_the_secret(refreshes: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    import resend
    from lutea.email.service import EmailDeliveryError, EmailMessage, ResendBackend

    def refuse(params: dict, options: dict) -> None:
        raise resend.exceptions.InvalidApiKeyError("API key is invalid", "invalid_api_key", "403")

    monkeypatch.setattr(resend.Emails, "send", refuse)
    message = EmailMessage(to=("a@example.test",), subject="s", html="h", text="t", kind="admin_alert")
    with pytest.raises(EmailDeliveryError):
        ResendBackend("re_old", None).deliver(message, "noreply@lutea.localhost")
    assert refreshes == [True]
