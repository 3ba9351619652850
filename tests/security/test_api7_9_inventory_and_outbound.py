"""API9:2023 Improper Inventory Management: the routes deployed (template.yaml), documented
(openapi.json, SECURITY.md's access table) and served (the functions' resolvers) are the same
set, with no documentation or debug endpoint deployed.

API7:2023 Server Side Request Forgery: the API fetches no URL a client gives it. URLs a client
may store (retreat images, the programme PDF) are limited to http(s) and site paths, so they
can't become ``javascript:``/``data:``/``file:`` links in the pages that show them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lutea.http.powertools_seams import registered_routes

from tests.security.routes import ROOT, documented_levels, guard_levels, template_routes
from tests.security.support import assert_error, retreat_body
from tests.support.accounts import admin_session

DEBUG_PATHS = re.compile(r"(swagger|openapi|docs|redoc|debug|health|metrics|admin/seed|test)", re.IGNORECASE)


def test_template_openapi_and_functions_list_the_same_routes() -> None:
    deployed = {(r.method, r.path) for r in template_routes()}
    document = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    assert documented == deployed
    assert {(r.method, r.path) for r in guard_levels()} == deployed
    assert {(r.method, r.path) for r in documented_levels()} == deployed


def test_no_documentation_or_debug_route_is_deployed() -> None:
    assert [str(r) for r in template_routes() if DEBUG_PATHS.search(r.path)] == []


def test_every_function_serves_only_its_declared_routes() -> None:
    """A route coded in a function but not declared in the template would be unreachable in AWS
    and a surprise locally (infra/local serves the template): none exists."""
    from infra.local import gateway

    declared: dict[str, set[tuple[str, str]]] = {}
    for route in gateway.routes():
        if route.method == "OPTIONS":  # preflights reach every function; its resolver answers them
            continue
        declared.setdefault(route.function.logical_id, set()).add((route.method, re.sub(r"\{(\w+)\}", r"<\1>", route.path)))
    for route in gateway.routes():
        app = route.function.load().app
        served = {
            (m, r.path)
            for r in registered_routes(app)
            for m in (r.method if isinstance(r.method, list | tuple | set | frozenset) else (r.method,))
        }
        assert served == declared[route.function.logical_id], route.function.logical_id


@pytest.mark.parametrize(
    "field, value",
    [
        ("imageCard", "javascript:alert(document.cookie)"),
        ("imageCard", "data:text/html;base64,PHNjcmlwdD4="),
        ("imageCard", "file:///etc/passwd"),
        ("imageCard", "//evil.example/x.jpg"),
        ("imageCard", "JaVaScRiPt:alert(1)"),
        ("imageCard", "java\tscript:alert(1)"),
        ("imageModal", ["/ok.jpg", "javascript:alert(1)"]),
        ("pdfUrl", "javascript:alert(1)"),
        ("pdfUrl", "ftp://files.example/programme.pdf"),
    ],
)
def test_stored_links_are_http_or_site_paths(make_client: Any, field: str, value: Any) -> None:
    admin, _ = admin_session(make_client)
    body = retreat_body(**{field: value})
    if field == "imageModal":
        body["altImageModal"] = ["a", "b"]
    assert_error(admin.post("/retreats/admin", json=body), 400)
    from lutea.data.mongo import get_db

    assert get_db()["retreats"].count_documents({}) == 0
    good = admin.post("/retreats/admin", json=retreat_body(imageCard="https://cdn.example/a.jpg", pdfUrl="/docs/programme.pdf"))
    assert good.status == 201, good.body


def test_the_recaptcha_verifier_url_comes_from_configuration_only(make_client: Any, monkeypatch: Any) -> None:
    """A visitor can't point the server at another host: the token is sent to the configured
    verifier, whatever the request says (here an unreachable one, which fails closed)."""
    from lutea import config

    monkeypatch.setenv("RECAPTCHA_SECRET_KEY", "secret")
    monkeypatch.setenv("RECAPTCHA_VERIFY_URL", "http://127.0.0.1:9/siteverify")
    config.reset_settings()
    response = make_client().post(
        "/email/contact",
        json={
            "nom": "A",
            "prenom": "B",
            "email": "a@example.test",
            "telephone": "1",
            "message": "m",
            "rgpd": True,
            "token": "tok",
            "verifyUrl": "http://169.254.169.254/latest/meta-data/",
        },
    )
    assert_error(response, 400)  # the unknown field is refused before anything is fetched
    response = make_client().post(
        "/email/contact",
        json={
            "nom": "A",
            "prenom": "B",
            "email": "a@example.test",
            "telephone": "1",
            "message": "m",
            "rgpd": True,
            "token": "http://169.254.169.254/latest/meta-data/",
        },
    )
    assert response.status == 400, response.body
