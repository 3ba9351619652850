"""The access level of every route, from two independent sources: the access table of SECURITY.md
(what we promise) and the guard decorators on the route functions (what the code does),
both resolved against the routes template.yaml declares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lutea.http.powertools_seams import registered_routes

from infra.local import gateway

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, order=True)
class RouteKey:
    method: str
    path: str  # as template.yaml: /bookings/{id}

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@cache
def template_routes() -> tuple[RouteKey, ...]:
    return tuple(sorted(RouteKey(r.method, r.path) for r in gateway.routes() if r.method != "OPTIONS"))


def _documented_level(cell: str) -> str:
    text = cell.strip().lower()
    if text.startswith("admin"):
        return "admin"
    if text.startswith(("jwt", "owner")):
        return "authenticated"
    return "other"


def _spec_matches(spec_path: str, route: RouteKey) -> bool:
    if spec_path.endswith("/*"):  # the prefix itself and everything under it
        return route.path == spec_path[:-2] or route.path.startswith(spec_path[:-1])
    pattern = re.sub(r":(\w+)", r"{\1}", spec_path)
    return route.path == pattern


@cache
def documented_levels() -> dict[RouteKey, str]:
    """SECURITY.md's "Endpoints and access levels" table, resolved to template routes."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    table = text.split("## Endpoints and access levels", 1)[1].split("\n## ", 1)[0]
    levels: dict[RouteKey, str] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("route", "---") or set(cells[0]) <= {"-"}:
            continue
        level = _documented_level(cells[1])
        methods: tuple[str, ...] = METHODS
        for group in cells[0].split(";"):
            for item in group.split(","):
                item = item.strip()
                found = re.match(r"^([A-Z/]+)\s+(/\S*)$", item)
                if found:
                    methods = tuple(found.group(1).split("/"))
                    spec_path = found.group(2)
                else:
                    spec_path = item
                for route in template_routes():
                    if route.method in methods and _spec_matches(spec_path, route):
                        levels[route] = level
            methods = METHODS  # a method list holds within its ``;`` group only
    return levels


@cache
def guard_levels() -> dict[RouteKey, str]:
    """The guard declared on each route function (``__lutea_access__``)."""
    from lutea.http.guards import access_of

    levels: dict[RouteKey, str] = {}
    for route in gateway.routes():
        if route.method == "OPTIONS":  # preflights: answered by the resolver for every path
            continue
        app = route.function.load().app
        rule = re.sub(r"\{(\w+)\}", r"<\1>", route.path)
        funcs = [r.func for r in registered_routes(app) if r.path == rule and route.method in _methods_of(r.method)]
        assert len(funcs) == 1, f"{route.method} {route.path}: {len(funcs)} functions"
        levels[RouteKey(route.method, route.path)] = access_of(funcs[0])
    return levels


def _methods_of(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list | tuple | set | frozenset) else (str(value),)


def admin_routes() -> list[RouteKey]:
    """Routes that are admin by SECURITY.md or by their guard: a route that lost its guard
    is still probed, because the documentation still says admin."""
    documented = {r for r, level in documented_levels().items() if level == "admin"}
    guarded = {r for r, level in guard_levels().items() if level == "admin"}
    return sorted(documented | guarded)


def authenticated_routes() -> list[RouteKey]:
    """Routes that need a signed-in caller (JWT or owner), by SECURITY.md or by their guard."""
    documented = {r for r, level in documented_levels().items() if level == "authenticated"}
    guarded = {r for r, level in guard_levels().items() if level == "jwt"}
    return sorted(documented | guarded)
