"""Default secrets only where nothing faces the internet (issue 12, defect 9): the public
development keys are accepted by the ``local`` and ``test`` stages only; ``dev``, ``prod`` or a
mistyped stage refuse to start with them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lutea.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
REAL = {
    "JWT_ACCESS_SECRET": "a" * 40,
    "JWT_REFRESH_SECRET": "r" * 40,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
    "MONGODB_URI": "mongodb://db.invalid:27017",
}


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_stages_may_use_the_defaults(stage):
    assert load_settings({"STAGE": stage}).stage == stage


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize("default", ["JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "STRIPE_WEBHOOK_SECRET"])
def test_deployed_stages_refuse_each_default_secret(stage, default):
    env = {"STAGE": stage, **REAL}
    env.pop(default)
    with pytest.raises(RuntimeError, match=default):
        load_settings(env)
    assert load_settings({"STAGE": stage, **REAL}).stage == stage


@pytest.mark.parametrize("stage", ["prd", "Prod", "staging", "bench"])
def test_a_mistyped_stage_refuses_to_start(stage):
    with pytest.raises(RuntimeError, match="STAGE"):
        load_settings({"STAGE": stage, **REAL})
    with pytest.raises(RuntimeError):
        load_settings({"STAGE": stage})


def test_a_function_of_the_dev_stage_with_default_keys_fails_its_cold_start(monkeypatch):
    """As Lambda would load it: the module import (the container's init) raises."""
    from lutea import config

    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.invalid:27017")
    for name in ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config.reset_settings()
    spec = importlib.util.spec_from_file_location("lutea_function_auth_cold", ROOT / "functions" / "auth" / "app.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(RuntimeError, match="JWT_ACCESS_SECRET"):
        spec.loader.exec_module(module)
