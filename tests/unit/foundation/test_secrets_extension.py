"""Secrets through the Parameters and Secrets Lambda Extension (``LUTEA_SECRETS_VIA=extension``):
one HTTP GET on localhost per secret, all at once, authenticated by the sandbox's session token,
and no boto3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lutea.config import SECRET_SOURCES, load_settings

from tests.support.fake_secrets import FakeSecretsExtension

ROOT = Path(__file__).resolve().parents[3]
# One secret per need (lutea.config.SECRET_SOURCES).
SECRETS = {
    "lutea/dev/jwt": {"JWT_ACCESS_SECRET": "a" * 40, "JWT_REFRESH_SECRET": "b" * 40, "UNRELATED": "x"},
    "lutea/dev/mongodb": {"MONGODB_URI": "mongodb://db.example:27017"},
    "lutea/dev/stripe": {"STRIPE_SECRET_KEY": "sk_test_from_extension"},
}
SECRET_VARS = {
    "LUTEA_SECRET_JWT": "lutea/dev/jwt",
    "LUTEA_SECRET_MONGODB": "lutea/dev/mongodb",
    "LUTEA_SECRET_STRIPE": "lutea/dev/stripe",
}


def _env(fake: FakeSecretsExtension, **extra: str) -> dict[str, str]:
    return {
        **SECRET_VARS,
        "LUTEA_SECRETS_VIA": "extension",
        "AWS_SESSION_TOKEN": fake.token,
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(fake.port),
        **extra,
    }


def test_the_extension_serves_the_secret_with_the_session_token() -> None:
    with FakeSecretsExtension(SECRETS) as fake:
        settings = load_settings(_env(fake))
    assert settings.jwt_access_secret == "a" * 40 and settings.stripe_secret_key == "sk_test_from_extension"
    assert settings.mongodb_uri == "mongodb://db.example:27017"
    assert sorted(r["secretId"] for r in fake.requests) == sorted(SECRETS)
    assert all(r["path"] == "/secretsmanager/get" and r["token"] == fake.token for r in fake.requests)


def test_an_unavailable_extension_is_a_clear_start_up_error() -> None:
    with FakeSecretsExtension(SECRETS) as fake:
        with pytest.raises(RuntimeError, match="secrets extension"):
            load_settings(_env(fake, AWS_SESSION_TOKEN="stale"))
        with pytest.raises(RuntimeError, match="secrets extension"):
            load_settings(_env(fake, LUTEA_SECRET_STRIPE="lutea/other"))


def test_the_extension_path_imports_no_boto3() -> None:
    code = (
        "import sys, json; from lutea.config import SECRET_SOURCES, load_settings; import os; "
        "s = load_settings(); print(json.dumps({'boto3': 'boto3' in sys.modules or 'botocore' in sys.modules, "
        "'key': s.stripe_secret_key}))"
    )
    with FakeSecretsExtension(SECRETS) as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LUTEA_SECRET_")},
            **_env(fake),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)]),
        }
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"boto3": False, "key": "sk_test_from_extension"}


# Every secret a function can be given, as the users function is (five of them).
ALL_SECRETS: dict[str, dict[str, Any]] = {f"lutea/dev/{var.removeprefix('LUTEA_SECRET_').lower()}": {} for var in SECRET_SOURCES}
ALL_SECRETS["lutea/dev/jwt"] = {"JWT_ACCESS_SECRET": "a" * 40, "JWT_REFRESH_SECRET": "b" * 40}
ALL_SECRETS["lutea/dev/mongodb"] = {"MONGODB_URI": "mongodb://db.example:27017"}
ALL_SECRETS["lutea/dev/resend"] = {"RESEND_API_KEY": "re_from_extension", "MONGODB_URI": "mongodb://misplaced"}
ALL_VARS = {var: f"lutea/dev/{var.removeprefix('LUTEA_SECRET_').lower()}" for var in SECRET_SOURCES}


def test_the_secrets_are_fetched_at_once_not_one_after_the_other() -> None:
    delay = 0.2  # each answer waits, as the extension's first call to Secrets Manager does
    with FakeSecretsExtension(ALL_SECRETS, delay=delay) as fake:
        start = time.perf_counter()
        settings = load_settings(_env(fake, **ALL_VARS))
        elapsed = time.perf_counter() - start
    assert len(fake.requests) == len(SECRET_SOURCES) == 6
    # One after the other would take 6 x 200 ms; at once, about one answer's wait.
    assert elapsed < 2 * delay, f"{elapsed:.3f} s for {len(SECRET_SOURCES)} secrets"
    assert settings.resend_api_key == "re_from_extension"
    assert settings.mongodb_uri == "mongodb://db.example:27017"  # each secret trusted only for its keys


def test_a_failure_among_concurrent_fetches_fails_the_start_with_that_secret_named() -> None:
    missing = {k: v for k, v in ALL_SECRETS.items() if k not in ("lutea/dev/stripe", "lutea/dev/recaptcha")}
    # Two fail: the first in SECRET_SOURCES order is the one raised, as when fetched in turn.
    raised = r"secret 'lutea/dev/stripe' unavailable from the secrets extension \(HTTP 400\)"
    with FakeSecretsExtension(missing, delay=0.05) as fake, pytest.raises(RuntimeError, match=raised):
        load_settings(_env(fake, **ALL_VARS))
    assert len(fake.requests) == len(SECRET_SOURCES)  # every fetch ended before the error was raised


def test_a_secret_that_is_not_a_json_object_fails_the_start() -> None:
    stored: dict[str, Any] = {**ALL_SECRETS, "lutea/dev/mysql": ["not", "an", "object"]}
    with (
        FakeSecretsExtension(stored) as fake,
        pytest.raises(RuntimeError, match="LUTEA_SECRET_MYSQL must name a secret holding a JSON object"),
    ):
        load_settings(_env(fake, **ALL_VARS))
