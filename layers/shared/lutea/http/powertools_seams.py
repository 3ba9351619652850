"""The one module that reaches into Powertools' private API (aws-lambda-powertools, pinned in
requirements.txt). Everything else uses its public extension points (exception handlers,
``not_found``, ``serializer``, ``resolve``). Two needs have none:

- **Guards before validation** (API.md: 401/403 come before 400, as Nest guards ran before
  pipes). Powertools validates the request in the first middleware of every route, before any
  middleware of ours can run, so the guard step runs where the route is called (``_call_route``).
- **Encoding a plain JSON result once.** With validation on, Powertools walks every returned
  dict with its generic encoder (``jsonable_encoder``, inside the response-validation middleware
  that sits *inside* ours); that walk dominated the catalogue's latency. Results are turned into
  an encoded ``Response`` where Powertools converts them (``_to_response``).

``RELIED_ON`` fingerprints the Powertools code these overrides depend on; a test
(tests/unit/foundation/test_powertools_seams.py) fails, naming what changed, when an upgrade
touches any of it: then re-read the new code, adapt this module and update the fingerprints.
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Route

# sha256 (first 16 hex) of the source of each Powertools member relied on above.
RELIED_ON = {
    "ApiGatewayResolver._call_route": "2c1b0375a9d61433",
    "ApiGatewayResolver._to_response": "7c53e1f081571389",
    "ApiGatewayResolver._call_exception_handler": "1a01d5be8795b61f",
    "Route._build_middleware_stack": "03f8ac0795674277",
}


def fingerprint(qualified: str) -> str:
    owner, member = qualified.split(".")
    source = inspect.getsource(getattr({"ApiGatewayResolver": ApiGatewayResolver, "Route": Route}[owner], member))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def registered_routes(app: ApiGatewayResolver) -> list[Route]:
    """The routes of a resolver (the OpenAPI document and the inventory tests read them)."""
    return [*app._static_routes, *app._dynamic_routes]


class GuardedResolver(APIGatewayRestResolver):
    """Powertools' REST resolver with two hooks for subclasses: ``authorise(route)`` runs before
    request validation (its exception goes to the exception handlers), and ``encode_result``
    may turn a route's plain result into an encoded ``Response``."""

    def authorise(self, route: Route) -> None:
        """Check the caller against the route's guard; raise to refuse."""

    def encode_result(self, result: Any) -> Response[str] | None:
        """An encoded response for ``result``, or None to let Powertools convert it."""
        return None

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> Any:
        try:
            self.authorise(route)
        except Exception as exc:
            handled = self._call_exception_handler(exc, route)
            if handled is not None:
                return handled
            raise
        return super()._call_route(route, route_arguments)

    def _to_response(self, result: Any) -> Any:
        route = self.context.get("_route")
        if route is not None and route.dependant.return_param is not None:
            return super()._to_response(result)  # a declared return type keeps Powertools' validation
        encoded = self.encode_result(result)
        return encoded if encoded is not None else super()._to_response(result)
