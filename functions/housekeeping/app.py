"""Scheduled housekeeping jobs that need neither Stripe nor the PDF library (their artifact
ships only the shared layer): the cleanup of unvalidated registrations and the retry of failed
emails. The jobs that talk to Stripe live in functions/scheduled/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from lutea.observability import instrumented, logger, metrics

if TYPE_CHECKING:  # a type only: its module is not needed at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext


@instrumented
def cleanup_temporary_users(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Hourly: delete registrations never validated within 24 h (counted, never listed)."""
    from lutea.domain.accounts import cleanup_expired_registrations

    deleted = cleanup_expired_registrations()
    logger.info("expired temporary users deleted", extra={"deleted": deleted})
    metrics.add_metric(name="TemporaryUsersDeleted", unit=MetricUnit.Count, value=deleted)
    return {"deleted": deleted}


@instrumented
def retry_failed_emails(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Every 15 minutes: send again the emails whose delivery failed (growing delays, bounded
    attempts; see lutea/email/README.md), then report how long the oldest one has been owed
    (``OldestOwedEmailAgeSeconds``, alarmed in template.yaml)."""
    import lutea.domain.accounts  # noqa: F401 - gives failed link emails their fresh links on retry
    from lutea.clock import now
    from lutea.data.email_failures import EmailFailureRepository
    from lutea.email.failures import retry_failed_emails as retry

    counts = retry()
    oldest = EmailFailureRepository().oldest_pending_since()
    age = 0 if oldest is None else max(0, int((now() - oldest).total_seconds()))
    metrics.add_metric(name="OldestOwedEmailAgeSeconds", unit=MetricUnit.Seconds, value=age)
    return counts
