"""template.yaml and the code agree: every Api event has a handler route and every handler
route is declared in the template (no tool checks Handler: entries, so we do)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lutea.http.powertools_seams import registered_routes

from infra.local import gateway

ROOT = Path(__file__).resolve().parents[3]
API_MD = ROOT.parent / "shared" / "API.md"
ROUTE_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) (/\S+) \|", re.M)


def _documented(text: str) -> set[tuple[str, str]]:
    return {(method, re.sub(r":(\w+)", r"{\1}", path)) for method, path in ROUTE_ROW.findall(text)}


def _template_routes() -> set[tuple[str, str]]:
    """The API's routes, without the OPTIONS events that carry preflights to the functions."""
    return {(r.method, r.path) for r in gateway.routes() if r.method != "OPTIONS"}


def _handler_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in registered_routes(app):
        found.add((route.method, re.sub(r"<(\w+)>", r"{\1}", route.path)))
    return found


def test_every_template_route_has_a_handler_route_and_vice_versa():
    by_function: dict[str, set[tuple[str, str]]] = {}
    for route in gateway.routes():
        if route.method != "OPTIONS":
            by_function.setdefault(route.function.logical_id, set()).add((route.method, route.path))
    for logical_id, fn in gateway.functions().items():
        if logical_id not in by_function:
            continue
        declared = by_function[logical_id]
        served = _handler_routes(fn.load().app)
        assert served - declared == set(), f"{logical_id}: handler routes missing from template.yaml"
        assert declared - served == set(), f"{logical_id}: template routes without a handler route"


def test_every_handler_entry_point_exists():
    for fn in gateway.functions().values():
        assert callable(fn.entry_point()), f"{fn.logical_id}: {fn.handler} is not callable"


@pytest.mark.skipif(not API_MD.exists(), reason="API.md is beside the repository in ../shared")
def test_template_declares_every_route_of_api_md():
    """Every route is in the contract (API.md) or, for routes beyond the original, in docs/."""
    documented = _documented(API_MD.read_text(encoding="utf-8"))
    assert documented, "no route found in API.md"
    for page in sorted((ROOT / "docs").glob("*.md")):
        documented |= _documented(page.read_text(encoding="utf-8"))
    declared = _template_routes()
    assert documented - declared == set()
    assert declared - documented == set()


def test_scheduled_jobs_have_their_schedules():
    template = gateway.load_template()
    schedules = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "ScheduleV2":
                schedules[resource["Properties"]["Handler"]] = event["Properties"]["ScheduleExpression"]
    assert schedules == {
        "app.cleanup_temporary_users": "rate(1 hour)",
        "app.expire_pending_bookings": "rate(20 minutes)",
        "app.check_payment_discrepancies": "rate(6 hours)",
        "app.retry_failed_emails": "rate(15 minutes)",
        "app.run_waiting_list_offers": "rate(5 minutes)",
        "app.retry_owed_effects": "rate(5 minutes)",
        "app.reconcile_seats": "rate(1 hour)",
    }


def test_the_layer_ships_the_analytics_migrations():
    from lutea.data import sql

    layer = gateway.LAYER_DIR.resolve()
    [directory] = sql.MIGRATION_DIRS
    assert directory.resolve().is_relative_to(layer)
    assert sorted(p.name for p in directory.glob("001_*.sql")) == ["001_analytics.mysql.sql", "001_analytics.sqlite.sql"]


def test_api_gateway_own_errors_carry_security_headers_and_no_unchecked_cors():
    api = gateway.load_template()["Resources"]["LuteaApi"]["Properties"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = api["GatewayResponses"][kind]["ResponseParameters"]["Headers"]
        assert headers["X-Content-Type-Options"] == "'nosniff'"
        assert "Access-Control-Allow-Origin" not in headers  # the origin cannot be checked there
    assert api["BinaryMediaTypes"] == ["*~1*"]


def test_every_path_routes_its_preflight_to_the_function_that_owns_it():
    owners: dict[str, set[str]] = {}
    preflight: dict[str, str] = {}
    for route in gateway.routes():
        if route.method == "OPTIONS":
            preflight[route.path] = route.function.logical_id
        else:
            owners.setdefault(route.path, set()).add(route.function.logical_id)
    assert set(preflight) == set(owners)
    for path, owner in preflight.items():
        assert owners[path] == {owner}, path


def test_the_global_rate_limit_is_left_to_the_waf_only_where_the_waf_is():
    template = gateway.load_template()
    [rule] = [r for r in template["Resources"]["ApiWebAcl"]["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["EvaluationWindowSec"] == 60
    assert template["Resources"]["ApiWebAcl"]["Condition"] == "WafEnabled"
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["RATE_LIMIT_GLOBAL_AT_EDGE"] == {"Fn::If": ["WafEnabled", "true", "false"]}
    # make dev keeps every limit in the app.
    from infra.local.server import local_environment

    assert "RATE_LIMIT_GLOBAL_AT_EDGE" not in local_environment(template, gateway.functions(template))


def test_snapstart_is_an_opt_in_on_published_versions():
    template = gateway.load_template()
    parameter = template["Parameters"]["SnapStart"]
    assert parameter["Default"] == "false" and set(parameter["AllowedValues"]) == {"true", "false"}
    assert template["Conditions"]["SnapStartEnabled"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    function = template["Globals"]["Function"]
    assert function["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartEnabled", "PublishedVersions", "None"]}}
    assert function["AutoPublishAlias"] == "live"  # SnapStart applies to published versions only
