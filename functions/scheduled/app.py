"""Scheduled jobs that talk to Stripe (EventBridge schedules of template.yaml), one handler per
job; those that need neither Stripe nor fpdf2 live in functions/housekeeping/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lutea.observability import instrumented, logger

if TYPE_CHECKING:  # a type only: its module is not needed at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext


@instrumented
def expire_pending_bookings(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every 20 minutes: PENDING bookings unpaid after 16 minutes -> CANCELLED, seats released
    once, PaymentIntents cancelled at Stripe (safe if two runs overlap)."""
    from lutea.domain.booking_lifecycle import expire_pending_bookings as expire

    expired = expire()
    return {"expired": expired}


@instrumented
def check_payment_discrepancies(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Every 6 hours: compare Stripe's payments of the last 5 days with the bookings and email
    the admin when anything is off (a 5-minute grace leaves fresh webhooks time to arrive)."""
    from lutea.domain.payment_discrepancies import SCHEDULED_GRACE_MINUTES, check_and_alert

    result = check_and_alert(SCHEDULED_GRACE_MINUTES)
    logger.info("payment discrepancy check", extra=result["discrepancies"])
    return result


@instrumented
def run_waiting_list_offers(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every 5 minutes: offers not taken in time pass to the next in line; free seats of every
    block with people waiting are offered; offer emails a crash left unsent are sent."""
    from lutea.domain.waiting_list import run_offers

    return run_offers()


@instrumented
def retry_owed_effects(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every 5 minutes: complete the side effects owed by transitions (refunds, emails,
    PaymentIntent cancellations) that a failure or a crash left undone (growing delays, never
    given up; the admin is alerted when one keeps failing)."""
    from aws_lambda_powertools.metrics import MetricUnit
    from lutea.domain.owed_effects import oldest_owed_ages
    from lutea.domain.owed_effects import retry_owed_effects as retry
    from lutea.observability import metrics

    counts = retry()
    ages = oldest_owed_ages()
    # Alarmed in template.yaml: a refund or an email that keeps failing quietly is seen.
    metrics.add_metric(name="OldestOwedRefundAgeSeconds", unit=MetricUnit.Seconds, value=ages["refund"])
    metrics.add_metric(name="OldestOwedEffectAgeSeconds", unit=MetricUnit.Seconds, value=ages["any"])
    return counts


@instrumented
def reconcile_seats(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every hour: compare the seat counters with the bookings and the retreats, repair drift
    left by functions killed between two writes (in the safe direction), alert the admin with
    what was found, and count it (SeatReconciliation.* metrics)."""
    from lutea.domain.seat_reconciliation import reconcile_seats as reconcile

    return reconcile().as_counts()
