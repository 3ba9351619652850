"""``prestationsIncluses``: what a retreat's price includes, written by the admin for each
retreat, shown on the retreat and printed on the confirmation PDF of its bookings (the PDF used
to print one sentence for every retreat)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.integration.retreats.support import create, stored
from tests.support.accounts import client_session
from tests.support.catalogue import booking_body

INCLUDED = "Hébergement en chambre partagée, repas végétariens, yoga matin et soir. Transport non inclus."


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_inclusions_are_stored_shown_and_printed_on_the_pdf(admin, make_client):
    retreat = create(admin, prestationsIncluses=f"  {INCLUDED}  ")
    assert retreat["prestationsIncluses"] == INCLUDED
    assert make_client().get(f"/retreats/public/{retreat['_id']}").json()["prestationsIncluses"] == INCLUDED

    client, _ = client_session(make_client)
    booking = client.post("/bookings", json=booking_body(stored(retreat["_id"]), nb=1)).json()
    assert "retreatPrestationsIncluses" not in booking  # kept for the PDF, not on the wire
    # The retreat's text changes later: the booking keeps what was sold.
    assert admin.patch(f"/retreats/admin/{retreat['_id']}", json={"prestationsIncluses": "Autre chose"}).status == 200

    text = _pdf_text(client.get(f"/bookings/{booking['_id']}/pdf").content)
    assert "PRESTATIONS INCLUSES" in text and "Hébergement en chambre partagée" in text
    assert "Autre chose" not in text


def test_inclusions_are_optional_bounded_and_removable(admin, make_client):
    retreat = create(admin)
    assert "prestationsIncluses" not in retreat
    response = admin.post("/retreats/admin", json={**_body(), "prestationsIncluses": "x" * 2001})
    assert response.status == 400
    assert admin.post("/retreats/admin", json={**_body(), "prestationsIncluses": 12}).status == 400

    with_text = create(admin, prestationsIncluses=INCLUDED)
    removed = admin.patch(f"/retreats/admin/{with_text['_id']}", json={"prestationsIncluses": None})
    assert removed.status == 200 and "prestationsIncluses" not in removed.json()
    assert "prestationsIncluses" not in stored(with_text["_id"])

    client, _ = client_session(make_client)
    booking = client.post("/bookings", json=booking_body(stored(retreat["_id"]), nb=1)).json()
    assert "PRESTATIONS INCLUSES" not in _pdf_text(client.get(f"/bookings/{booking['_id']}/pdf").content)


def _body() -> dict:
    from tests.integration.retreats.support import retreat_body

    return retreat_body()
