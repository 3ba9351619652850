"""GET /bookings/:id/pdf: the owner's confirmation as a binary (base64) API Gateway response."""

from __future__ import annotations

import io
from urllib.parse import quote

from bson import ObjectId
from pypdf import PdfReader

from tests.support.accounts import client_session
from tests.support.catalogue import START, booking_body


def test_pdf_of_own_booking_with_accented_names(make_client, make_retreat):
    retreat = make_retreat(title="Éveil  du Cœur")
    client, _ = client_session(make_client)
    participants = [
        {"prenom": "Hélène", "nom": "Dupré-Œuvray", "email": "helene@example.test"},
        {"prenom": "François", "nom": "Légaré", "email": "francois@example.test"},
    ]
    booking = client.post("/bookings", json=booking_body(retreat, nb=2, participants=participants)).json()

    res = client.get(f"/bookings/{booking['_id']}/pdf")

    assert res.status == 200
    assert res.is_base64 is True  # API Gateway decodes it back to bytes for the browser
    assert res.headers["Content-Type"] == "application/pdf"
    exact = f"confirmation-éveil-du-cœur-12-03-{START.year}.pdf"
    disposition = res.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    ascii_name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_name.isascii() and ascii_name.endswith(f"-12-03-{START.year}.pdf") and ascii_name.startswith("confirmation-")
    assert disposition.endswith(f"; filename*=UTF-8''{quote(exact, safe='')}")
    assert res.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(res.content)).pages)
    for name in ("Hélène", "Dupré-Œuvray", "François", "Légaré", "Éveil"):
        assert name in text


def test_pdf_is_for_the_owner_only(make_client, retreat):
    owner, _ = client_session(make_client)
    stranger, _ = client_session(make_client)
    booking = owner.post("/bookings", json=booking_body(retreat, nb=1)).json()
    guest = make_client().post("/bookings", json=booking_body(retreat, nb=1)).json()

    for path in (f"/bookings/{booking['_id']}/pdf", f"/bookings/{guest['_id']}/pdf", f"/bookings/{ObjectId()}/pdf"):
        res = stranger.get(path)
        assert res.status == 404 and res.json()["message"] == "Booking non trouvé"
    assert make_client().get(f"/bookings/{booking['_id']}/pdf").status == 401
    assert owner.get("/bookings/nope/pdf").status == 400
