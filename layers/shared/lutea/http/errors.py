"""The error model of API.md (the original's global filter), in one place:
``{statusCode, message, timestamp, path}`` plus ``details`` on every 400."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from lutea import errors
from lutea.clock import now
from lutea.http.encoding import encode_json
from lutea.wire import iso

STATUS: dict[type[errors.LuteaError], int] = {
    errors.InvalidInput: 400,
    errors.NotAuthenticated: 401,
    errors.NotAllowed: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.RateLimited: 429,
    errors.UpstreamFailure: 502,
    errors.Unavailable: 503,
}


def status_of(exc: errors.LuteaError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(status: int, message: Any, path: str, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "timestamp": iso(now()), "path": path}
    if status == 400:
        details: dict[str, Any] = {"statusCode": 400, "message": message, "error": "Bad Request"}
        if fields:
            details["fields"] = fields
        body["message"] = "Données invalides"
        body["details"] = details
    else:
        body["message"] = message
    return body


def error_response(
    status: int, message: Any, path: str, *, fields: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=encode_json(error_body(status, message, path, fields)),
        headers=headers or {},
    )
