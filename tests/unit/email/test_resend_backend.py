"""The Resend backend through the real SDK against a local fake of the Resend API."""

from __future__ import annotations

import base64

import pytest
from lutea import config
from lutea.email import service
from lutea.email.service import Attachment, EmailDeliveryError, EmailMessage

from tests.support.fake_resend import use_fake_resend


@pytest.fixture
def resend_fake(monkeypatch):
    monkeypatch.setenv("EMAIL_FROM", "Lutea <noreply@lutea.test>")
    with use_fake_resend(monkeypatch) as fake:
        yield fake


def _message(**overrides) -> EmailMessage:
    values = dict(
        to=("anne@example.test",),
        subject="Sujet é",
        html="<p>Bonjour</p>",
        text="Bonjour",
        kind="test_kind",
        attachments=(Attachment("confirmation.pdf", b"%PDF-1.4 binary\x00\xff"),),
        reply_to="visitor@example.test",
    )
    values.update(overrides)
    return EmailMessage(**values)


def test_the_backend_is_resend_when_a_key_is_set(resend_fake):
    assert isinstance(service.backend(), service.ResendBackend)


def test_send_posts_the_message_to_resend(resend_fake):
    message = _message()
    message_id = service.send(message)
    assert message_id
    assert len(resend_fake.requests) == 1
    request = resend_fake.requests[0]
    body = request.body
    assert body["from"] == "Lutea <noreply@lutea.test>"
    assert body["to"] == ["anne@example.test"]
    assert body["subject"] == "Sujet é"
    assert body["html"] == "<p>Bonjour</p>"
    assert body["text"] == "Bonjour"
    assert body["reply_to"] == "visitor@example.test"
    [attachment] = body["attachments"]
    assert attachment["filename"] == "confirmation.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert base64.b64decode(attachment["content"]) == b"%PDF-1.4 binary\x00\xff"
    assert request.headers["idempotency-key"] == message.idempotency_key


def test_a_provider_failure_raises_with_the_message(resend_fake):
    resend_fake.fail_with(500)
    message = _message()
    with pytest.raises(EmailDeliveryError) as info:
        service.send(message)
    assert info.value.email is message
    assert resend_fake.requests == []


def test_a_wrong_key_is_refused(resend_fake, monkeypatch):
    monkeypatch.setenv("RESEND_API_KEY", "re_wrong")
    config.reset_settings()
    with pytest.raises(EmailDeliveryError):
        service.send(_message())
    assert resend_fake.rejected_auth == 1


def test_an_unreachable_provider_is_a_delivery_error(monkeypatch):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    monkeypatch.setenv("RESEND_API_KEY", "re_test_key")
    monkeypatch.setenv("RESEND_API_BASE", f"http://127.0.0.1:{port}")
    config.reset_settings()
    with pytest.raises(EmailDeliveryError):
        service.send(_message())


def test_without_key_the_outbox_is_used(outbox_dir):
    assert isinstance(service.backend(), service.OutboxBackend)
    service.send(_message())
    files = list(outbox_dir.glob("*.eml"))
    assert len(files) == 1 and "test_kind" in files[0].name
