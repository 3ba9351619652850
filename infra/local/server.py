"""Serve every route of template.yaml on http://127.0.0.1:$PORT without Docker.

Each request becomes the REST proxy event API Gateway would send and is handed to the
function's own handler, in this one process. Embedded defaults: the in-process MongoDB
stand-in, SQLite analytics, an .eml outbox, demo data. Run with ``make dev``.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# An email address, plain or percent-encoded, anywhere in a request line (path or query).
_ADDRESS = re.compile(r"[^\s/?&=;'\"]+(?:@|%40)[^\s/?&=;'\"]+", re.IGNORECASE)


def _without_addresses(text: str) -> str:
    """A request line as logged, without the addresses it may hold (the probe's path, the
    admin's search query)."""
    return _ADDRESS.sub("…", text)


# Local values that replace the template's AWS-only settings; the caller's environment wins.
LOCAL_DEFAULTS = {
    "STAGE": "local",
    "FRONTEND_URL": "http://localhost:3000",
    "EMAIL_OUTBOX_DIR": str(ROOT / ".local" / "outbox"),
    "ANALYTICS_SQLITE_PATH": str(ROOT / ".local" / "analytics.sqlite3"),
    "POWERTOOLS_SERVICE_NAME": "lutea-local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "LuteaLocal",
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF lines are for CloudWatch; locally they drown the log
    "POWERTOOLS_LOG_LEVEL": "WARNING",  # the console shows one line per request, warnings, errors
    "RATE_LIMIT_PER_MINUTE": "100",
    "MYSQL_TLS": "off",  # a local MariaDB (MYSQL_HOST) speaks plain TCP on loopback; set it to try TLS
}
LOCAL_STRIPE_KEY = "sk_test_local"  # the settings' default: no Stripe account configured
# Template variables that only make sense in AWS: the names of the Secrets Manager secrets
# (lutea.config.SECRET_SOURCES) and the custom domain.
AWS_ONLY_BESIDES_SECRETS = {"API_DOMAIN"}


def _resolve(value: Any, parameters: dict[str, Any]) -> str | None:
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        param = parameters.get(value["Ref"], {})
        default = param.get("Default")
        return None if default is None else str(default)
    return None  # other intrinsics have no local meaning


def local_environment(template: dict[str, Any], functions: dict[str, Any]) -> dict[str, str]:
    """The functions' environment from the template, with local overrides, then the caller's."""
    from lutea.config import SECRET_SOURCES

    aws_only = AWS_ONLY_BESIDES_SECRETS | set(SECRET_SOURCES)
    parameters = template.get("Parameters", {})
    env: dict[str, str] = {}
    for fn in functions.values():
        for name, value in fn.environment.items():
            resolved = _resolve(value, parameters)
            if resolved is not None and name not in aws_only:
                env.setdefault(name, resolved)
    env.update(LOCAL_DEFAULTS)
    env = {k: v for k, v in env.items() if v != ""}
    env.update({k: os.environ[k] for k in env if k in os.environ})
    return env


class _Handler(BaseHTTPRequestHandler):
    server_version = "lutea-local"
    protocol_version = "HTTP/1.1"

    _started = 0.0

    def parse_request(self) -> bool:
        self._started = time.perf_counter()  # the request line is read: the clock of this request
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        from infra.local.console import request_line

        status = getattr(code, "value", code)
        print(
            request_line(self.command, _without_addresses(self.path), status, (time.perf_counter() - self._started) * 1000),
            flush=True,
        )

    def log_message(self, fmt: str, *args: Any) -> None:  # http.server's own errors, in full
        sys.stderr.write(f"WARNING  {_without_addresses(fmt % args)}  client={self.client_address[0]}\n")

    def _serve(self) -> None:
        from infra.local import gateway, stripe_standin
        from infra.local.extras import local_only_response

        parts = urlsplit(self.path)
        method = self.command.upper()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._send_error(413, "Requête trop volumineuse", parts.path)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        standin = self.server.stripe_standin  # type: ignore[attr-defined]
        if standin is not None and (parts.path == stripe_standin.PREFIX or parts.path.startswith(stripe_standin.PREFIX + "/")):
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*stripe_standin.serve(standin, method, parts.path, parts.query, headers, body))
            return
        extra = local_only_response(method, parts.path)
        if extra is not None:
            self._send(*extra)
            return
        table = self.server.route_table  # type: ignore[attr-defined]
        route, params, path_known = gateway.match(table, method, parts.path)
        if route is None:
            if path_known:
                self._send_error(405, f"Cannot {method} {parts.path}", parts.path)
            else:
                self._send_error(404, f"Cannot {method} {parts.path}", parts.path)
            return
        headers = {k: v for k, v in self.headers.items()}
        event = gateway.build_event(
            method,
            parts.path,
            resource=route.path,
            path_parameters=params,
            query=parts.query,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
        )
        try:
            result = gateway.invoke(route, event)
        except Exception:  # noqa: BLE001 - a crash in a handler is a 500, like Lambda's
            import traceback

            traceback.print_exc()
            self._send_error(502, "Internal server error", parts.path)
            return
        self._send_proxy_result(result)

    def _send_proxy_result(self, result: dict[str, Any]) -> None:
        import base64

        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
        headers: list[tuple[str, str]] = list((result.get("headers") or {}).items())
        single = {k.lower() for k, _ in headers}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if name.lower() in single and name.lower() != "set-cookie":
                continue
            headers.extend((name, v) for v in values)
        self._send(int(result.get("statusCode", 200)), headers, payload)

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_error(self, status: int, message: str, path: str) -> None:
        from lutea.http.encoding import encode_json
        from lutea.http.errors import error_body

        payload = encode_json(error_body(status, message, path)).encode()
        self._send(status, [("Content-Type", "application/json")], payload)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the router (TRACE, CONNECT, anything): an unknown one on a known
        # path is a 405 in API.md's error shape, not http.server's bare 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog (5) resets connections under a burst

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing or resetting a keep-alive connection is normal, not a traceback.
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError | ConnectionAbortedError | TimeoutError):
            return
        super().handle_error(request, client_address)


