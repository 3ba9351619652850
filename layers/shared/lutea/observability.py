"""Powertools singletons: created once, imported everywhere.

The Tracer is created only where traces are recorded (in Lambda, with tracing on): its
constructor imports the X-Ray SDK and botocore, ~150 ms of every cold start, which local runs,
tests and functions with tracing disabled should not pay. Lambda still records its own segment
for every invocation (``Tracing: Active`` in template.yaml)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "lutea")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Lutea"), service=SERVICE)

# A request that counts nothing is normal; Powertools would warn on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count_metric(name: str, value: int = 1) -> None:
    """Add ``value`` to a Count metric of this function; a metric never fails the work it counts."""
    from aws_lambda_powertools.metrics import MetricUnit

    try:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    except Exception:  # noqa: BLE001 - Powertools refuses bad names or too many metrics
        logger.debug("metric dropped", extra={"metric": name})


def tracing_enabled() -> bool:
    """As Powertools decides: on in Lambda unless POWERTOOLS_TRACE_DISABLED is set."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes")
    return not disabled and bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


@cache
def get_tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def traced[F: Callable[..., Any]](handler: F) -> F:
    """Wrap a Lambda entry point with the X-Ray tracer when traces are recorded."""
    if not tracing_enabled():
        return handler
    return get_tracer().capture_lambda_handler(capture_response=False)(handler)  # type: ignore[no-any-return]


def instrumented[F: Callable[..., Any]](handler: F, *, correlation_id_path: str | None = None) -> F:
    """Every Lambda entry point: structured logs with the Lambda context (and a correlation id
    when the event has one), EMF metrics flushed at the end, X-Ray when recording."""
    from lutea import coldstart
    from lutea.snapstart import register_hooks

    register_hooks()  # SnapStart (opt-in): no connection, secret or random state outlives a snapshot
    logged = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(handler)
    # Powertools prints the cold-start metric even with metrics disabled (make dev's console).
    cold_start = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() not in ("1", "true", "yes")
    entry = traced(metrics.log_metrics(capture_cold_start_metric=cold_start)(logged))
    coldstart.init_done()  # the entry point is the last thing init builds
    return entry  # type: ignore[no-any-return]
