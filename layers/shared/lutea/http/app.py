"""The resolver factory: every function builds its API with ``create_app()`` and exposes
``make_handler(app)``. One place for the conventions of API.md: guards before validation, the
error model, CORS, security headers, body limits."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from lutea.config import get_settings
from lutea.data import mongo
from lutea.errors import LuteaError, RateLimited, TooLarge, Unavailable
from lutea.http import ratelimit
from lutea.http.caching import cacheable_json, etag_of
from lutea.http.cors import cors_headers
from lutea.http.encoding import encode_json
from lutea.http.errors import error_response, status_of
from lutea.http.guards import access_of, authenticate, check_proof, lowercase_headers, set_principal
from lutea.http.paths import normalize_path
from lutea.http.powertools_seams import GuardedResolver
from lutea.http.screen import body_problem, params_problem
from lutea.observability import count_metric, instrumented, logger
from lutea.validation import error_entries

if TYPE_CHECKING:  # a type only: its module is not needed at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

# The equivalent of the original's helmet defaults that make sense for a JSON API.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-site",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-DNS-Prefetch-Control": "off",
    "Cache-Control": "no-store",
}

# Stripe's signed events are read only once their signature is verified, as they were sent.
UNSCREENED_BODY_PATHS = frozenset({"/stripe/webhook"})

# 401 on the profile probe is how the frontend learns nobody is signed in: not a warning.
QUIET_401_PATHS = frozenset({"/auth/profile"})


class LuteaResolver(GuardedResolver):
    """The API's resolver: guards before request validation, plain JSON results encoded once
    (the two hooks of lutea.http.powertools_seams), then screening, rate limit, CORS below."""

    _headers: dict[str, str] = {}  # noqa: RUF012 - the current event's, lower-cased (one event at a time)

    def authorise(self, route: Any) -> None:
        principal = authenticate(self.current_event.http_method, self._headers, access_of(route.func))
        set_principal(principal)
        check_proof(route.func, principal, self._headers)

    def encode_result(self, result: Any) -> Response[str] | None:
        """Routes return JSON-ready data (lutea.wire.to_wire): encoded once, here."""
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], dict | list):
            return json_body(result[1], result[0])
        if isinstance(result, dict | list):
            return json_body(200, result)
        return None

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        set_principal(None)
        event = dict(event)
        # Before anything reads it: the rate limiter, the guards and the router see one spelling.
        path = event["path"] = normalize_path(event.get("path"))
        self._headers = lowercase_headers(event.get("headers"))  # this event's, read by authorise
        early = self._screen(event, path)
        if early is None and event.get("httpMethod") != "OPTIONS":
            early = self._throttle(event, path)
        result = early if early is not None else super().resolve(event, context)
        _decorate(result, cors_headers(self._headers.get("origin"), preflight=event.get("httpMethod") == "OPTIONS"))
        return result

    def _screen(self, event: dict[str, Any], path: str) -> dict[str, Any] | None:
        """What is answered before routing: preflight, oversized or undecodable bodies, and the
        extreme inputs that would fail below validation (lutea.http.screen)."""
        method = (event.get("httpMethod") or "").upper()
        if method == "OPTIONS":
            return {"statusCode": 204, "headers": {}, "multiValueHeaders": {}, "body": "", "isBase64Encoded": False}
        refused = params_problem(
            (event.get("queryStringParameters"), event.get("multiValueQueryStringParameters"), event.get("pathParameters"))
        )
        if refused is not None:
            return _as_proxy(error_response(400, refused, path))
        body = event.get("body")
        if body is None:
            return None
        media_type = (self._headers.get("content-type") or "application/json").split(";", 1)[0].strip().lower()
        if body and not (media_type == "application/json" or media_type.endswith("+json")):
            # The API speaks JSON only: refuse other media types before any parser sees them.
            return _as_proxy(error_response(415, "Type de contenu non supporté : envoyez du JSON (application/json)", path))
        try:
            raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
            if len(raw) > get_settings().max_body_bytes:
                raise TooLarge()
            if event.get("isBase64Encoded"):
                event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
        except (binascii.Error, UnicodeDecodeError):
            return _as_proxy(error_response(400, "Corps de requête illisible", path))
        except TooLarge as exc:
            return _as_proxy(error_response(413, exc.message, path))
        if path not in UNSCREENED_BODY_PATHS:
            refused = body_problem(event["body"])
            if refused is not None:
                return _as_proxy(error_response(400, refused, path))
        return None

    @staticmethod
    def _throttle(event: dict[str, Any], path: str) -> dict[str, Any] | None:
        try:
            ratelimit.enforce(event)
        except RateLimited as exc:
            return _as_proxy(error_response(429, exc.message, path, headers=exc.headers))
        except Exception as exc:  # noqa: BLE001 - an outage answers 503; a limiter bug lets the request through
            if mongo.is_unavailable(exc):
                # The database is down: the route would wait for it a second time and fail too.
                return _as_proxy(unavailable_response(path, _route_of(event)))
            # A bug in the limiter itself must not take the API down.
            logger.exception("rate limiter failed; request let through", extra={"route": _route_of(event)})
        return None


def _route_of(event: Mapping[str, Any]) -> str:
    """What logs say of a request's path: the route's template (``/users/check-temporary/{email}``),
    never the path itself, which may hold an address or a token."""
    return str(event.get("resource") or "unmatched")


def _as_proxy(response: Response[Any]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "multiValueHeaders": {},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _decorate(result: dict[str, Any], extra: dict[str, str]) -> None:
    headers = result.setdefault("headers", {}) or {}
    multi = result.get("multiValueHeaders") or {}
    for name, value in {**SECURITY_HEADERS, **extra}.items():
        if name in multi:
            continue
        if result.get("multiValueHeaders") is not None and "headers" not in result:
            multi[name] = [value]
        else:
            headers.setdefault(name, value)
    if extra:
        _vary_on_origin(headers, multi)
    result["headers"] = headers


def _vary_on_origin(headers: dict[str, str], multi: dict[str, list[str]]) -> None:
    """Add ``Origin`` to ``Vary`` once, wherever the route put its own ``Vary`` (if at all)."""
    if "Vary" in multi:
        if not any("origin" in v.lower() for v in multi["Vary"]):
            multi["Vary"] = [", ".join([*multi["Vary"], "Origin"])]
        return
    vary = headers.get("Vary")
    if vary is None:
        headers["Vary"] = "Origin"
    elif "origin" not in vary.lower():
        headers["Vary"] = f"{vary}, Origin"


def create_app(*, title: str = "Lutea API") -> LuteaResolver:
    # Read (and checked) when the container starts: a deployed stage left with a default secret
    # fails its cold start instead of answering requests signed with a public key.
    get_settings()
    app = LuteaResolver(enable_validation=True, serializer=encode_json)

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response[str]:
        messages, fields = error_entries(list(exc.errors()))
        return error_response(400, messages, app.current_event.path, fields=fields)

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "Type de contenu non supporté : envoyez du JSON (application/json)", app.current_event.path)

    @app.exception_handler(LuteaError)
    def _domain(exc: LuteaError) -> Response[str]:
        status = status_of(exc)
        path = app.current_event.path
        route = _route_of(app.current_event.raw_event)
        if status >= 500:
            logger.error("request failed", extra={"status": status, "route": route, "error": type(exc).__name__})
        elif not (status == 401 and path in QUIET_401_PATHS):
            logger.info("request refused", extra={"status": status, "route": route, "error": type(exc).__name__})
        return error_response(status, exc.message, path, fields=exc.fields if status == 400 else None, headers=exc.headers)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        if mongo.is_unavailable(exc):
            return unavailable_response(app.current_event.path, _route_of(app.current_event.raw_event))
        # Logged with its traceback for us; the client gets no stack, ever.
        logger.exception("unexpected error", extra={"route": _route_of(app.current_event.raw_event)})
        return error_response(500, "Erreur interne du serveur", app.current_event.path)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(404, f"Cannot {event.http_method} {event.path}", event.path)

    return app


def unavailable_response(path: str, route: str) -> Response[str]:
    """503 with ``Retry-After``: the database is unreachable, failing over or too slow. The
    operation wrote nothing it can't recover from (single-document writes; see the reliability
    table in docs/reliability.md); the client may try again."""
    logger.error("database unavailable", extra={"route": route})
    count_metric("DatabaseUnavailable")
    return error_response(503, Unavailable.default_message, path, headers={"Retry-After": str(mongo.RETRY_AFTER_SECONDS)})


def json_body(
    status: int, payload: Any, *, cookies: list[Any] | None = None, headers: dict[str, str] | None = None
) -> Response[str]:
    """A JSON response with a status other than 200, or with cookies."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=encode_json(payload),
        cookies=cookies or [],
        headers=headers or {},
    )


