"""The CI step that generates the frontend's TypeScript client from openapi.json and compiles
it (infra/client/check.sh) runs in CI, and skips with a clear message only when node is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CHECK = ROOT / "infra" / "client" / "check.sh"


def test_without_node_the_check_says_so_and_skips(tmp_path):
    done = subprocess.run(["/bin/bash", str(CHECK)], env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "SKIPPED: node/npm not found" in done.stdout


def test_ci_runs_the_check_and_pins_the_generator():
    assert "make client-check" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "make client-check" in workflow and "cache-dependency-path: infra/client/package-lock.json" in workflow
    lock = (ROOT / "infra" / "client" / "package-lock.json").read_text(encoding="utf-8")
    assert '"node_modules/openapi-typescript"' in lock and '"node_modules/typescript"' in lock
