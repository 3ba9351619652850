"""The cancellation email says what happened to the money: refunded, to be refunded by the team
(paid outside Stripe), or nothing charged."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from lutea.email.messages import send_booking_cancelled

from tests.support.outbox import read_outbox


def _booking(statut_paiement: str) -> dict:
    return {"_id": ObjectId(), "participants": [{"prenom": "Zoé", "nom": "L", "email": "zoe@example.test"}],
            "retreatName": "Retraite", "dateStart": datetime(2027, 3, 1, 9, tzinfo=UTC),
            "dateEnd": datetime(2027, 3, 3, 9, tzinfo=UTC), "nbPlaces": 1, "prixTotalCents": 12000,
            "statutPaiement": statut_paiement}


@pytest.mark.parametrize(("statut_paiement", "refunded", "expected"), [
    ("REFUNDED", True, "remboursé intégralement"),
    ("PAID", False, "reviendra vers vous pour le remboursement"),
    ("FAILED", False, "Aucun montant n'a été débité"),
    ("PENDING", False, "Aucun montant n'a été débité"),
])
def test_the_refund_line_matches_the_payment(outbox_dir, statut_paiement, refunded, expected):
    send_booking_cancelled(_booking(statut_paiement), refunded=refunded)
    [mail] = read_outbox(outbox_dir)
    assert expected in mail.text and expected in mail.html.replace("&#x27;", "'")
