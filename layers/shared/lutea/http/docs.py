"""What a route declares for the OpenAPI document, beside its path: its success body (a model
of ``lutea.schemas.responses``, by name, so the functions never import those classes) and the
business errors it can answer (404, 409). Errors every route shares are added in one place by
``infra/openapi.py``: 400 (validation), 401/403 (from the route's guard), 429 (rate limit).
The route's docstring is its summary (first line) and description (the rest).

    @app.get("/bookings/<id>", responses=ok("Booking", errors=(404,)))
"""

from __future__ import annotations

import copy
from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_DESCRIPTIONS = {
    404: "Not found (also someone else's resource)",
    409: "Conflict with the current state (no seats left, wrong status)",
}


def _schema(model: str | list[str] | None) -> dict[str, Any] | None:
    if model is None:
        return None
    if model == "boolean":  # a bare JSON true/false (POST /auth/2fa/verify, as the original)
        return {"type": "boolean"}
    if isinstance(model, list):
        return {"type": "array", "items": {"$ref": f"#/components/schemas/{model[0]}"}}
    return {"$ref": f"#/components/schemas/{model}"}


def ok(
    model: str | list[str] | None,
    status: int = 200,
    *,
    errors: tuple[int, ...] = (),
    description: str | None = None,
    merge: dict[int, Any] | None = None,
    paged: bool = False,
) -> dict[int, Any]:
    """The ``responses`` of a route: ``model`` (a name, ``[name]`` for a list, ``None`` for no
    body) answered with ``status``, plus ``errors`` in the error shape. ``merge``: other
    responses of the route (headers, 304) kept as they are. ``paged``: an admin list, the
    array or, with ``page``/``limit``, a page of it (docs/admin-lists.md)."""
    responses: dict[int, Any] = copy.deepcopy(merge or {})
    success = responses.setdefault(status, {})
    default = "Created" if status == 201 else "Success"
    success.setdefault("description", description or (default if model is not None else f"{default}, empty body"))
    schema = _schema(model)
    if schema is not None and paged:
        page = {"allOf": [{"$ref": "#/components/schemas/PageOut"}, {"type": "object", "properties": {"items": schema}}]}
        schema = {"anyOf": [schema, page]}
    if schema is not None:
        success["content"] = {"application/json": {"schema": schema}}
    for code in errors:
        responses[code] = {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": ERROR_REF}}}
    return responses
