"""Every email kind, read back from the outbox as a mail client would: recipients, subjects,
escaped values, and the booking confirmation's PDF."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from lutea import config
from lutea.email import messages

from tests.support.outbox import read_outbox

ADMIN = "admin@lutea.test"
EVIL = "<script>alert(1)</script>"
BOOKING = {
    "_id": ObjectId("65f000000000000000000001"),
    "retreatName": f"Retraite {EVIL}",
    "retreatAddress": "40 impasse Antoine de Saporta, Grabels",
    "dateStart": datetime(2026, 12, 4, 23, 30, tzinfo=UTC),  # 5 December in Paris
    "dateEnd": datetime(2026, 12, 6, 15, 0, tzinfo=UTC),
    "nbPlaces": 2,
    "prixTotalCents": 24050,
    "participants": [
        {"prenom": EVIL, "nom": "Martin", "email": "anne@example.test"},
        {"prenom": "Paul", "nom": "Martin", "email": "paul@example.test"},
    ],
}


@pytest.fixture(autouse=True)
def _addresses(monkeypatch):
    monkeypatch.setenv("EMAIL_ADMIN", ADMIN)
    monkeypatch.setenv("EMAIL_FROM", "Lutea <noreply@lutea.test>")
    config.reset_settings()


def _only(outbox_dir):
    [mail] = read_outbox(outbox_dir)
    assert str(mail.message["From"]) == "Lutea <noreply@lutea.test>"
    return mail


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Confirmation")
    return bytes(pdf.output())


def test_validation_link(outbox_dir):
    messages.send_validation_link(
        "anne@example.test", "https://app.test/validate-email?token=a&b=<c>", f"01/12/2026 à 10:00:00{EVIL}"
    )
    mail = _only(outbox_dir)
    assert mail.kind == "validation_link" and mail.to == ["anne@example.test"]
    assert mail.subject == "Validez votre adresse email - Lutea"
    assert 'href="https://app.test/validate-email?token=a&amp;b=&lt;c&gt;"' in mail.html
    assert "&lt;script&gt;" in mail.html and "<script>" not in mail.html
    assert "le 01/12/2026 à 10:00:00" in mail.text  # says when the registration was made
    assert "https://app.test/validate-email?token=a&b=<c>" in mail.text
    assert "Ce lien expire dans 24 heures." in mail.text


def test_already_registered(outbox_dir):
    messages.send_already_registered("anne@example.test", "Anne", "https://app.test/login")
    mail = _only(outbox_dir)
    assert mail.kind == "already_registered" and mail.to == ["anne@example.test"]
    assert mail.subject == "Tentative d'inscription avec votre adresse email - Lutea"
    assert 'href="https://app.test/login"' in mail.html


def test_two_factor_code(outbox_dir):
    messages.send_two_factor_code("admin@example.test", EVIL, "12345678")
    mail = _only(outbox_dir)
    assert mail.kind == "two_factor_code" and mail.to == ["admin@example.test"]
    assert mail.subject == "Code de vérification 2FA - Lutea"
    assert "12345678" in mail.html and "12345678" in mail.text
    assert "Ce code expire dans 10 minutes." in mail.text
    assert "<script>" not in mail.html


def test_password_reset(outbox_dir):
    messages.send_password_reset("anne@example.test", "Anne", "https://app.test/reset-password?token=xyz")
    mail = _only(outbox_dir)
    assert mail.kind == "password_reset" and mail.to == ["anne@example.test"]
    assert mail.subject == "Réinitialisation de votre mot de passe - Lutea"
    assert 'href="https://app.test/reset-password?token=xyz"' in mail.html
    assert "Ce lien expire dans 1 heure." in mail.text


def test_booking_confirmation_with_pdf(outbox_dir, frozen_clock):
    pdf = _pdf()
    messages.send_booking_confirmation(BOOKING, pdf, "confirmation-retraite-05-12-2026.pdf")
    mails = {m.kind: m for m in read_outbox(outbox_dir)}
    mail, copy = mails.pop("booking_confirmation"), mails.pop("booking_confirmation_copy")
    assert not mails
    # The first participant; the admin gets a copy of their own, never as a visible co-recipient.
    assert mail.to == ["anne@example.test"] and "Cc" not in mail.message and ADMIN not in str(mail.message)
    assert copy.to == [ADMIN] and "anne@example.test" not in str(copy.message["To"])
    assert copy.subject == f"[Copie] Confirmation de réservation - Retraite {EVIL}"
    assert copy.text == mail.text and copy.attachments() == mail.attachments()
    assert mail.subject == f"Confirmation de réservation - Retraite {EVIL}"  # a header: not HTML
    assert "&lt;script&gt;" in mail.html and "<script>" not in mail.html
    assert "du 05/12/2026 au 06/12/2026" in mail.text  # Europe/Paris days
    assert "Prix total : 240,50 € TTC" in mail.text  # as the PDF prints it
    assert "Nombre de participants : 2" in mail.text
    assert "Date de paiement : 01/12/2026" in mail.text
    assert "Référence : 65f000000000000000000001" in mail.text
    (filename, content_type, content), (ics_name, ics_type, _) = mail.attachments()
    assert ics_type == "text/calendar" and ics_name.endswith(".ics")
    assert (filename, content_type, content) == ("confirmation-retraite-05-12-2026.pdf", "application/pdf", pdf)


def test_booking_confirmation_eml_is_valid_mime_with_a_pdf_part(outbox_dir, frozen_clock):
    from pypdf import PdfReader

    messages.send_booking_confirmation(BOOKING, _pdf(), "confirmation.pdf")
    [path] = [p for p in outbox_dir.glob("*.eml") if "_copy" not in p.name]
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert not parsed.defects
    parts = list(parsed.walk())
    assert not any(p.defects for p in parts)
    assert {p.get_content_type() for p in parts} >= {"multipart/alternative", "text/plain", "text/html", "application/pdf"}
    [pdf_part] = [p for p in parts if p.get_content_type() == "application/pdf"]
    assert pdf_part.get_content_disposition() == "attachment"
    assert pdf_part["Content-Transfer-Encoding"] == "base64"
    reader = PdfReader(io.BytesIO(pdf_part.get_content()))
    assert "Confirmation" in reader.pages[0].extract_text()


@pytest.mark.parametrize(
    ("refunded", "line"),
    [
        (True, "Le montant payé vous a été remboursé intégralement"),
        (False, "Aucun montant n'a été débité."),
    ],
)
def test_booking_cancelled(outbox_dir, refunded, line):
    messages.send_booking_cancelled(BOOKING, refunded=refunded)
    mail = _only(outbox_dir)
    assert mail.kind == "booking_cancelled" and mail.to == ["anne@example.test"]
    assert mail.subject == f"Annulation de votre réservation - Retraite {EVIL}"
    assert line in mail.text and "du 05/12/2026 au 06/12/2026" in mail.text
    assert "<script>" not in mail.html


def test_late_payment_refunded(outbox_dir):
    messages.send_late_payment_refunded(BOOKING)
    mails = {m.kind: m for m in read_outbox(outbox_dir)}
    mail, copy = mails["late_payment_refunded"], mails["late_payment_refunded_copy"]
    assert mail.to == ["anne@example.test"] and copy.to == [ADMIN]
    assert mail.subject == f"Remboursement de votre paiement - Retraite {EVIL}"
    assert "(240,50 €)" in mail.text and "(240,50 €)" in mail.html
    assert "<script>" not in mail.html


def test_admin_alert(outbox_dir):
    messages.send_admin_alert("Incohérences de paiement détectées - Lutea", f"Total : 2\n{EVIL}")
    mail = _only(outbox_dir)
    assert mail.kind == "admin_alert" and mail.to == [ADMIN]
    assert mail.subject == "Incohérences de paiement détectées - Lutea"
    assert f"Total : 2\r\n{EVIL}" in mail.text  # SMTP line endings
    assert "Total : 2\r\n&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html


def test_contact_messages(outbox_dir, monkeypatch):
    monkeypatch.setenv("EMAIL_CONTACT", "contact@lutea.test")
    config.reset_settings()
    messages.send_contact_to_team(
        last_name="Martin", first_name=EVIL, email="anne@example.test", phone="06", message=f"Ligne 1\n{EVIL}"
    )
    messages.send_contact_ack("anne@example.test")
    team, ack = sorted(read_outbox(outbox_dir), key=lambda m: m.kind, reverse=True)
    assert team.kind == "contact_team" and team.to == ["contact@lutea.test"]
    assert str(team.message["Reply-To"]) == "anne@example.test"
    assert "Ligne 1<br>&lt;script&gt;" in team.html and "<script>" not in team.html
    assert ack.kind == "contact_ack" and ack.to == ["anne@example.test"]
    assert "<script>" not in ack.html
