"""The part every fake provider of the tests shares: a threaded HTTP server on 127.0.0.1 (an
ephemeral port), started and stopped from the test, and a JSON reply.

    class FakeThing(LocalServer):
        def _handler(self) -> type[BaseHTTPRequestHandler]:
            class Handler(QuietHandler):     # the provider's routes, closing over self
                ...
            return Handler

    with FakeThing() as fake:
        monkeypatch.setenv("THING_API_BASE", fake.url)
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and reads the request body whole."""

    def log_message(self, *args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class LocalServer:
    """A ThreadingHTTPServer on an ephemeral port of 127.0.0.1, as a context manager.

    Subclasses return their request handler class from ``_handler()``. A dataclass subclass
    calls ``super().__init__()`` from its ``__post_init__``."""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._server is not None, f"{type(self).__name__} not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    """Answer the request ``handler`` is serving with ``payload`` as JSON (and extra headers)."""
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
