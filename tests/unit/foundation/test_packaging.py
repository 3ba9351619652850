"""Every third-party package a function can import, at module level or lazily inside a
function, is shipped with it: in the shared layer's requirements, the function's own, or the
Lambda runtime (boto3). No tool checks this; a missing one only fails in AWS, on the first
request that takes that path."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from infra.local import gateway

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "shared"
# distribution name -> import names
IMPORT_NAMES = {
    "aws-lambda-powertools": {"aws_lambda_powertools", "aws_xray_sdk"},
    "pydantic": {"pydantic", "pydantic_core"},
    "pymongo": {"pymongo", "bson"},
    "pymysql": {"pymysql"},
    "pyjwt": {"jwt"},
    "pyotp": {"pyotp"},
    "argon2-cffi": {"argon2"},
    "bcrypt": {"bcrypt"},
    "resend": {"resend"},
    "stripe": {"stripe"},
    "fpdf2": {"fpdf"},
}
# The Lambda Python runtime's own: the SDK, and the SnapStart hooks (snapshot-restore-py).
RUNTIME = {"boto3", "botocore", "snapshot_restore_py"}
# Imported only when MONGODB_URI is unset: the local stand-in, never used in AWS.
LOCAL_ONLY = {"mongomock"}


def _requirements(path: Path) -> set[str]:
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            dist = re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0].lower()
            names |= IMPORT_NAMES.get(dist, {dist})
    return names


def _imports(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _module_file(name: str) -> Path | None:
    base = LAYER.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _third_party_reached(entry: Path) -> set[str]:
    seen: set[Path] = set()
    pending = [entry]
    third_party: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "lutea":
                module = _module_file(name)
                if module is not None:
                    pending.append(module)
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return third_party


def test_every_function_ships_what_it_can_import():
    layer = _requirements(LAYER / "requirements.txt")
    for fn in gateway.functions().values():
        shipped = layer | _requirements(fn.code_uri / "requirements.txt") | RUNTIME | LOCAL_ONLY
        missing = _third_party_reached(fn.code_uri / "app.py") - shipped
        assert not missing, f"{fn.logical_id} can import {sorted(missing)} but does not ship it"


def test_functions_that_need_neither_stripe_nor_fpdf2_do_not_ship_them():
    for group in ("auth", "users", "retreats", "email", "analytics"):
        own = _requirements(ROOT / "functions" / group / "requirements.txt")
        assert not own & {"stripe", "fpdf"}, group
