"""Every email shows money as the PDF does (``541,50 €``), never the wire's float (``541.5€``)."""

from __future__ import annotations

import re
from pathlib import Path

from lutea.email import templates
from lutea.money import format_euros
from lutea.pdf.booking_confirmation import format_euros as pdf_format_euros

TEMPLATES = Path(templates.__file__).parent / "templates"


def test_no_template_glues_a_currency_to_a_raw_number():
    # An amount arrives already formatted ("541,50 €"): a template never adds "€" to a value.
    for path in sorted(TEMPLATES.iterdir()):
        assert not re.search(r"\$\{?\w+\}?\s*€", path.read_text(encoding="utf-8")), path.name


def test_booking_emails_show_french_amounts():
    from lutea.email.messages import _booking_values

    values = _booking_values({"prixTotalCents": 54150, "participants": [{"prenom": "Anne"}]})
    assert values["total"] == "541,50 €" == pdf_format_euros(54150) == format_euros(54150)


def test_the_discrepancy_alert_shows_french_amounts():
    from lutea.domain.payment_discrepancies import alert_text

    report = {
        "summary": {"totalDiscrepancies": 1, "orphanPaymentsCount": 1, "orphanBookingsCount": 0, "retreatsWithIssues": 1},
        "sessionDiscrepancies": [
            {
                "paymentId": "pi_1",
                "retreatName": "R",
                "sessionDate": "01/03/2027",
                "amount": 54150,
                "clientEmail": "N/A",
                "createdAt": "2027-01-01",
            }
        ],
        "bookingDiscrepancies": [],
    }
    text = alert_text(report)
    assert "Montant : 541,50 €" in text and "541.5" not in text


def test_no_template_signs_with_a_person_s_mailbox(monkeypatch):
    from lutea import config

    for path in sorted(TEMPLATES.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert "gmail.com" not in text and "61 47 09 76" not in text, path.name
    monkeypatch.setenv("COMPANY_EMAIL", "bonjour@lutea.example")
    monkeypatch.setenv("COMPANY_PHONE", "+33 4 00 00 00 00")
    config.reset_settings()
    try:
        _, text, html = templates.render("contact_ack", prenom="Anne")
    finally:
        monkeypatch.undo()
        config.reset_settings()
    assert "bonjour@lutea.example | +33 4 00 00 00 00" in text and "bonjour@lutea.example" in html
