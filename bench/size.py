"""Section 4, artifact size and memory: the unzipped size of each function with its layer after
``sam build`` (arm64, no container: pip downloads wheels), and the peak RSS of a process per
function after 1,000 warm requests of a representative route (bench/child.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, SPECS, bench_env, fmt, missing_reason, print_table, python312, verdict

SAM_VERSION = "aws-sam-cli==1.170.0"
CFN_LINT_VERSION = "cfn-lint==1.53.3"
SAM_DIR = ROOT / ".tools" / "sam"
BUILD_DIR = ROOT / ".aws-sam" / "bench-build"  # not .aws-sam/build: `make build` keeps its own
CACHE_DIR = ROOT / ".aws-sam" / "bench-cache"
LIGHT_LIMIT_MB = 60.0  # functions that need neither stripe nor fpdf2
LAMBDA_LIMIT_MB = 250.0  # Lambda's unzipped limit, function + layers
RSS_LIMIT_MB = 128.0
REQUESTS = 1000
MB = 1024 * 1024


def _sam(py312: str) -> Path:
    sam = SAM_DIR / "bin" / "sam"
    if not sam.exists():
        print(f"  installing {SAM_VERSION} {CFN_LINT_VERSION} into {SAM_DIR} ...", flush=True)
        subprocess.run([py312, "-m", "venv", str(SAM_DIR)], check=True)
        subprocess.run([str(SAM_DIR / "bin" / "pip"), "install", "-q", SAM_VERSION, CFN_LINT_VERSION], check=True)
    return sam


def _build_template(tmp: Path) -> Path:
    """template.yaml with absolute code paths, minus the functions whose code is not there yet."""
    from infra.local.gateway import load_template

    template = load_template()
    resources = template["Resources"]
    for logical_id in list(resources):
        props = resources[logical_id].get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                path = (ROOT / props[key]).resolve()
                if resources[logical_id]["Type"] == "AWS::Serverless::Function" and not (path / "app.py").is_file():
                    del resources[logical_id]
                    break
                props[key] = str(path)
    text = json.dumps(template, default=str)
    # gateway's loader keeps !GetAtt A.B as a string; JSON templates want the list form.
    template = json.loads(
        text,
        object_hook=lambda d: (
            {"Fn::GetAtt": d["Fn::GetAtt"].split(".", 1)} if isinstance(d.get("Fn::GetAtt"), str) and len(d) == 1 else d
        ),
    )
    out = tmp / "template.json"
    out.write_text(json.dumps(template, indent=1))
    return out


def _sam_build() -> tuple[Path | None, str]:
    py312 = python312()
    if py312 is None:
        return None, "skipped: no python3.12 found (sam build needs a real one on PATH)"
    try:
        sam = _sam(py312)
    except (subprocess.CalledProcessError, OSError) as exc:
        return None, f"skipped: could not install aws-sam-cli ({exc})"
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-sam-"))
    template = _build_template(tmp)
    env = dict(
        os.environ,
        SAM_CLI_TELEMETRY="0",
        PATH=f"{Path(py312).parent}{os.pathsep}{os.environ['PATH']}",
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
    )
    cmd = [
        str(sam),
        "build",
        "--template-file",
        str(template),
        "--build-dir",
        str(BUILD_DIR),
        "--cache-dir",
        str(CACHE_DIR),
        "--cached",
    ]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=480)
    except subprocess.TimeoutExpired:
        return None, "skipped: sam build took over 8 minutes"
    took = time.perf_counter() - start
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        return None, f"skipped: sam build failed: {lines[-1] if lines else proc.returncode}"
    return BUILD_DIR, f"sam build --cached took {took:.0f} s"


def _dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            full = Path(root) / name
            if not full.is_symlink():
                total += full.stat().st_size
    return total


def _memory(group: str, tmp: Path) -> dict[str, Any]:
    env = bench_env(tmp / group, group)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.child", "memory", group, str(REQUESTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line[len("BENCH_RESULT ") :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": tail}


def run() -> bool:
    build_dir, build_note = _sam_build()
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-memory-"))
    layer_size = _dir_size(build_dir / "SharedLayer") if build_dir else 0
    rows: list[list[Any]] = []
    ok = True
    for spec in SPECS.values():
        if not spec.present:
            rows.append([spec.group, missing_reason(spec), "-", "-", "-", "-", "-", "-", "-", "-"])
            continue
        limit = LAMBDA_LIMIT_MB if spec.needs_heavy else LIGHT_LIMIT_MB
        size_target = f"≤ {limit:.0f} MB" + (" (Lambda)" if spec.needs_heavy else "")
        if build_dir and (build_dir / spec.logical_id).is_dir():
            fn_size = _dir_size(build_dir / spec.logical_id)
            total_mb = (fn_size + layer_size) / MB
            size_ok = total_mb <= limit
            ok &= size_ok
            size_cells = [f"{fn_size / MB:.1f} + {layer_size / MB:.1f}", fmt(total_mb), size_target, verdict(size_ok)]
        else:
            size_cells = ["-", "-", size_target, build_note if not build_dir else "skipped: not built"]
        result = _memory(spec.group, tmp)
        probe = spec.memory
        route = f"{probe.method} {probe.path}" if probe else "-"
        if "error" in result:
            mem_cells = [route, "-", "-", f"≤ {RSS_LIMIT_MB:.0f} MB", f"error: {result['error']}"]
            ok = False
        else:
            rss_ok = result["peak_rss_mb"] <= RSS_LIMIT_MB
            ok &= rss_ok
            statuses = ",".join(f"{k}x{v}" for k, v in sorted(result["statuses"].items()))
            mem_cells = [
                f"{route} ({statuses})",
                fmt(result["rss_after_import_mb"]),
                fmt(result["peak_rss_mb"]),
                f"≤ {RSS_LIMIT_MB:.0f} MB",
                verdict(rss_ok),
            ]
        rows.append([spec.group, *size_cells, *mem_cells])
    notes = [
        f"size = .aws-sam/bench-build/<Function>/ + SharedLayer/ after sam build (arm64); {build_note}.",
        "functions with stripe or fpdf2 in functions/<group>/requirements.txt (bookings, payments, scheduled) are held "
        "to Lambda's 250 MB limit; the others to 60 MB.",
        f"peak RSS = ru_maxrss of a fresh process per function after {REQUESTS} warm requests of the route shown "
        "(status x count); it holds the in-process MongoDB stand-in and its data (a deployed function holds "
        "pymongo's pool instead).",
    ]
    print_table(
        "4. Artifact size (unzipped, MB) and peak memory (MB)",
        [
            "function",
            "function + layer",
            "total MB",
            "size target",
            "result",
            "route (statuses)",
            "RSS after import",
            f"peak RSS after {REQUESTS}",
            "RSS target",
            "result",
        ],
        rows,
        notes,
    )
    return ok
