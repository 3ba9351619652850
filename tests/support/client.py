"""An in-process API client: requests go through the template's route table to the real
handlers as API Gateway proxy events (infra/local/gateway.py), with a cookie jar."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from infra.local import gateway

DEFAULT_ORIGIN = "http://localhost:3000"
_TABLE: list[gateway.Route] | None = None


def route_table() -> list[gateway.Route]:
    global _TABLE
    if _TABLE is None:
        _TABLE = gateway.routes()
    return _TABLE


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: str
    is_base64: bool = False

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def content(self) -> bytes:
        import base64

        return base64.b64decode(self.body) if self.is_base64 else self.body.encode()

    def cookie(self, name: str) -> str | None:
        for raw in self.set_cookies:
            key, _, rest = raw.partition("=")
            if key == name:
                return rest.split(";", 1)[0]
        return None


_DOCUMENT: dict[str, Any] | None = None


def check_declared_shape(method: str, path: str, response: ApiResponse) -> None:
    """Every JSON success body matches the schema its route declares in the OpenAPI document
    (the models of lutea.schemas): the document the frontend generates its client from stays true."""
    global _DOCUMENT
    if not 200 <= response.status < 300 or not response.headers.get("Content-Type", "").startswith("application/json"):
        return
    if _DOCUMENT is None:
        from infra.openapi import build_openapi

        _DOCUMENT = build_openapi()
    operation = _DOCUMENT["paths"].get(path, {}).get(method.lower())
    declared = (operation or {}).get("responses", {}).get(str(response.status))
    schema = ((declared or {}).get("content") or {}).get("application/json", {}).get("schema")
    assert schema is not None, f"{method} {path} answered {response.status} with JSON it does not declare"
    problem = _mismatch(schema, response.json())
    assert problem is None, f"{method} {path} {response.status}: the body does not match its schema: {problem}"


def _model(name: str) -> Any:
    import importlib
    import pkgutil

    import lutea.schemas

    for info in pkgutil.iter_modules(lutea.schemas.__path__):
        found = getattr(importlib.import_module(f"lutea.schemas.{info.name}"), name, None)
        if found is not None:
            return found
    return None


def _mismatch(schema: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` does not fit ``schema`` (the subset of JSON Schema the document uses), or None."""
    from pydantic import TypeAdapter, ValidationError

    if "anyOf" in schema:
        problems = [_mismatch(option, value) for option in schema["anyOf"]]
        return None if None in problems else "; ".join(str(p) for p in problems)
    if "allOf" in schema:
        return next((p for p in (_mismatch(part, value) for part in schema["allOf"]) if p), None)
    if "$ref" in schema:
        model = _model(schema["$ref"].rsplit("/", 1)[1])
        if model is None:
            return None  # a component no model of lutea.schemas describes: nothing to check it with
        try:
            TypeAdapter(model).validate_python(value)
        except ValidationError as exc:
            return str(exc)
        return None
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return f"expected an array, got {type(value).__name__}"
        return next((p for p in (_mismatch(schema.get("items", {}), item) for item in value) if p), None)
    if kind == "object":
        if not isinstance(value, dict):
            return f"expected an object, got {type(value).__name__}"
        props = schema.get("properties", {})
        return next((p for key, sub in props.items() if key in value for p in [_mismatch(sub, value[key])] if p), None)
    if kind == "boolean" and not isinstance(value, bool):
        return f"expected a boolean, got {value!r}"
    return None


@dataclass
class ApiClient:
    origin: str | None = DEFAULT_ORIGIN
    source_ip: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: str | bytes | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        use_cookies: bool = True,
    ) -> ApiResponse:
        hdrs: dict[str, str] = {"User-Agent": "pytest"}
        if self.origin:
            hdrs["Origin"] = self.origin
        if json is not None:
            body = jsonlib.dumps(json)
            hdrs["Content-Type"] = "application/json"
        if use_cookies and self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.bearer:
            hdrs["Authorization"] = f"Bearer {self.bearer}"
        hdrs.update(headers or {})
        route, params, _ = gateway.match(route_table(), method.upper(), path)
        if route is None:
            raise AssertionError(f"no route in template.yaml for {method} {path}")
        event = gateway.build_event(
            method.upper(),
            path,
            resource=route.path,
            path_parameters=params,
            query=urlencode(query or {}, doseq=True),
            headers=hdrs,
            body=body,
            source_ip=self.source_ip,
        )
        raw = gateway.invoke(route, event)
        response = self._response(raw)
        check_declared_shape(method.upper(), route.path, response)
        return response

    def _response(self, raw: dict[str, Any]) -> ApiResponse:
        headers = {k: v for k, v in (raw.get("headers") or {}).items()}
        set_cookies: list[str] = []
        for name, values in (raw.get("multiValueHeaders") or {}).items():
            if name.lower() == "set-cookie":
                set_cookies.extend(values)
            else:
                headers.setdefault(name, values[-1])
        for raw_cookie in set_cookies:
            key, _, rest = raw_cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in raw_cookie:
                self.cookies[key] = value
            else:
                self.cookies.pop(key, None)
        return ApiResponse(raw["statusCode"], headers, set_cookies, raw.get("body") or "", raw.get("isBase64Encoded", False))

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("DELETE", path, **kw)
