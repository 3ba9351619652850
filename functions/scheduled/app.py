"""Scheduled jobs (EventBridge schedules of template.yaml), one handler per job."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from lutea.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def cleanup_temporary_users(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Hourly: delete registrations never validated within 24 h (counted, never listed)."""
    from lutea.domain.accounts import cleanup_expired_registrations

    deleted = cleanup_expired_registrations()
    logger.info("expired temporary users deleted", extra={"deleted": deleted})
    metrics.add_metric(name="TemporaryUsersDeleted", unit=MetricUnit.Count, value=deleted)
    return {"deleted": deleted}
