"""Checks of template.yaml that no linter makes, run by `make lint` with the SAM translator
(from the SAM tools' own virtual environment): the API that SAM would deploy routes every path's
OPTIONS to its function (preflights for every allowed origin) and carries our gateway responses.

    .tools/sam/bin/python infra/check_template.py
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _NoManagedPolicies:
    def load(self) -> dict:
        return {}


def main() -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    text = TEMPLATE.read_text(encoding="utf-8")
    # The translator wants S3 locations where sam build would put them.
    text = re.sub(r"(CodeUri|ContentUri): \S+", r"\1: s3://bucket/key", text)
    out = transform(yaml_parse(text), {"Stage": "dev"}, _NoManagedPolicies())
    body = out["Resources"]["LuteaApi"]["Properties"]["Body"]
    problems = []
    for path, operations in body["paths"].items():
        integration = operations.get("options", {}).get("x-amazon-apigateway-integration", {})
        if integration.get("type") != "aws_proxy":
            problems.append(f"OPTIONS {path} is not routed to its function ({integration.get('type')})")
        methods = {m for m in operations if m != "options"}
        if not methods:
            problems.append(f"{path} has OPTIONS only")
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = body.get("x-amazon-apigateway-gateway-responses", {}).get(kind, {}).get("responseParameters", {})
        if "gatewayresponse.header.X-Content-Type-Options" not in headers:
            problems.append(f"{kind} gateway response lacks the security headers")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"template: {len(body['paths'])} paths, every OPTIONS to its function: {'no' if problems else 'yes'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
