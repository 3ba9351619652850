"""The cancellation email says what happened to the money: refunded, to be refunded by the team
(paid outside Stripe), or nothing charged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from lutea.email.messages import send_booking_cancelled

from tests.support.outbox import read_outbox


def _booking(statut_paiement: str) -> dict:
    return {
        "_id": ObjectId(),
        "participants": [{"prenom": "Zoé", "nom": "L", "email": "zoe@example.test"}],
        "retreatName": "Retraite",
        "dateStart": datetime(2027, 3, 1, 9, tzinfo=UTC),
        "dateEnd": datetime(2027, 3, 3, 9, tzinfo=UTC),
        "nbPlaces": 1,
        "prixTotalCents": 12000,
        "statutPaiement": statut_paiement,
    }


@pytest.mark.parametrize(
    ("statut_paiement", "refunded", "expected"),
    [
        ("REFUNDED", True, "remboursé intégralement"),
        ("PAID", False, "reviendra vers vous pour le remboursement"),
        ("FAILED", False, "Aucun montant n'a été débité"),
        ("PENDING", False, "Aucun montant n'a été débité"),
    ],
)
def test_the_refund_line_matches_the_payment(outbox_dir, statut_paiement, refunded, expected):
    send_booking_cancelled(_booking(statut_paiement), refunded=refunded)
    [mail] = read_outbox(outbox_dir)
    assert expected in mail.text and expected in mail.html.replace("&#x27;", "'")


def test_production_without_resend_keeps_the_message_for_retry_instead_of_a_local_file(outbox_dir, monkeypatch):
    from lutea.config import reset_settings
    from lutea.data.mongo import get_db
    from lutea.email.messages import notify
    from lutea.email.service import EmailDeliveryError, backend

    db = get_db()  # the test database stays in use (the production settings below name no real server)
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("JWT_ACCESS_SECRET", "p" * 40)
    monkeypatch.setenv("JWT_REFRESH_SECRET", "q" * 40)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + "w" * 32)
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.delenv("RESEND_API_KEY", raising=False)
    reset_settings()
    with pytest.raises(EmailDeliveryError):
        backend()
    assert notify(send_booking_cancelled, _booking("PENDING"), refunded=False) is None
    assert [d["kind"] for d in db["emailfailures"].find({})] == ["booking_cancelled"]
    assert read_outbox(outbox_dir) == []