def use_stripe_standin(port: int) -> Any:
    """The Stripe stand-in, unless the caller configured a Stripe of their own (a test-mode
    key with ``stripe listen``, or ``STRIPE_API_BASE``): the SDK is pointed at it and its
    events are delivered, signed, to this server's webhook route."""
    from infra.local.stripe_standin import PREFIX, StripeStandIn, WebhookSender

    if os.environ.get("STRIPE_API_BASE") or os.environ.get("STRIPE_SECRET_KEY", LOCAL_STRIPE_KEY) != LOCAL_STRIPE_KEY:
        return None
    base = f"http://127.0.0.1:{port}"
    os.environ.update(STRIPE_API_BASE=base + PREFIX, STRIPE_SECRET_KEY=LOCAL_STRIPE_KEY)
    secret = os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_local")
    sender = WebhookSender(base + "/stripe/webhook", secret, lambda line: print(line, flush=True))
    return StripeStandIn(api_key=LOCAL_STRIPE_KEY, webhook_secret=secret, on_event=sender)


def build_server(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    from infra.local import gateway

    if str(gateway.LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(gateway.LAYER_DIR))
    template = gateway.load_template()
    fns = gateway.functions(template)
    os.environ.update(local_environment(template, fns))
    standin = use_stripe_standin(port)
    from lutea.config import reset_settings

    reset_settings()
    table = gateway.routes(template)
    for fn in {r.function.logical_id: r.function for r in table}.values():
        fn.load()  # import every function now: a broken handler fails at start, not on first call
    from infra.local.console import use_console_logs

    use_console_logs()
    server = _Server((host, port), _Handler)
    server.route_table = table  # type: ignore[attr-defined]
    server.stripe_standin = standin  # type: ignore[attr-defined]
    server.database_ready = _migrate_indexes()  # type: ignore[attr-defined]
    return server


def _migrate_indexes() -> bool:
    """The indexes, as ``make migrate`` creates them at deploy time (never on a request). An
    unreachable database is reported and the server starts anyway: it answers 503 until the
    database is back."""
    from lutea.data.indexes import migrate_indexes
    from lutea.data.mongo import get_db, is_unavailable

    try:
        report = migrate_indexes(get_db())
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        print(
            f"MongoDB unreachable ({type(exc).__name__}): indexes not checked; requests answer 503 until it is back", flush=True
        )
        return False
    for conflict in report.conflicts:
        print(f"index conflict: {conflict}", flush=True)
    return True


def main() -> None:
    port = int(os.environ.get("PORT", "3001"))
    server = build_server(port)
    if os.environ.get("SEED_DEMO_DATA", "1") != "0" and server.database_ready:  # type: ignore[attr-defined]
        from infra.local.seed import seed_demo_data

        for line in seed_demo_data():
            print(line, flush=True)
    print(
        f"Lutea API on http://127.0.0.1:{port}  ({len(server.route_table)} routes from template.yaml)",  # type: ignore[attr-defined]
        flush=True,
    )
    if server.stripe_standin is not None:  # type: ignore[attr-defined]
        print(f"Stripe is the local stand-in: pay or decline at http://127.0.0.1:{port}/_stripe/", flush=True)
    else:
        print(f"Stripe: {os.environ.get('STRIPE_API_BASE') or 'api.stripe.com (your key)'}", flush=True)
    print(f"Emails are written to {os.environ['EMAIL_OUTBOX_DIR']}; Ctrl-C stops.", flush=True)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
