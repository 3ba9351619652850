"""A local stand-in for API Gateway, read from template.yaml: the route table of every
``AWS::Serverless::Function`` Api event, the REST proxy event that API Gateway sends, and the
function's handler loaded from its ``CodeUri``. Used by the local server and by the tests, so
both exercise exactly what the template declares."""

from __future__ import annotations

import base64
import importlib.util
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LAYER_DIR = ROOT / "layers" / "shared"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub, ...) as data."""


def _tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        template: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        return template


@dataclass
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    _module: ModuleType | None = None
    # A Lambda execution environment handles one event at a time, and Powertools resolvers keep
    # per-request state on the module-level instance: concurrent local requests take turns.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def module_name(self) -> str:
        return "lutea_function_" + self.code_uri.name

    def load(self) -> ModuleType:
        if self._module is None:
            module_file, _ = self.handler.rsplit(".", 1)
            self._module = load_function_module(self.code_uri, module_file)
        return self._module

    def entry_point(self) -> Any:
        return getattr(self.load(), self.handler.rsplit(".", 1)[1])


@dataclass
class Route:
    method: str
    path: str  # API Gateway resource, e.g. /bookings/{id}
    function: Function
    regex: re.Pattern[str]
    static_segments: int


def load_function_module(code_uri: Path, module_file: str = "app") -> ModuleType:
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    name = "lutea_function_" + code_uri.name
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, code_uri / f"{module_file}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {code_uri}/{module_file}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def functions(template: dict[str, Any] | None = None) -> dict[str, Function]:
    template = template or load_template()
    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    found: dict[str, Function] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        found[logical_id] = Function(logical_id, ROOT / props["CodeUri"].rstrip("/"), props["Handler"], env)
    return found


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load_template()
    fns = functions(template)
    table: list[Route] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].upper()
            pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
            static = sum(1 for s in path.split("/") if s and not s.startswith("{"))
            table.append(Route(method, path, fns[logical_id], re.compile(f"^{pattern}$"), static))
    # API Gateway prefers the more literal resource: /users/admin/x before /users/{id}.
    table.sort(key=lambda r: (-r.static_segments, r.path))
    return table


def match(table: list[Route], method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path parameters, path_exists_with_other_method). Like API Gateway (REST), a
    trailing or doubled slash still reaches the route; the event keeps the path as sent and the
    function normalises it (lutea.http.paths)."""
    path = re.sub(r"/{2,}", "/", path).rstrip("/") or "/"
    path_known = False
    for route in table:
        found = route.regex.match(path)
        if not found:
            continue
        if route.method == method or route.method == "ANY":
            return route, found.groupdict(), True
        path_known = True
    return None, {}, path_known


def build_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
) -> dict[str, Any]:
    """The REST API (v1) proxy event, as API Gateway sends it to Lambda."""
    headers = dict(headers or {})
    multi_query = {k: v for k, v in parse_qs(query, keep_blank_values=True).items()} if query else None
    single_query = {k: v[-1] for k, v in multi_query.items()} if multi_query else None
    is_b64 = False
    text: str | None = None
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode(), True
    elif body is not None:
        text = body
    if text == "":
        text = None
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    def __init__(self, function_name: str, timeout_s: int = 15) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-3:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(route: Route, event: dict[str, Any]) -> dict[str, Any]:
    with route.function.lock:
        response: dict[str, Any] = route.function.entry_point()(event, LambdaContext(route.function.logical_id))
        return response
