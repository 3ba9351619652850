"""template.yaml as deployed to production, read and checked item by item (issue "Production as
deployed"): custom domain and cookies, alarms for every metric, log retention everywhere,
scheduled jobs retried then dead-lettered, capacity within MongoDB's connection limit, least
privilege for secrets, a WAF that protects, parameters that cannot be wrong, artifacts."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local import gateway

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = gateway.load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]


def _of_type(kind: str) -> dict[str, Any]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


FUNCTIONS = _of_type("AWS::Serverless::Function")
SCHEDULED = {
    n: f
    for n, f in FUNCTIONS.items()
    if any(e["Type"] in ("Schedule", "ScheduleV2") for e in (f["Properties"].get("Events") or {}).values())
}
ALARMS = _of_type("AWS::CloudWatch::Alarm")


def _getatt(value: Any) -> str:
    """``!GetAtt A.B`` (as the loader reads it) and ``Fn::GetAtt: [A, B]`` alike: ``"A.B"``."""
    target = value["Fn::GetAtt"]
    return target if isinstance(target, str) else ".".join(target)


def _alarmed_metrics() -> set[tuple[str, str]]:
    found = set()
    for alarm in ALARMS.values():
        props = alarm["Properties"]
        if "MetricName" in props:
            found.add((props["Namespace"], props["MetricName"]))
        for query in props.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric")
            if metric:
                found.add((metric["Namespace"], metric["MetricName"]))
    return found


def _alarms_on(metric: str, dimension_value: Any) -> list[dict]:
    return [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("MetricName") == metric
        and any(d["Value"] == dimension_value for d in a["Properties"].get("Dimensions", []))
    ]


# --- 1. cookies that browsers keep -------------------------------------------------------------


def test_a_regional_custom_domain_maps_the_api_and_prod_cannot_deploy_without_it():
    domain = RESOURCES["ApiDomain"]
    assert domain["Condition"] == "HasCustomDomain"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "ApiCertificateArn"}
    mapping = RESOURCES["ApiBasePathMapping"]["Properties"]
    assert mapping["RestApiId"] == {"Ref": "LuteaApi"} and mapping["DomainName"] == {"Ref": "ApiDomain"}
    assert RESOURCES["ApiDnsRecord"]["Condition"] == "HasHostedZone"
    rule = TEMPLATE["Rules"]["ProductionIsComplete"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    asserted = [a["Assert"] for a in rule["Assertions"]]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiDomainName"}, ""]}]} in asserted
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiCertificateArn"}, ""]}]} in asserted
    # the functions know their domain: cookies follow from it (lutea.config.Settings.cookie_same_site)
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["API_DOMAIN"] == {"Ref": "ApiDomainName"}


# --- 2. nothing goes unseen --------------------------------------------------------------------


def test_every_function_has_error_and_throttle_alarms_to_the_topic():
    for name in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            alarms = _alarms_on(metric, {"Ref": name})
            assert alarms, f"{name}: no {metric} alarm"
            assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_every_alarm_notifies_the_topic_whose_email_is_a_parameter():
    for name, alarm in ALARMS.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    [subscription] = RESOURCES["AlarmTopic"]["Properties"]["Subscription"]
    assert subscription == {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert "Default" not in PARAMETERS["AlarmEmail"]


def test_the_business_metrics_are_alarmed():
    alarmed = _alarmed_metrics()
    for metric in (
        "StripeWebhookRejected",
        "StripeEventFailed",
        "EmailFailures",
        "PaymentDiscrepancies",
        "OldestOwedEmailAgeSeconds",
        "OldestOwedRefundAgeSeconds",
        "OldestOwedEffectAgeSeconds",
        "OwedEffectsStuck",
        "SeatReconciliationRepairs",
    ):
        assert ("Lutea", metric) in alarmed, metric
    assert ("AWS/ApiGateway", "5XXError") in alarmed
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in alarmed


def test_every_alarmed_custom_metric_is_emitted_by_the_code():
    # An alarm on a metric nobody emits never fires: the name must appear in an add_metric call.
    code = "\n".join(
        p.read_text(encoding="utf-8") for base in ("layers/shared/lutea", "functions") for p in (ROOT / base).rglob("*.py")
    )
    emitted = set(re.findall(r'add_metric\(\s*name="(\w+)"', code)) | set(re.findall(r'count_metric\(\s*"(\w+)"', code))
    for namespace, metric in _alarmed_metrics():
        if namespace == "Lutea":
            assert metric in emitted, f"{metric} is alarmed but never emitted"


def test_every_log_group_has_the_retention_parameter_and_every_function_its_own_group():
    groups = _of_type("AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert PARAMETERS["LogRetentionDays"]["Default"] == 30
    for name, fn in FUNCTIONS.items():
        ref = fn["Properties"]["LoggingConfig"]["LogGroup"]
        assert ref["Ref"] in groups, name


def test_api_access_logs_are_json_without_paths_or_query_strings_and_execution_logs_at_error():
    api = RESOURCES["LuteaApi"]["Properties"]
    access = api["AccessLogSetting"]
    assert _getatt(access["DestinationArn"]) == "ApiAccessLogGroup.Arn"
    import json

    fields = json.loads(access["Format"])
    assert {"requestId", "status", "latencyMs"} <= set(fields)
    values = " ".join(fields.values())
    assert "$context.requestId" in values and "$context.status" in values and "$context.responseLatency" in values
    # emails travel in paths (/users/check-temporary/{email}) and query strings: only the route template
    assert "$context.resourcePath" in values and "$context.path" not in values and "querystring" not in values.lower()
    [settings] = api["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    assert RESOURCES["ApiExecutionLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "API-Gateway-Execution-Logs_${LuteaApi}/${Stage}"
    }
    assert RESOURCES["LuteaApi"]["DependsOn"] == "ApiGatewayAccount"


# --- 3. scheduled jobs retried, then seen ------------------------------------------------------


def test_scheduled_jobs_use_scheduler_with_retries_a_dead_letter_queue_and_one_run_at_a_time():
    assert len(SCHEDULED) >= 4
    for name, fn in SCHEDULED.items():
        props = fn["Properties"]
        [event] = props["Events"].values()
        assert event["Type"] == "ScheduleV2", name
        assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert _getatt(event["Properties"]["DeadLetterConfig"]["Arn"]) == "ScheduledJobsDeadLetterQueue.Arn", name
        on_failure = props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS" and _getatt(on_failure["Destination"]) == "ScheduledJobsDeadLetterQueue.Arn"
        assert props["ReservedConcurrentExecutions"] == 1, name
    [dlq_alarm] = [
        a["Properties"] for a in ALARMS.values() if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert _getatt(dlq_alarm["Dimensions"][0]["Value"]) == "ScheduledJobsDeadLetterQueue.QueueName"


def test_the_discrepancy_check_is_never_retried_by_lambda():
    # A retried run would email the admin a second time for one run.
    props = FUNCTIONS["CheckPaymentDiscrepanciesFunction"]["Properties"]
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] == 0


# --- 4. capacity and connections ---------------------------------------------------------------


def test_reserved_concurrency_keeps_mongodb_connections_under_the_tier_limit():
    from lutea.data.mongo import MAX_POOL_SIZE

    assert MAX_POOL_SIZE <= 2
    api_functions = [n for n in FUNCTIONS if n not in SCHEDULED]
    for name in api_functions:
        assert FUNCTIONS[name]["Properties"]["ReservedConcurrentExecutions"] == {
            "Fn::FindInMap": ["MongoCapacity", {"Ref": "MongoConnectionLimit"}, "Api"]
        }, name
    jobs_counted = 8  # room for the jobs of template.yaml, one container each
    assert len(SCHEDULED) <= jobs_counted
    monitoring = 2  # pymongo's monitor and RTT connections per server
    for limit, row in TEMPLATE["Mappings"]["MongoCapacity"].items():
        containers = len(api_functions) * row["Api"] + jobs_counted
        assert containers * (MAX_POOL_SIZE + monitoring) <= 0.8 * int(limit), limit
    assert set(TEMPLATE["Mappings"]["MongoCapacity"]) == set(PARAMETERS["MongoConnectionLimit"]["AllowedValues"])


# --- 5. least privilege for secrets ------------------------------------------------------------

SETTING_OF_SECRET = {
    "jwt": ("jwt_access_secret", "jwt_refresh_secret"),
    "mongodb": ("mongodb_uri",),
    "mysql": ("mysql_password",),
    "stripe": ("stripe_secret_key", "stripe_webhook_secret"),
    "resend": ("resend_api_key",),
    "recaptcha": ("recaptcha_secret_key",),
}


def _reachable_modules(entry: Path) -> set[Path]:
    layer = ROOT / "layers" / "shared"
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            for name in names:
                if name.split(".")[0] != "lutea":
                    continue
                for candidate in (layer / f"{name.replace('.', '/')}.py", layer / name.replace(".", "/") / "__init__.py"):
                    if candidate.exists():
                        todo.append(candidate)
    return seen


def _granted(props: dict) -> set[str]:
    granted = set()
    for policy in props.get("Policies", []):
        arn = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Fn::Sub"]
        match = re.fullmatch(
            r"arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
            r"secret:\$\{SecretsPrefix\}/(\w+)-\?\?\?\?\?\?",
            arn,
        )
        assert match, f"secret ARN not tight: {arn}"  # exactly Secrets Manager's 6-character suffix
        granted.add(match.group(1))
    return granted


def test_no_function_can_read_a_secret_it_does_not_use():
    from lutea.config import SECRET_SOURCES

    for name, fn in FUNCTIONS.items():
        props = fn["Properties"]
        granted = _granted(props)
        env = props["Environment"]["Variables"]
        given = {var.removeprefix("LUTEA_SECRET_").lower() for var in env if var.startswith("LUTEA_SECRET_")}
        assert given == granted, f"{name}: secrets named {given} but readable {granted}"
        for secret in granted:
            assert env[f"LUTEA_SECRET_{secret.upper()}"] == {"Fn::Sub": f"${{SecretsPrefix}}/{secret}"}
            assert f"LUTEA_SECRET_{secret.upper()}" in SECRET_SOURCES
        # the code this function can run must read that secret's values
        code = "\n".join(
            p.read_text(encoding="utf-8") for p in _reachable_modules(ROOT / props["CodeUri"] / "app.py") if p.name != "config.py"
        )
        for secret in granted:
            assert any(attr in code for attr in SETTING_OF_SECRET[secret]), f"{name} may read {secret} but never uses it"
    assert "Policies" not in TEMPLATE["Globals"]["Function"]


@pytest.mark.parametrize(
    ("function", "secrets"),
    [
        ("AnalyticsFunction", {"jwt", "mongodb", "mysql"}),
        ("UsersFunction", {"jwt", "mongodb", "mysql", "resend", "recaptcha"}),  # export and erasure reach analytics
        ("RetreatsFunction", {"jwt", "mongodb"}),
        ("CleanupTemporaryUsersFunction", {"mongodb"}),
        ("RetryFailedEmailsFunction", {"mongodb", "resend"}),
        ("CheckPaymentDiscrepanciesFunction", {"mongodb", "resend", "stripe"}),
    ],
)
def test_the_obvious_cases_of_least_privilege(function, secrets):
    assert _granted(FUNCTIONS[function]["Properties"]) == secrets


_NO_VALUE = object()


def _evaluate(value: Any, parameters: dict[str, str]) -> Any:
    """The intrinsics the secrets extension's wiring uses, as CloudFormation resolves them for
    ``parameters`` (other references are left as they are)."""
    if isinstance(value, list):
        items = [_evaluate(v, parameters) for v in value]
        return [v for v in items if v is not _NO_VALUE]
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((key, arg),) = value.items()
    if key == "Ref":
        if arg == "AWS::NoValue":
            return _NO_VALUE
        return parameters.get(arg, value)
    if key == "Condition":
        return _evaluate(TEMPLATE["Conditions"][arg], parameters)
    if key == "Fn::Equals":
        left, right = (_evaluate(v, parameters) for v in arg)
        return left == right
    if key == "Fn::Not":
        return not _evaluate(arg[0], parameters)
    if key == "Fn::If":
        condition, then, otherwise = arg
        return _evaluate(then if _evaluate(TEMPLATE["Conditions"][condition], parameters) else otherwise, parameters)
    return value


EXTENSION_ARN = "arn:aws:lambda:eu-west-3:780235371811:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"


@pytest.mark.parametrize(
    ("layer_arn", "layers", "via"),
    [
        ("", [{"Ref": "SharedLayer"}], "sdk"),
        (EXTENSION_ARN, [{"Ref": "SharedLayer"}, EXTENSION_ARN], "extension"),
    ],
)
def test_the_secrets_extension_is_an_opt_in_layer_that_switches_how_secrets_are_read(layer_arn, layers, via):
    from lutea.config import has_secret_sources

    parameter = PARAMETERS["SecretsExtensionLayerArn"]
    assert parameter["Default"] == ""  # not used unless given: its ARN is per region and version
    parameters = {"SecretsExtensionLayerArn": layer_arn}
    function = TEMPLATE["Globals"]["Function"]
    assert _evaluate(function["Layers"], parameters) == layers
    assert _evaluate(function["Environment"]["Variables"]["LUTEA_SECRETS_VIA"], parameters) == via
    for name, fn in FUNCTIONS.items():  # no function overrides the layers or the way
        assert "Layers" not in fn["Properties"] and "LUTEA_SECRETS_VIA" not in fn["Properties"]["Environment"]["Variables"], name
        assert has_secret_sources({**{k: "x" for k in fn["Properties"]["Environment"]["Variables"]}}), name


def test_the_secrets_extension_layer_parameter_takes_a_layer_version_arn_or_nothing():
    pattern = re.compile(PARAMETERS["SecretsExtensionLayerArn"]["AllowedPattern"])
    for good in (
        "",
        EXTENSION_ARN,
        "arn:aws-cn:lambda:cn-north-1:287114880934:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:4",
    ):
        assert pattern.fullmatch(good), good
    for bad in (
        "extension",
        "arn:aws:lambda:eu-west-3:780235371811:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64",
        "arn:aws:lambda:eu-west-3:12:layer:x:1",
    ):
        assert not pattern.fullmatch(bad), bad


# --- 6. a WAF that protects --------------------------------------------------------------------


def test_the_waf_has_the_managed_groups_in_count_or_block_mode_and_spares_the_webhook():
    acl = RESOURCES["ApiWebAcl"]["Properties"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert set(groups) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    for rule in groups.values():
        assert rule["OverrideAction"] == {"Fn::If": ["WafBlocksManagedRules", {"None": {}}, {"Count": {}}]}
    assert PARAMETERS["WafManagedRulesAction"]["AllowedValues"] == ["count", "block"]
    priorities = [r["Priority"] for r in acl["Rules"]]
    assert len(priorities) == len(set(priorities))
    rate = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    match = rate["ScopeDownStatement"]["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert match["SearchString"] == "/stripe/webhook" and match["FieldToMatch"] == {"UriPath": {}}
    logging = RESOURCES["WafLogging"]["Properties"]
    assert _getatt(logging["ResourceArn"]) == "ApiWebAcl.Arn"
    assert RESOURCES["WafLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"].startswith("aws-waf-logs-")
    redacted = [next(iter(f)) for f in logging["RedactedFields"]]
    assert {"QueryString", "UriPath"} <= set(redacted)
    assert {f["SingleHeader"]["Name"] for f in logging["RedactedFields"] if "SingleHeader" in f} >= {"authorization", "cookie"}


# --- 7. parameters that cannot be wrong --------------------------------------------------------


def test_parameters_are_bounded_and_prod_needs_what_it_cannot_run_without():
    frontend = re.compile(PARAMETERS["FrontendUrl"]["AllowedPattern"])
    assert frontend.fullmatch("https://lutea.fr,https://www.lutea.fr")
    for bad in ("http://lutea.fr", "https://lutea.fr,http://localhost:3000", "javascript:alert(1)"):
        assert not frontend.fullmatch(bad), bad
    assert "Default" not in PARAMETERS["FrontendUrl"]
    for name, param in PARAMETERS.items():
        if param["Type"] == "Number":
            assert "AllowedValues" in param or {"MinValue", "MaxValue"} <= set(param), name
    asserted = [a["Assert"] for a in TEMPLATE["Rules"]["ProductionIsComplete"]["Assertions"]]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "MysqlHost"}, ""]}]} in asserted
    outputs = TEMPLATE["Outputs"]
    assert {"WebhookUrl", "CustomDomainTarget", "AlarmTopicArn"} <= set(outputs)


def test_addresses_and_company_details_are_required_and_never_local():
    for name in ("EmailFrom", "EmailContact", "EmailAdmin", "CompanyName", "CompanyAddress", "CompanySiret"):
        assert "Default" not in PARAMETERS[name], name
    for name in ("EmailContact", "EmailAdmin"):
        pattern = re.compile(PARAMETERS[name]["AllowedPattern"])
        assert pattern.fullmatch("contact@lutea.fr") and not pattern.fullmatch("admin@lutea.localhost")
    assert re.fullmatch(PARAMETERS["EmailFrom"]["AllowedPattern"], "Lutea <noreply@lutea.fr>")
    assert not re.fullmatch(PARAMETERS["EmailFrom"]["AllowedPattern"], "Lutea <noreply@lutea.localhost>")
    assert re.fullmatch(PARAMETERS["CompanySiret"]["AllowedPattern"], "12345678901234")
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert env["COMPANY_SIRET"] == {"Ref": "CompanySiret"} and env["EMAIL_ADMIN"] == {"Ref": "EmailAdmin"}


def test_samconfig_holds_no_placeholder_that_deploys_as_if_real():
    text = (ROOT / "samconfig.toml").read_text(encoding="utf-8")
    assert "example" not in text and "localhost" not in text and "replace" not in text.lower()


# --- 8. artifacts ------------------------------------------------------------------------------


def test_the_cleanup_job_ships_neither_stripe_nor_fpdf2_and_every_function_has_a_requirements_file():
    code = FUNCTIONS["CleanupTemporaryUsersFunction"]["Properties"]["CodeUri"]
    for path in (ROOT / code / "requirements.txt", ROOT / "layers" / "shared" / "requirements.txt"):
        packages = {
            re.split(r"[=<>\[ ]", line.strip())[0].lower()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        }
        assert not packages & {"stripe", "fpdf2"}, path
    for fn in FUNCTIONS.values():
        # sam build warns "requirements.txt file not found" for a code directory without one
        assert (ROOT / fn["Properties"]["CodeUri"] / "requirements.txt").exists(), fn["Properties"]["CodeUri"]


def test_mysql_is_reached_over_verified_tls_in_aws_and_plain_tcp_under_make_dev():
    from infra.local.server import local_environment

    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["MYSQL_TLS"] == "verify"
    assert local_environment(TEMPLATE, gateway.functions(TEMPLATE))["MYSQL_TLS"] == "off"


def test_sam_local_reaches_the_compose_mysql_without_tls():
    # env.json (sam local, README) points MYSQL_HOST at the compose file's MySQL, whose
    # certificate is self-signed for no such host: the template's MYSQL_TLS=verify refuses it.
    import json

    parameters = json.loads((ROOT / "env.json").read_text(encoding="utf-8"))["Parameters"]
    assert parameters["MYSQL_HOST"] == "host.docker.internal"
    assert parameters.get("MYSQL_TLS") == "off"


def test_deleting_one_stage_leaves_the_regions_api_gateway_logging_role_in_place():
    # One setting per account and region, shared by the stages' stacks: none may delete it.
    for name in ("ApiGatewayCloudWatchRole", "ApiGatewayAccount"):
        assert RESOURCES[name].get("DeletionPolicy") == "Retain", name
        assert RESOURCES[name].get("UpdateReplacePolicy") == "Retain", name


def test_no_pydantic_plugin_discovery_at_a_deployed_cold_start():
    """pydantic looks for plugins in every installed distribution's entry points when it builds
    its first model, unless told there are none: the deployed environment tells it."""
    import json
    import subprocess
    import sys

    global_env = gateway.load_template()["Globals"]["Function"]["Environment"]["Variables"]
    plain = {k: v for k, v in global_env.items() if isinstance(v, str)}
    probe = (
        "import importlib.metadata as md, json\n"
        "calls = []\n"
        "real = md.entry_points\n"
        "md.entry_points = lambda **kw: calls.append(kw) or real(**kw)\n"
        "from pydantic import BaseModel\n"
        "class Body(BaseModel):\n"
        "    name: str\n"
        "print(json.dumps(len(calls)))\n"
    )
    root = Path(__file__).resolve().parents[3]
    for env, expected in ((plain, 0), ({}, 1)):
        out = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PATH": "/usr/bin:/bin"},
        )
        assert json.loads(out.stdout) == expected, env
