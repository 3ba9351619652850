"""Templates: every kind renders with its values, HTML escapes them, subjects stay one line."""

from __future__ import annotations

import pytest
from lutea.email.templates import Markup, kinds, multiline_html, render

VALUES = {
    "firstName": "Anne",
    "link": "https://lutea.test/x?token=abc",
    "loginLink": "https://lutea.test/login",
    "code": "12345678",
    "retreatName": "Retraite",
    "dateStart": "01/12/2026",
    "dateEnd": "03/12/2026",
    "address": "Grabels",
    "nbPlaces": 2,
    "total": 240,
    "reference": "abc",
    "paymentDate": "01/12/2026",
    "refundLine": "Remboursé.",
    "policyText": "Conditions d'annulation : …",
    "cancelDate": "01/12/2026",
    "refundPercent": 50,
    "refund": 120,
    "refundMode": "remboursé par Stripe",
    "offerHours": 24,
    "offerUntil": "02/12/2026 à 10:00",
    "bookLink": "https://lutea.test/offre",
    "leaveLink": "https://lutea.test/quitter",
    "registeredAt": "01/12/2026 à 10:00:00",
    "reason": "est arrivé trop tard.",
    "title": "Alerte",
    "details": "Détails",
    "nom": "Martin",
    "prenom": "Anne",
    "email": "anne@example.test",
    "telephone": "0600000000",
    "message": "Bonjour",
    "messageHtml": Markup("Bonjour"),
}


def test_every_template_has_three_parts_and_renders():
    assert set(kinds()) == {
        "admin_alert",
        "already_registered",
        "booking_cancelled",
        "booking_confirmation",
        "contact_ack",
        "contact_team",
        "late_payment_refunded",
        "password_reset",
        "two_factor_code",
        "validation_link",
        "booking_cancelled_by_customer",
        "booking_cancelled_admin",
        "waiting_list_joined",
        "waiting_list_offer",
    }
    for kind in kinds():
        subject, text, html = render(kind, **VALUES)
        assert subject and "\n" not in subject
        assert "$" not in text and "$" not in html, kind
        assert html.lstrip().startswith("<div"), kind


def test_values_are_escaped_in_html_only():
    _subject, text, html = render("already_registered", firstName='<script>alert("x")</script>', loginLink="/")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<script>alert("x")</script>' in text


def test_missing_value_is_an_error():
    with pytest.raises(KeyError):
        render("two_factor_code", firstName="Anne")


def test_subject_line_breaks_are_removed():
    subject, _, _ = render("contact_team", **{**VALUES, "nom": "Martin\r\nBcc: evil@example.test"})
    assert subject == "Message reçu via le site – Martin Bcc: evil@example.test Anne"


def test_multiline_html_escapes_then_breaks_lines():
    assert multiline_html("a <b>\r\nc & d\ne") == "a &lt;b&gt;<br>c &amp; d<br>e"
    _, _, html = render("contact_team", **{**VALUES, "messageHtml": multiline_html("<i>un</i>\ndeux")})
    assert "&lt;i&gt;un&lt;/i&gt;<br>deux" in html
