"""Stripe against our bookings, over the last 5 days (the original's ``checkPaymentDiscrepancies``):

- orphan payments (``sessionDiscrepancies``): PaymentIntents that succeeded, were not refunded,
  and have no CONFIRMED booking;
- orphan bookings (``bookingDiscrepancies``): CONFIRMED Stripe bookings whose PaymentIntent is
  not among those succeeded-and-not-refunded payments, or does not pay for them by the test
  every acceptance of a payment uses (``booking_lifecycle.payment_problem``: currency, booking,
  amount kept).

Item fields are the original's; ``amount`` is Stripe's amount in cents for a payment and the
booking's ``prixTotal`` in euros for a booking, as the original sent them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.bookings import BookingRepository
from lutea.domain.booking_lifecycle import payment_problem
from lutea.money import format_euros
from lutea.observability import logger, metrics
from lutea.payments.gateway import get_gateway
from lutea.wire import cents_to_euros, is_object_id, iso

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc

WINDOW = timedelta(days=5)
SCHEDULED_GRACE_MINUTES = 5  # the scheduled check leaves webhooks a moment to arrive
NA = "N/A"
PROBLEM_NO_PAYMENT = "PaymentIntent introuvable dans les paiements réussis Stripe (peut-être remboursé, annulé, ou introuvable)"
ALERT_TITLE = "Incohérences de paiement détectées"
MESSAGE_ALERT_SENT = "Alerte envoyée par email"
MESSAGE_NO_DISCREPANCY = "Aucune incohérence détectée"


def _is_paid_and_kept(pi: dict[str, Any]) -> bool:
    return bool(pi["status"] == "succeeded" and pi["amount_received"] > 0 and pi["amount_refunded"] == 0)


def _day(value: Any) -> str:
    return as_utc(value).date().isoformat() if hasattr(value, "date") else NA


def find_payment_discrepancies(grace_minutes: int = 0) -> dict[str, Any]:
    """The report of API.md's ``GET /bookings/admin/payment-discrepancies`` (wire-ready)."""
    current = now()
    since = current - WINDOW
    payments = {pi["id"]: pi for pi in get_gateway().list_payment_intents(since) if _is_paid_and_kept(pi)}
    repo = BookingRepository()
    confirmed = [
        b
        for b in repo.list_created_since(since)
        if b.get("statut") == "CONFIRMED" and b.get("isStripeBooking", True) is not False
    ]
    booked_payments = {b["stripePaymentIntentId"]: b for b in confirmed if b.get("stripePaymentIntentId")}

    grace_limit = current - timedelta(minutes=grace_minutes)
    orphan_payments = []
    for pi_id, pi in payments.items():
        paid_at = datetime.fromtimestamp(pi["created"], UTC)
        if pi_id in booked_payments or paid_at > grace_limit:
            continue
        metadata = pi["metadata"]
        # The booking (cancelled, expired) still says who paid; Stripe's metadata holds no email.
        booking = repo.get(ObjectId(metadata["bookingId"])) if is_object_id(metadata.get("bookingId")) else None
        booking = booking or {}
        if booking.get("annulePar") == "client":
            continue  # cancelled by its owner: what the refund policy kept is not an orphan payment
        orphan_payments.append(
            {
                "paymentId": pi_id,
                "retreatId": metadata.get("retreatId") or (str(booking["retreatId"]) if booking.get("retreatId") else None),
                "retreatName": metadata.get("retreatName") or booking.get("retreatName") or NA,
                "sessionDate": metadata.get("sessionDate") or _day(booking.get("dateStart")),
                "amount": pi["amount"],
                "clientEmail": _contact(booking),
                "createdAt": iso(paid_at),
            }
        )

    orphan_bookings = []
    for booking in confirmed:
        pi_id = booking.get("stripePaymentIntentId")
        if not pi_id or (pi_id in payments and payment_problem(booking, payments[pi_id]) is None):
            continue
        orphan_bookings.append(
            {
                "bookingId": str(booking["_id"]),
                "paymentIntentId": pi_id,
                "retreatId": str(booking["retreatId"]) if booking.get("retreatId") else NA,
                "retreatName": booking.get("retreatName") or NA,
                "sessionDate": _day(booking.get("dateStart")),
                "clientEmail": _contact(booking),
                "amount": cents_to_euros(int(booking.get("prixTotalCents") or 0)),
                "createdAt": iso(booking.get("createdAt") or current),
                "problem": PROBLEM_NO_PAYMENT,
            }
        )

    total = len(orphan_payments) + len(orphan_bookings)
    summary = {
        "totalDiscrepancies": total,
        "orphanPaymentsCount": len(orphan_payments),
        "orphanBookingsCount": len(orphan_bookings),
        "retreatsWithIssues": len({p["retreatId"] for p in orphan_payments} | {b["retreatId"] for b in orphan_bookings}),
        "sessionsWithIssues": total,
    }
    if total:
        logger.warning(
            "payment discrepancies",
            extra={
                "orphan_payments": [p["paymentId"] for p in orphan_payments],
                "orphan_bookings": [b["bookingId"] for b in orphan_bookings],
            },
        )
    metrics.add_metric(name="PaymentDiscrepancies", unit=MetricUnit.Count, value=total)
    return {"summary": summary, "sessionDiscrepancies": orphan_payments, "bookingDiscrepancies": orphan_bookings}


