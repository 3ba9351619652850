"""POST /email/contact through the real handler: validation, reCAPTCHA, both emails, failures."""

from __future__ import annotations

import pytest
from lutea import config
from lutea.data.mongo import get_db

from tests.support.fake_resend import FakeRecaptcha, use_fake_resend
from tests.support.outbox import read_outbox

FORM = {
    "nom": "Martin",
    "prenom": "Anne",
    "email": "Anne.Visitor@Example.test",
    "telephone": "06 00 00 00 00",
    "message": "Bonjour,\nje voudrais des informations.",
    "rgpd": True,
}
TEAM = "team@lutea.test"
SENT = "Votre message a été envoyé avec succès. Nous vous répondrons dans les plus brefs délais."


@pytest.fixture(autouse=True)
def _team_address(monkeypatch):
    monkeypatch.setenv("EMAIL_CONTACT", TEAM)
    config.reset_settings()


def test_contact_sends_the_message_to_the_team_and_an_acknowledgement(api, outbox_dir):
    response = api.post("/email/contact", json=FORM)
    assert response.status == 200
    assert response.json() == {"success": True, "message": SENT}
    mails = {m.kind: m for m in read_outbox(outbox_dir)}
    assert set(mails) == {"contact_team", "contact_ack"}

    team = mails["contact_team"]
    assert team.to == [TEAM]
    assert team.subject == "Message reçu via le site – Martin Anne"
    assert str(team.message["Reply-To"]) == "anne.visitor@example.test"
    assert str(team.message["From"]) == config.LOCAL_EMAIL_FROM
    assert "je voudrais des informations." in team.text
    assert "Bonjour,<br>je voudrais des informations." in team.html
    assert "06 00 00 00 00" in team.html

    ack = mails["contact_ack"]
    assert ack.to == ["anne.visitor@example.test"]
    assert ack.subject == "Nous avons bien reçu votre message - Lutea"
    assert "Bonjour," in ack.text and "Anne" not in ack.text  # nothing the visitor typed
    # A fixed text: the visitor's message is never relayed to the address they typed.
    assert "informations" not in ack.text and "informations" not in ack.html


def test_values_are_escaped_in_the_team_email(api, outbox_dir):
    hostile = {
        **FORM,
        "nom": "<script>alert(1)</script>",
        "prenom": "<b>Anne</b>",
        "message": "<img src=x onerror=alert(1)>",
        "telephone": '"><script>',
    }
    assert api.post("/email/contact", json=hostile).status == 200
    team = next(m for m in read_outbox(outbox_dir) if m.kind == "contact_team")
    assert "<script>" not in team.html and "<img" not in team.html and "<b>Anne" not in team.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in team.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in team.html
    assert 'href="tel:&quot;&gt;&lt;script&gt;"' in team.html
    ack = next(m for m in read_outbox(outbox_dir) if m.kind == "contact_ack")
    assert "Anne" not in ack.html  # the acknowledgement repeats nothing typed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rgpd": False}, "rgpd"),
        ({"rgpd": "true"}, "rgpd"),
        ({"email": "not-an-email"}, "email"),
        ({"nom": ""}, "nom"),
        ({"prenom": "x" * 101}, "prenom"),
        ({"message": "x" * 5001}, "message"),
        ({"telephone": "0" * 31}, "telephone"),
        ({"token": "t" * 4097}, "token"),
        ({"email": {"$ne": ""}}, "email"),
        ({"extra": "field"}, "extra"),
    ],
)
def test_invalid_forms_are_refused_and_nothing_is_sent(api, outbox_dir, change, field):
    response = api.post("/email/contact", json={**FORM, **change})
    assert response.status == 400
    body = response.json()
    assert body["message"] == "Données invalides"
    assert body["details"]["error"] == "Bad Request"
    assert field in [f["field"] for f in body["details"]["fields"]]
    assert read_outbox(outbox_dir) == []


def test_missing_fields_are_refused(api, outbox_dir):
    response = api.post("/email/contact", json={"nom": "Martin"})
    assert response.status == 400
    fields = {f["field"] for f in response.json()["details"]["fields"]}
    assert fields == {"prenom", "email", "telephone", "message", "rgpd"}
    assert read_outbox(outbox_dir) == []


@pytest.fixture
def recaptcha(monkeypatch):
    with FakeRecaptcha(secret="recaptcha-test-secret") as fake:
        monkeypatch.setenv("RECAPTCHA_SECRET_KEY", "recaptcha-test-secret")
        monkeypatch.setenv("RECAPTCHA_VERIFY_URL", fake.url + "/recaptcha/api/siteverify")
        config.reset_settings()
        yield fake


def test_recaptcha_accepted(api, outbox_dir, recaptcha):
    response = api.post("/email/contact", json={**FORM, "token": "good-token"})
    assert response.status == 200
    assert recaptcha.requests == [{"secret": "recaptcha-test-secret", "response": "good-token"}]
    assert len(read_outbox(outbox_dir)) == 2


@pytest.mark.parametrize("token", ["bad-token", None])
def test_recaptcha_refused_or_missing(api, outbox_dir, recaptcha, token):
    form = {**FORM, "token": token} if token else FORM
    response = api.post("/email/contact", json=form)
    assert response.status == 400
    assert response.json()["details"]["message"] == "Échec de la vérification reCAPTCHA"
    assert read_outbox(outbox_dir) == []


def test_recaptcha_low_score_is_refused(api, outbox_dir, recaptcha):
    recaptcha.score = 0.0  # the original let 0 through (falsy in JavaScript)
    assert api.post("/email/contact", json={**FORM, "token": "good-token"}).status == 400
    assert read_outbox(outbox_dir) == []


def test_recaptcha_unreachable_fails_closed(api, outbox_dir, monkeypatch, recaptcha):
    recaptcha.stop()
    assert api.post("/email/contact", json={**FORM, "token": "good-token"}).status == 400
    assert read_outbox(outbox_dir) == []


@pytest.fixture
def resend_fake(monkeypatch):
    with use_fake_resend(monkeypatch) as fake:
        yield fake


def test_contact_through_resend(api, resend_fake):
    assert api.post("/email/contact", json=FORM).status == 200
    team, ack = resend_fake.sent
    assert team["to"] == [TEAM] and team["reply_to"] == "anne.visitor@example.test"
    assert ack["to"] == ["anne.visitor@example.test"]


def test_a_failed_send_is_a_502_with_success_false(api, resend_fake):
    resend_fake.fail_with(500)
    response = api.post("/email/contact", json=FORM)
    assert response.status == 502
    assert response.json() == {"success": False, "message": "Erreur lors de l'envoi du message. Veuillez réessayer."}
    # The visitor is told; nothing is queued (they can send again).
    assert get_db()["emailfailures"].count_documents({}) == 0


def test_a_failed_acknowledgement_keeps_the_success_and_is_queued(api, resend_fake):
    resend_fake.fail_if = lambda body: body["to"] == ["anne.visitor@example.test"]
    response = api.post("/email/contact", json=FORM)
    assert response.status == 200 and response.json()["success"] is True
    assert [m["to"] for m in resend_fake.sent] == [[TEAM]]
    [failure] = get_db()["emailfailures"].find()
    assert failure["kind"] == "contact_ack" and failure["to"] == ["anne.visitor@example.test"]
