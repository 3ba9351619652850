"""Secrets in AWS: one Secrets Manager secret per need, each trusted only for its own keys, and
re-read after a bounded age or when a provider refuses our credentials (rotation without
redeploy). Against moto's Secrets Manager."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from lutea import config

REGION = "eu-west-3"


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    parameters.clear_caches()
    config.reset_settings()


def _put(client: object, name: str, values: dict[str, str]) -> None:
    client.create_secret(Name=name, SecretString=json.dumps(values))  # type: ignore[attr-defined]


def test_each_secret_gives_only_its_own_keys(secretsmanager: object) -> None:
    _put(
        secretsmanager,
        "lutea/dev/jwt",
        {
            "JWT_ACCESS_SECRET": "a" * 40,
            "JWT_REFRESH_SECRET": "b" * 40,
            # misplaced: the JWT secret is not trusted for Stripe
            "STRIPE_SECRET_KEY": "sk_live_misplaced",
        },
    )
    _put(secretsmanager, "lutea/dev/stripe", {"STRIPE_SECRET_KEY": "sk_test_from_sm", "STRIPE_WEBHOOK_SECRET": "whsec_x"})
    s = config.load_settings(
        {"LUTEA_SECRET_JWT": "lutea/dev/jwt", "LUTEA_SECRET_STRIPE": "lutea/dev/stripe", "AWS_DEFAULT_REGION": REGION}
    )
    assert s.jwt_access_secret == "a" * 40 and s.stripe_secret_key == "sk_test_from_sm"

    only_jwt = config.load_settings({"LUTEA_SECRET_JWT": "lutea/dev/jwt", "AWS_DEFAULT_REGION": REGION})
    assert only_jwt.stripe_secret_key == "sk_test_local"  # the default, never the misplaced key


def test_every_secret_key_has_exactly_one_source() -> None:
    keys = [key for keys in config.SECRET_SOURCES.values() for key in keys]
    assert len(keys) == len(set(keys)) == len(config.SECRET_KEYS)
    assert {"JWT_ACCESS_SECRET", "MONGODB_URI", "MYSQL_PASSWORD", "STRIPE_SECRET_KEY", "RESEND_API_KEY"} <= set(keys)


def test_a_rotated_secret_takes_effect_after_the_maximum_age(secretsmanager: object, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(config.time, "monotonic", lambda: clock[0])
    _put(secretsmanager, "lutea/dev/stripe", {"STRIPE_SECRET_KEY": "sk_test_old", "STRIPE_WEBHOOK_SECRET": "w"})
    monkeypatch.setenv("LUTEA_SECRET_STRIPE", "lutea/dev/stripe")
    config.reset_settings()
    assert config.get_settings().stripe_secret_key == "sk_test_old"

    secretsmanager.put_secret_value(
        SecretId="lutea/dev/stripe",  # type: ignore[attr-defined]
        SecretString=json.dumps({"STRIPE_SECRET_KEY": "sk_test_new"}),
    )
    clock[0] += config.SECRETS_MAX_AGE_SECONDS - 1
    assert config.get_settings().stripe_secret_key == "sk_test_old"  # cached, within its age
    clock[0] += 2
    assert config.get_settings().stripe_secret_key == "sk_test_new"  # re-read, no redeploy


def test_a_refused_credential_forces_a_rate_limited_re_read(secretsmanager: object, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(config.time, "monotonic", lambda: clock[0])
    _put(secretsmanager, "lutea/dev/resend", {"RESEND_API_KEY": "re_old"})
    monkeypatch.setenv("LUTEA_SECRET_RESEND", "lutea/dev/resend")
    config.reset_settings()
    assert config.get_settings().resend_api_key == "re_old"
    secretsmanager.put_secret_value(
        SecretId="lutea/dev/resend",  # type: ignore[attr-defined]
        SecretString=json.dumps({"RESEND_API_KEY": "re_new"}),
    )

    assert config.refresh_secrets() is True
    # force_fetch: Powertools' own cache (same maximum age) does not hide the new value
    assert config.get_settings().resend_api_key == "re_new"
    clock[0] += 1
    assert config.refresh_secrets() is False  # a burst of refusals is one re-read, not many
    clock[0] += config.SECRETS_REFRESH_MIN_INTERVAL_SECONDS
    assert config.refresh_secrets() is True


def test_settings_without_secrets_manager_never_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(config.time, "monotonic", lambda: clock[0])
    config.reset_settings()
    first = config.get_settings()
    clock[0] += 10 * config.SECRETS_MAX_AGE_SECONDS
    assert config.get_settings() is first
    assert config.refresh_secrets() is False
    config.reset_settings()


def test_a_deployed_function_not_given_a_secret_holds_keys_nobody_else_has(secretsmanager: object) -> None:
    # A job granted only the MongoDB secret (least privilege): it starts, and the public
    # development keys are never what it signs or verifies with.
    _put(secretsmanager, "lutea/prod/mongodb", {"MONGODB_URI": "mongodb://db.invalid:27017"})
    env = {"STAGE": "prod", "LUTEA_SECRET_MONGODB": "lutea/prod/mongodb", "AWS_DEFAULT_REGION": REGION}
    first, second = config.load_settings(env), config.load_settings(env)
    public = {config._DEV_ACCESS_SECRET, config._DEV_REFRESH_SECRET, config._DEV_WEBHOOK_SECRET}
    for s in (first, second):
        assert {s.jwt_access_secret, s.jwt_refresh_secret, s.stripe_webhook_secret}.isdisjoint(public)
    assert first.jwt_access_secret != second.jwt_access_secret  # random: nobody else has them
    assert first.stripe_webhook_secret != second.stripe_webhook_secret
    # Without any secret source, a deployed stage still refuses the defaults (tests/security).
    with pytest.raises(RuntimeError):
        config.load_settings({"STAGE": "prod", "MONGODB_URI": "mongodb://db.invalid:27017"})