_last_encoded: tuple[Any, str, str] | None = None


def _encoded_reused(payload: Any) -> tuple[str, str]:
    """The JSON encoding of ``payload`` and its ETag, reused while the very same payload object
    is served again (the public catalogue is rebuilt only when a retreat changes; encoding it
    was the largest remaining cost of the route). One slot per container."""
    global _last_encoded
    last = _last_encoded
    if last is not None and last[0] is payload:
        return last[1], last[2]
    body = encode_json(payload)
    tag = etag_of(body)
    _last_encoded = (payload, body, tag)
    return body, tag


def json_body_reused(payload: Any) -> Response[str]:
    """A 200 JSON response whose encoding is reused (see ``_encoded_reused``)."""
    body, _ = _encoded_reused(payload)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


def cacheable_json_body(payload: Any, if_none_match: str | None, *, reuse: bool = False) -> Response[str]:
    """A public JSON answer with ``ETag`` and ``Cache-Control``, or 304 when ``If-None-Match``
    names the current body (lutea.http.caching). ``reuse``: the payload object is served again
    unchanged while its source is (the catalogue), so its encoding and digest are kept."""
    if reuse:
        body, tag = _encoded_reused(payload)
    else:
        body = encode_json(payload)
        tag = etag_of(body)
    return cacheable_json(body, tag, if_none_match)


def make_handler(app: LuteaResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point: structured logs with the API Gateway request id as correlation
    id, X-Ray tracing and EMF metrics, then the resolver."""

    try:
        mongo.connect_at_init()  # one client per container, created during init
    except Exception:  # noqa: BLE001 - the first request tries again and answers 503 if it must
        logger.exception("database client not created at init")

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return instrumented(lambda_handler, correlation_id_path=correlation_paths.API_GATEWAY_REST)


__all__ = ["LuteaResolver", "cacheable_json_body", "create_app", "json_body", "json_body_reused", "make_handler"]