def alert_text(report: dict[str, Any]) -> str:
    """The admin alert's body (plain text: the template escapes and preformats it)."""
    summary = report["summary"]
    lines = [
        "RÉSUMÉ :",
        f"- Total des incohérences : {summary['totalDiscrepancies']}",
        f"- Paiements orphelins (sans booking) : {summary['orphanPaymentsCount']}",
        f"- Bookings orphelins (sans paiement valide) : {summary['orphanBookingsCount']}",
        f"- Retraites avec problèmes : {summary['retreatsWithIssues']}",
        "",
    ]
    for n, p in enumerate(report["sessionDiscrepancies"], 1):
        lines += [
            f"Paiement Stripe sans booking #{n}",
            f"  Retraite : {p['retreatName']}",
            f"  Date session : {p['sessionDate']}",
            "  Booking ID : N/A",
            f"  PaymentIntent : {p['paymentId']}",
            f"  Montant : {format_euros(int(p['amount']))}",
            f"  Email : {p['clientEmail']}",
            f"  Date paiement : {p['createdAt']}",
            "",
        ]
    for n, b in enumerate(report["bookingDiscrepancies"], 1):
        lines += [
            f"Booking sans paiement Stripe valide #{n}",
            f"  Retraite : {b['retreatName']}",
            f"  Date session : {b['sessionDate']}",
            f"  Booking ID : {b['bookingId']}",
            f"  PaymentIntent : {b['paymentIntentId']}",
            f"  Email : {b['clientEmail']}",
            f"  Date réservation : {b['createdAt']}",
            "",
        ]
    lines.append("Veuillez vérifier le tableau de bord admin pour plus de détails.")
    return "\n".join(lines)


def check_and_alert(grace_minutes: int = 0) -> dict[str, Any]:
    """Run the check and email the admin when anything is off: ``{message, discrepancies}``
    (the summary), the answer of ``POST /bookings/admin/send-payment-alert``."""
    from lutea.email.messages import send_admin_alert

    report = find_payment_discrepancies(grace_minutes)
    if report["summary"]["totalDiscrepancies"] == 0:
        return {"message": MESSAGE_NO_DISCREPANCY, "discrepancies": report["summary"]}
    send_admin_alert(ALERT_TITLE, alert_text(report))
    metrics.add_metric(name="PaymentAlertsSent", unit=MetricUnit.Count, value=1)
    return {"message": MESSAGE_ALERT_SENT, "discrepancies": report["summary"]}


def _contact(booking: BookingDoc) -> str:
    participants = booking.get("participants") or []
    return str(participants[0].get("email") or NA) if participants else NA
