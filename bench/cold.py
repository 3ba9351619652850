"""Section 1, cold init: a fresh process per measure (bench/child.py) that imports the function's
module and handles one cheap request, against a process that imports only
``aws_lambda_powertools.event_handler`` and ``pymongo``. Median of several runs, interleaved."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, SPECS, bench_env, fmt, median, missing_reason, print_table, real_mongo, verdict

RUNS = 7
TARGET_RATIO = 1.3


def _child(args: list[str], env: dict[str, str], importtime: bool = False) -> tuple[dict[str, Any], float, str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "bench.child", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    wall = (time.perf_counter() - start) * 1000
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):]), wall, proc.stderr
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise RuntimeError(f"{' '.join(args)}: {tail}")


def heaviest_imports(stderr: str, baseline_modules: set[str], top: int = 3) -> list[tuple[str, float, str]]:
    """From ``-X importtime``, the third-party imports our code triggers beyond the baseline, in
    the timed windows: (module, cumulative ms, importer), heaviest first."""
    entries: list[tuple[int, int, int, str]] = []
    timed = False
    for line in stderr.splitlines():
        if line.startswith("BENCH_MARK "):
            timed = line.split()[1] in ("start", "resume")
            continue
        if not timed or not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cum_us, name = line[len("import time:"):].split("|", 2)
        try:
            self_v, cum_v = int(self_us.strip()), int(cum_us.strip())
        except ValueError:
            continue  # the header line
        level = (len(name) - len(name.lstrip(" ")) - 1) // 2
        entries.append((level, self_v, cum_v, name.strip()))
    found: list[tuple[str, float, str]] = []
    stack: list[str] = []
    for level, _self_v, cum_v, name in reversed(entries):  # post-order -> pre-order
        del stack[level:]
        parent = stack[-1] if stack else "app.py"
        stack.append(name)
        ours_parent = parent == "app.py" or parent.split(".")[0] in ("lutea",) or parent.startswith("lutea_function_")
        ours = name.split(".")[0] == "lutea" or name.startswith("lutea_function_")
        if not ours and ours_parent and name not in baseline_modules:
            found.append((name, cum_v / 1000, parent))
    found.sort(key=lambda f: -f[1])
    return found[:top]


def run() -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-cold-"))
    specs = [s for s in SPECS.values() if s.present]
    envs = {s.group: bench_env(tmp / s.group, s.group) for s in specs}
    base_env = bench_env(tmp / "baseline", "baseline")
    # One round to write the bytecode caches, as a deployed package would have them.
    base_result, _, _ = _child(["baseline"], base_env)
    broken: dict[str, str] = {}
    for s in specs:
        try:
            _child(["cold", s.group], envs[s.group])
        except RuntimeError as exc:  # a function that does not import: shown, not measured
            broken[s.group] = str(exc)
    specs = [s for s in specs if s.group not in broken]
    samples: dict[str, list[float]] = {"baseline": [], "validated": []}
    walls: dict[str, list[float]] = {"baseline": [], "validated": []}
    requests: dict[str, list[float]] = {}
    statuses: dict[str, Any] = {}
    for _ in range(RUNS):
        result, wall, _ = _child(["baseline"], base_env)
        samples["baseline"].append(result["init_ms"])
        walls["baseline"].append(wall)
        result, wall, _ = _child(["baseline-validated"], base_env)
        samples["validated"].append(result["init_ms"])
        walls["validated"].append(wall)
        for s in specs:
            result, wall, _ = _child(["cold", s.group], envs[s.group])
            samples.setdefault(s.group, []).append(result["init_ms"])
            walls.setdefault(s.group, []).append(wall)
            requests.setdefault(s.group, []).append(result["request_ms"])
            statuses[s.group] = result["status"]
    baseline_modules = set(base_result["modules"])
    base = median(samples["baseline"])
    validated = median(samples["validated"])
    rows: list[list[Any]] = [
        ["baseline (event_handler + pymongo)", "import only", fmt(base), "-",
         fmt(median(walls["baseline"]), 0), "1.00x", "-", "-", "-", ""],
        ["baseline + request validation (informative)", "resolver + 1 pydantic route", fmt(validated), "-",
         fmt(median(walls["validated"]), 0), f"{validated / base:.2f}x", "1.00x", "-", "-", ""],
    ]
    ok = True
    for spec in SPECS.values():
        if not spec.present or spec.group in broken:
            reason = missing_reason(spec) if not spec.present else f"error: {broken[spec.group]}"
            rows.append([spec.group, reason, "-", "-", "-", "-", "-", "≤ 1.3x", "MISS" if spec.present else "-", ""])
            ok &= not spec.present
            continue
        init = median(samples[spec.group])
        ratio = init / base
        passed = ratio <= TARGET_RATIO
        ok &= passed
        _, _, stderr = _child(["cold", spec.group], envs[spec.group], importtime=True)
        heavy = ", ".join(f"{name} {ms:.0f} ({parent})" for name, ms, parent in
                          heaviest_imports(stderr, baseline_modules))
        probe = spec.cold
        what = f"{probe.method} {probe.path} -> {statuses[spec.group]}" if probe else "import only"
        rows.append([spec.group, what, fmt(init), fmt(median(requests[spec.group]), 1),
                     fmt(median(walls[spec.group]), 0), f"{ratio:.2f}x", f"{init / validated:.2f}x", "≤ 1.3x",
                     verdict(passed), heavy])
    print_table(
        f"1. Cold init (median of {RUNS} fresh processes, ms)",
        ["function", "request", "init ms", "of which request", "process wall ms", "ratio", "vs validated",
         "target", "result",
         "heaviest imports beyond the baseline: module ms (importer), -X importtime"],
        rows,
        [
            "init = import of functions/<group>/app.py + its first request, timed inside the child; "
            "the ratio is init / baseline init; 'vs validated' divides by the baseline plus Powertools "
            "request validation (pydantic), which every function needs (informative).",
            "process wall = the whole child seen from outside (interpreter start, harness, exit): both sides pay it.",
            "database: " + ("MONGODB_URI (a real server)." if real_mongo() else
                            "the in-process stand-in; the import of mongomock itself is not charged "
                            "(pymongo is, when the function had not imported it yet)."),
            "-X importtime figures are inflated by the instrumentation; they rank, they do not add up.",
        ],
    )
    return ok
