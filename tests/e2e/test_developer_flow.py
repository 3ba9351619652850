"""A frontend developer's first hour against `make dev`'s server, without internet: the Swagger
UI and its assets come from the local server."""
from __future__ import annotations

import re

import pytest

from tests.e2e.test_local_api import Http, server  # noqa: F401 - the module's own `make dev` server

pytestmark = pytest.mark.e2e


def test_docs_page_and_its_assets_come_from_the_local_server_only(server):  # noqa: F811
    base, _, _, _ = server
    status, headers, page = Http(base).call("GET", "/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = page.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "http://" not in html and "https://" not in html  # no CDN, nothing remote
    for url in urls:
        status, headers, asset = Http(base).call("GET", url)
        assert status == 200 and len(asset) > 100_000, url  # the whole Swagger UI bundle / stylesheet
    assert "SwaggerUIBundle" in Http(base).call("GET", "/docs/swagger-ui-bundle.js")[2].decode()
    status, _, spec = Http(base).call("GET", "/openapi.json")
    assert status == 200 and spec["servers"] == [{"url": "/"}]  # "Try it out" calls this server
