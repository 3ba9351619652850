"""Local-only pages: the merged OpenAPI document and a Swagger UI (never deployed)."""
from __future__ import annotations

import json
from functools import lru_cache

SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Lutea API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script></body></html>"""


@lru_cache(maxsize=1)
def _openapi() -> bytes:
    from infra.openapi import build_openapi

    return json.dumps(build_openapi(), ensure_ascii=False).encode()


def local_only_response(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
    if method not in ("GET", "HEAD"):
        return None
    if path == "/openapi.json":
        return 200, [("Content-Type", "application/json")], _openapi()
    if path == "/docs":
        return 200, [("Content-Type", "text/html; charset=utf-8")], SWAGGER_HTML.encode()
    return None
