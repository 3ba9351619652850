"""Local-only pages: the merged OpenAPI document and a Swagger UI (never deployed).

The Swagger UI assets are the ones Powertools ships (its package is pinned in requirements.txt),
served from this server: the page works without internet and never loads a CDN script."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SWAGGER_ASSETS = {
    "/docs/swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
}

SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Lutea API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", withCredentials: true, deepLinking: true});</script>
</body></html>"""

Reply = tuple[int, list[tuple[str, str]], bytes]


@lru_cache(maxsize=1)
def _openapi() -> bytes:
    from infra.openapi import build_openapi

    return json.dumps(build_openapi(), ensure_ascii=False).encode()


@lru_cache(maxsize=len(SWAGGER_ASSETS))
def _asset(name: str) -> bytes:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    return (Path(swagger_ui.__file__).parent / name).read_bytes()


def local_only_response(method: str, path: str) -> Reply | None:
    if method not in ("GET", "HEAD"):
        return None
    if path == "/openapi.json":
        return 200, [("Content-Type", "application/json")], _openapi()
    if path == "/docs":
        return 200, [("Content-Type", "text/html; charset=utf-8")], SWAGGER_HTML.encode()
    if path in SWAGGER_ASSETS:
        name, content_type = SWAGGER_ASSETS[path]
        return 200, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")], _asset(name)
    return None
