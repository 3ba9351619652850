"""End to end over HTTP against `make dev`'s server (docs/waiting-list.md, docs/cancellation.md):
a full date block, a waiting list, a customer's cancellation refunded 50 % by the server's clock
through the Stripe stand-in, the seats offered to the next in line, and the offer booked and
paid until the booking is confirmed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.client import BILLING, Http, book, mails, pay, sign_in_admin, wait_for_mail
from tests.support.polling import wait_for

pytestmark = pytest.mark.e2e


def _token(mail) -> str:
    return re.search(r"token=([0-9a-f]{24}\.[A-Za-z0-9_-]{43})", mail.text).group(1)


def test_cancel_with_a_partial_refund_then_the_next_in_line_books_and_pays(server):
    base, _, outbox, console = server
    admin = sign_in_admin(base, outbox)
    start = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0)  # 50 % by the default tiers
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    status, _, retreat = admin.call(
        "POST",
        "/retreats/admin",
        {
            "titreCard": "Retraite Liste d'attente",
            "imageCard": "/images/c.jpg",
            "altImageCard": "c",
            "imageModal": ["/images/m.jpg"],
            "altImageModal": ["m"],
            "texteModal": "Deux places.",
            "dates": [
                {
                    "start": iso(start),
                    "end": iso(start + timedelta(days=2)),
                    "prix": 150,
                    "places": 2,
                    "adresseRdv": "Mas des Oliviers",
                }
            ],
        },
    )
    assert status == 201, retreat
    date = retreat["dates"][0]

    # Anne books the two seats and pays: the block is full.
    status, anne = book(Http(base), retreat, date, [{"prenom": "Anne", "nom": "Roux", "email": "anne@e2e.test"}], nbPlaces=2)
    assert status == 201, anne
    pay(base, anne)
    wait_for_mail(outbox, "booking_confirmation", "anne@e2e.test")
    confirmation = mails(outbox, "booking_confirmation", "anne@e2e.test")[0]
    assert "remboursement de 50 %" in confirmation.text  # the policy in the confirmation email...
    import io

    import pypdf

    pdf = next(data for name, _, data in confirmation.attachments() if name.endswith(".pdf"))
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "jusqu'à 14 jours avant le début du séjour : remboursement de 50 %" in text  # ...and on its PDF

    # Bruno and Chloé join the waiting list (Bruno first, for the two seats).
    join = {"retreatId": retreat["_id"], "dateStart": date["start"], "prenom": "Bruno"}
    status, _, joined = Http(base).call("POST", "/bookings/waiting-list", {**join, "nbPlaces": 2, "email": "bruno@e2e.test"})
    assert status == 201, joined
    assert (
        Http(base).call("POST", "/bookings/waiting-list", {**join, "nbPlaces": 1, "email": "chloe@e2e.test", "prenom": "Chloé"})[
            0
        ]
        == 201
    )
    assert mails(outbox, "waiting_list_joined", "bruno@e2e.test")

    # Anne asks what cancelling would give back, then cancels: 50 % of 300 €, refunded once.
    guest = Http(base)
    proof = {"X-Booking-Token": anne["guestToken"]}
    status, _, quote = guest.call("GET", f"/bookings/{anne['_id']}/cancellation-quote", headers=proof)
    assert status == 200 and (quote["pourcentageRembourse"], quote["montantRembourse"]) == (50, 150), quote
    status, _, cancelled = guest.call("POST", f"/bookings/{anne['_id']}/cancel", {"raison": "Empêchée"}, proof)
    assert status == 200, cancelled
    assert (cancelled["statut"], cancelled["statutPaiement"], cancelled["montantRembourse"]) == ("CANCELLED", "REFUNDED", 150)
    assert guest.call("POST", f"/bookings/{anne['_id']}/cancel", None, proof)[0] == 409
    customer = wait_for(lambda: mails(outbox, "booking_cancelled_by_customer", "anne@e2e.test"))
    assert "150 €" in customer[0].text  # as the PDF prints it
    wait_for(lambda: "charge.refunded" in console.read_text(encoding="utf-8"))

    # The freed seats are offered to Bruno at once (Chloé stays first in line for what's next).
    offer_mail = wait_for(lambda: mails(outbox, "waiting_list_offer", "bruno@e2e.test"))[0]
    assert not mails(outbox, "waiting_list_offer", "chloe@e2e.test")
    token = _token(offer_mail)
    status, _, offer = Http(base).call("POST", "/bookings/waiting-list/offer", {"token": token})
    assert status == 200 and (offer["nbPlaces"], offer["prixTotal"]) == (2, 300), offer
    status, _, places = Http(base).call(
        "POST", "/bookings/available-places", {"retreatId": retreat["_id"], "date": date["start"]}
    )
    assert places["placesDisponibles"] == 0  # held for the offer

    # Bruno books through the offer and pays: confirmed, the seats his.
    status, _, bruno = Http(base).call(
        "POST",
        "/bookings/waiting-list/offer/book",
        {
            "token": token,
            "participants": [{"prenom": "Bruno", "nom": "Petit", "email": "bruno@e2e.test"}],
            "billingAddress": BILLING,
        },
    )
    assert status == 201 and bruno["prixTotal"] == 300 and bruno["statut"] == "PENDING", bruno
    pay(base, bruno)
    wait_for_mail(outbox, "booking_confirmation", "bruno@e2e.test")

    status, _, lists = admin.call("GET", f"/bookings/admin/waiting-list/{retreat['_id']}")
    assert status == 200, lists
    rows = {e["email"]: e for e in lists[0]["inscriptions"]}
    assert rows["bruno@e2e.test"]["statut"] == "BOOKED" and rows["bruno@e2e.test"]["bookingId"] == bruno["_id"]
    assert (rows["chloe@e2e.test"]["statut"], rows["chloe@e2e.test"]["position"]) == ("WAITING", 1)
    status, _, stored = admin.call("GET", f"/bookings/admin/{bruno['_id']}")
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
