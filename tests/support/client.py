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


@dataclass
class ApiClient:
    origin: str | None = DEFAULT_ORIGIN
    source_ip: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None

    def request(self, method: str, path: str, *, json: Any = None, body: str | bytes | None = None,
                query: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                use_cookies: bool = True) -> ApiResponse:
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
        event = gateway.build_event(method.upper(), path, resource=route.path, path_parameters=params,
                                    query=urlencode(query or {}, doseq=True), headers=hdrs, body=body,
                                    source_ip=self.source_ip)
        raw = gateway.invoke(route, event)
        return self._response(raw)

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
