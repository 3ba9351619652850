"""The habits the repository keeps by configuration: pre-commit hooks that run this project's
own checks, coverage measured in CI against a floor, and a README per layer package saying what
belongs there and what must not."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_pre_commit_runs_the_projects_own_checks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "mypy", "openapi-and-docs-current", "layering"} <= set(hooks)
    for hook in hooks.values():
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/"), hook["id"]  # offline, the versions CI uses
        for word in hook["entry"].split()[1:]:
            if word.startswith("tests/"):
                assert (ROOT / word).exists(), word


def test_ci_measures_coverage_against_a_floor():
    coverage = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]
    assert coverage["report"]["fail_under"] >= 80
    assert set(coverage["run"]["source"]) == {"layers/shared/lutea", "functions"}
    # README's own test command, measured (CI calls `make test`, as a newcomer does)
    assert "make test COVERAGE=1" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test COVERAGE=1" in (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "coverage report" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_each_layer_package_says_what_belongs_and_what_must_not():
    for package in ("domain", "http", "data", "payments"):
        text = (ROOT / "layers" / "shared" / "lutea" / package / "README.md").read_text(encoding="utf-8")
        assert "Belongs here" in text or "belongs" in text.lower(), package
        assert "Must not be here" in text, package


def test_the_docs_name_only_files_that_exist():
    """A file the README, SECURITY.md, docs/ or a package README names in backticks exists (a
    path from the repository or the layer, or a bare test file name): moving a module means
    moving the sentences that point at it."""
    import glob
    import os
    import re

    pages = ["README.md", "SECURITY.md", *glob.glob("docs/*.md"), *glob.glob("layers/shared/lutea/**/README.md", recursive=True)]
    named = r"`((?:lutea|layers|functions|infra|tests|bench|docs)/[\w/.-]+\.(?:py|md|yaml|sql|json)|test_\w+\.py)`"
    missing = []
    for page in pages:
        for path in re.findall(named, (ROOT / page).read_text(encoding="utf-8")):
            places = [ROOT / path, ROOT / "layers" / "shared" / path]
            if not any(p.exists() for p in places) and not glob.glob(
                str(ROOT / "tests" / "**" / os.path.basename(path)), recursive=True
            ):
                missing.append(f"{page}: {path}")
    assert not missing, missing


def test_mypy_checks_the_functions_and_tools_not_only_the_layer():
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert {"layers/shared/lutea", "functions", "infra", "bench"} <= set(mypy["files"])
    assert mypy["explicit_package_bases"] is True  # functions/*/app.py: one module each, no clash
    assert "pydantic.mypy" in mypy["plugins"]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [hook] = [hook for repo in config["repos"] for hook in repo["hooks"] if hook["id"] == "mypy"]
    assert hook["entry"] == ".venv/bin/mypy"  # the configured files, not a narrower list
    assert "\t$(VENV)/bin/mypy  #" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_mypy_is_strict_on_the_layer():
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    for flag in ("warn_return_any", "warn_unused_ignores", "no_implicit_reexport", "strict_equality"):
        assert mypy[flag] is True, flag
    [layer] = [o for o in mypy["overrides"] if o["module"] == ["lutea.*"]]
    assert layer["disallow_untyped_defs"] and layer["disallow_incomplete_defs"]
