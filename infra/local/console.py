"""`make dev`'s console: one readable line per request, warnings and errors in full.

In AWS the functions log JSON for CloudWatch; locally the same records are printed as
``WARNING  message  key=value …`` (with the traceback of an exception), the Lambda context keys
left out. Info logs are hidden unless ``POWERTOOLS_LOG_LEVEL=INFO``."""

from __future__ import annotations

import json
from typing import Any, cast

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord

# The Lambda context and Powertools' own keys: the same on every line locally, so noise.
CONTEXT_KEYS = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
        "sampling_rate",
        "exception",
        "exception_name",
        "exception_notes",
        "stack_trace",
    }
)


class ConsoleFormatter(LambdaPowertoolsFormatter):
    """Powertools' formatter (it still gathers the keys and the exception), printed for people."""

    def serialize(self, log: LogRecord) -> str:
        log = cast(dict[str, Any], log)  # the keys powertools gathered: a plain dict, read by name
        message = log.get("message")
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False, default=str)
        extras = " ".join(f"{key}={_short(value)}" for key, value in log.items() if key not in CONTEXT_KEYS)
        line = f"{log.get('level', '')!s:<8} {text}" + (f"  {extras}" if extras else "")
        if log.get("function_name"):
            line += f"  [{log['function_name']}]"
        if log.get("exception"):
            line += "\n" + str(log["exception"]).rstrip()
        return line


def _short(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def request_line(method: str, path: str, status: int | str, elapsed_ms: float) -> str:
    return f"{method} {path} {status} {elapsed_ms:.0f} ms"


def use_console_logs() -> None:
    """Print the functions' logs (one Powertools logger shared by the layer) for people."""
    from lutea.observability import logger

    logger.registered_handler.setFormatter(ConsoleFormatter())
