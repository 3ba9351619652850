"""The payment discrepancy check: GET /bookings/admin/payment-discrepancies, POST
/bookings/admin/send-payment-alert and the 6-hourly scheduled handler, against the fake Stripe."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from lutea.config import LOCAL_EMAIL_ADMIN as ADMIN

from tests.integration.payments.conftest import PRICE_CENTS, Payments, insert_retreat
from tests.support.accounts import admin_session, client_session
from tests.support.catalogue import START
from tests.support.outbox import read_outbox

EMPTY_SUMMARY = {
    "totalDiscrepancies": 0,
    "orphanPaymentsCount": 0,
    "orphanBookingsCount": 0,
    "retreatsWithIssues": 0,
    "sessionsWithIssues": 0,
}


def _confirmed(payments: Payments, retreat: dict, nb: int = 2) -> tuple[Any, dict]:
    booking = payments.book(retreat, nb=nb)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    assert payments.deliver("payment_intent.succeeded", pi).status == 200
    return booking, pi


def _backdate(payments: Payments, pi_id: str, seconds: int) -> None:
    payments.fake.payment_intents[pi_id]["created"] -= seconds


@pytest.fixture
def admin(make_client: Any) -> Any:
    return admin_session(make_client)[0]


def test_nothing_to_report(payments: Payments, retreat: dict, admin: Any) -> None:
    _confirmed(payments, retreat)
    response = admin.get("/bookings/admin/payment-discrepancies")
    assert response.status == 200, response.body
    assert response.json() == {"summary": EMPTY_SUMMARY, "sessionDiscrepancies": [], "bookingDiscrepancies": []}
    [listing] = [r for r in payments.fake.requests_to("GET", "/v1/payment_intents") if r.path == "/v1/payment_intents"]
    assert listing.params["expand"] == ["data.latest_charge"]
    assert int(listing.params["created"]["gte"]) == pytest.approx(time.time() - 5 * 86400, abs=60)


def test_orphan_payments_and_orphan_bookings_are_reported(payments: Payments, retreat: dict, admin: Any) -> None:
    from lutea.domain.booking_lifecycle import cancel_for_payment_failure
    from lutea.payments.gateway import get_gateway

    _confirmed(payments, retreat)  # fine
    # Paid at Stripe, but the booking was cancelled and never confirmed.
    unpaid = payments.book(retreat, nb=1)
    orphan_pi = payments.fake.succeed(payments.create_intent(unpaid)["id"])
    cancel_for_payment_failure(unpaid.id)
    # Paid then refunded at Stripe, booking never confirmed: settled, not reported.
    settled = payments.book(retreat, nb=1)
    settled_pi = payments.fake.succeed(payments.create_intent(settled)["id"])
    get_gateway().refund(settled_pi["id"])
    # Confirmed here, refunded at Stripe without us hearing of it.
    refunded_booking, refunded_pi = _confirmed(payments, retreat, nb=1)
    get_gateway().refund(refunded_pi["id"])
    # Too old to matter, and a payment that is not ours at all.
    payments.fake.add_payment_intent(amount=5000, status="succeeded", created=int(time.time()) - 6 * 86400)
    foreign = payments.fake.add_payment_intent(amount=7000, status="succeeded")

    response = admin.get("/bookings/admin/payment-discrepancies")
    assert response.status == 200, response.body
    report = response.json()
    orphans = {p["paymentId"]: p for p in report["sessionDiscrepancies"]}
    assert set(orphans) == {orphan_pi["id"], foreign["id"]}
    assert orphans[orphan_pi["id"]] == {
        "paymentId": orphan_pi["id"],
        "retreatId": str(retreat["_id"]),
        "retreatName": "Retraite Équinoxe",
        "sessionDate": START.strftime("%Y-%m-%d"),
        "amount": PRICE_CENTS,
        "clientEmail": "zoe0@example.test",
        "createdAt": orphans[orphan_pi["id"]]["createdAt"],
    }
    assert orphans[orphan_pi["id"]]["createdAt"].endswith("Z")
    assert orphans[foreign["id"]] == {
        "paymentId": foreign["id"],
        "retreatId": None,
        "retreatName": "N/A",
        "sessionDate": "N/A",
        "amount": 7000,
        "clientEmail": "N/A",
        "createdAt": orphans[foreign["id"]]["createdAt"],
    }
    [orphan_booking] = report["bookingDiscrepancies"]
    stored = refunded_booking.stored()
    assert orphan_booking == {
        "bookingId": refunded_booking.id,
        "paymentIntentId": refunded_pi["id"],
        "retreatId": str(retreat["_id"]),
        "retreatName": "Retraite Équinoxe",
        "sessionDate": START.strftime("%Y-%m-%d"),
        "clientEmail": "zoe0@example.test",
        "amount": 120,
        "createdAt": stored["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{stored['createdAt'].microsecond // 1000:03d}Z",
        "problem": "PaymentIntent introuvable dans les paiements réussis Stripe (peut-être remboursé, annulé, ou introuvable)",
    }
    assert report["summary"] == {
        "totalDiscrepancies": 3,
        "orphanPaymentsCount": 2,
        "orphanBookingsCount": 1,
        "retreatsWithIssues": 2,
        "sessionsWithIssues": 3,
    }


def test_manual_bookings_are_not_checked_against_stripe(payments: Payments, retreat: dict, admin: Any) -> None:
    from lutea.data.mongo import get_db

    booking = payments.book(retreat)
    get_db()["bookings"].update_one(
        {"_id": booking.stored()["_id"]},
        {
            "$set": {
                "isStripeBooking": False,
                "statut": "CONFIRMED",
                "statutPaiement": "PAID",
                "stripePaymentIntentId": "pi_manual1",
            }
        },
    )
    assert admin.get("/bookings/admin/payment-discrepancies").json()["summary"] == EMPTY_SUMMARY


def test_only_admins_see_the_report(payments: Payments, make_client: Any) -> None:
    client, _ = client_session(make_client)
    assert client.get("/bookings/admin/payment-discrepancies").status == 403
    assert make_client().get("/bookings/admin/payment-discrepancies").status == 401
    assert client.post("/bookings/admin/send-payment-alert").status == 403
    assert payments.fake.requests == []


def test_stripe_down_is_502(payments: Payments, admin: Any) -> None:
    payments.fake.failures = [500, 500]
    response = admin.get("/bookings/admin/payment-discrepancies")
    assert response.status == 502


def test_the_alert_is_sent_when_something_is_off(payments: Payments, retreat: dict, admin: Any, outbox_dir: Path) -> None:
    booking = payments.book(retreat, nb=1)
    pi = payments.fake.succeed(payments.create_intent(booking)["id"])
    response = admin.post("/bookings/admin/send-payment-alert")
    assert response.status == 201, response.body
    assert response.json() == {
        "message": "Alerte envoyée par email",
        "discrepancies": {
            "totalDiscrepancies": 1,
            "orphanPaymentsCount": 1,
            "orphanBookingsCount": 0,
            "retreatsWithIssues": 1,
            "sessionsWithIssues": 1,
        },
    }
    [mail] = read_outbox(outbox_dir)
    assert mail.kind == "admin_alert"
    assert mail.to == [ADMIN]
    assert "Incohérences de paiement détectées" in mail.subject
    assert pi["id"] in mail.text
    assert "Paiements orphelins (sans booking) : 1" in mail.text


def test_no_alert_when_all_is_well(payments: Payments, retreat: dict, admin: Any, outbox_dir: Path) -> None:
    _confirmed(payments, retreat)
    before = len(read_outbox(outbox_dir))
    response = admin.post("/bookings/admin/send-payment-alert")
    assert response.status == 201
    assert response.json() == {"message": "Aucune incohérence détectée", "discrepancies": EMPTY_SUMMARY}
    assert len(read_outbox(outbox_dir)) == before


def _scheduled() -> Any:
    from infra.local.gateway import ROOT, LambdaContext, load_function_module

    module = load_function_module(ROOT / "functions" / "scheduled")
    return module.check_payment_discrepancies, LambdaContext("CheckPaymentDiscrepanciesFunction")


def test_the_scheduled_check_alerts_with_a_grace_period(payments: Payments, outbox_dir: Path) -> None:
    retreat = insert_retreat()
    fresh = payments.book(retreat, nb=1)
    fresh_pi = payments.fake.succeed(payments.create_intent(fresh)["id"])  # its webhook may be on its way
    handler, context = _scheduled()
    result = handler({"source": "aws.events"}, context)
    assert result == {"message": "Aucune incohérence détectée", "discrepancies": EMPTY_SUMMARY}
    assert read_outbox(outbox_dir) == []

    _backdate(payments, fresh_pi["id"], 10 * 60)  # ten minutes later, still nothing
    result = handler({"source": "aws.events"}, context)
    assert result["message"] == "Alerte envoyée par email"
    assert result["discrepancies"]["orphanPaymentsCount"] == 1
    [mail] = read_outbox(outbox_dir)
    assert (mail.kind, mail.to) == ("admin_alert", [ADMIN])
    assert fresh_pi["id"] in mail.text


def test_a_confirmed_booking_whose_payment_does_not_pay_for_it_is_reported(payments: Payments, retreat: dict, admin: Any) -> None:
    """The check uses the same test as every acceptance of a payment: a confirmed booking whose
    PaymentIntent is in another currency (confirmed in the dashboard, or before the check
    existed) is reported, not taken as paid."""
    from lutea.data.mongo import get_db

    booking, pi = _confirmed(payments, retreat, nb=1)
    payments.fake.payment_intents[pi["id"]]["currency"] = "usd"
    response = admin.get("/bookings/admin/payment-discrepancies")
    assert response.status == 200, response.body
    [reported] = response.json()["bookingDiscrepancies"]
    assert reported["bookingId"] == booking.id
    assert get_db()["bookings"].find_one({"_id": booking.stored()["_id"]})["statut"] == "CONFIRMED"
