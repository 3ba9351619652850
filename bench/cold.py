"""Section 1, cold start: a fresh process per measure (bench/child.py).

1. Init: the function's module imported and one cheap request handled, against the floor of any
   function of this kind (``event_handler`` + pydantic + pymongo, one validated route, one request).
2. Secret fetch, the three ways a function can get its secret: Powertools Parameters (boto3)
   against a local Secrets Manager stand-in, the Parameters and Secrets Lambda Extension's
   localhost API (a stand-in), or values resolved at deploy time into the environment.
3. The modelled cold start: init + secret fetch + round trips x RTT (1 ms and 20 ms).
Medians of several runs, interleaved."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, SPECS, bench_env, fmt, median, missing_reason, print_table, real_mongo, verdict
from tests.support.fake_secrets import FakeSecretsExtension, FakeSecretsManager

RUNS = 7
TARGET_RATIO = 1.15
RTTS = (1, 20)
# A cold container's first MongoDB operation waits, in sequence, for: the SRV and TXT lookups of a
# mongodb+srv URI (2), the monitor's TCP + TLS 1.3 + hello before server selection (3), then the
# pool connection's TCP + TLS 1.3 + hello with speculative SCRAM + saslContinue (4).
CONNECT_RTS = 9
# Secrets Manager from the sandbox (by the SDK, or by the extension on its first call): DNS, TCP,
# TLS 1.3 and the first request (4), then one request per further secret on the same connection.
# Resolved at deploy time: nothing.
FIRST_SECRET_RTS = 4
# One secret per need (template.yaml: LUTEA_SECRET_<NEED> per function); the measure reads three.
SECRETS = {
    "LUTEA_SECRET_JWT": (
        "lutea/bench/jwt",
        {
            "JWT_ACCESS_SECRET": "bench-access-secret-0123456789-0123456789",
            "JWT_REFRESH_SECRET": "bench-refresh-secret-0123456789-0123456789",
        },
    ),
    "LUTEA_SECRET_MONGODB": ("lutea/bench/mongodb", {"MONGODB_URI": "mongodb://127.0.0.1:1/?directConnection=true"}),
    "LUTEA_SECRET_STRIPE": ("lutea/bench/stripe", {"STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": "whsec_bench"}),
}
FLOOR_SECRETS = 1  # the database's URI


def secret_rts(way: str, count: int) -> int:
    return 0 if way == "env" or count == 0 else FIRST_SECRET_RTS + count - 1


def secrets_of(logical_id: str) -> int:
    """How many secrets the template gives this function."""
    from infra.local import gateway

    fn = gateway.functions().get(logical_id)
    return sum(1 for name in (fn.environment if fn else {}) if name.startswith("LUTEA_SECRET_"))


def _child(args: list[str], env: dict[str, str], importtime: bool = False) -> tuple[dict[str, Any], float, str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "bench.child", *args]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    wall = (time.perf_counter() - start) * 1000
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT ") :]), wall, proc.stderr
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
        self_us, cum_us, name = line[len("import time:") :].split("|", 2)
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


def _secret_envs(
    base: dict[str, str], manager: FakeSecretsManager, extension: FakeSecretsExtension, only: tuple[str, ...] = ()
) -> dict[str, dict[str, str]]:
    """The environment of each way, with every secret of SECRETS or ``only`` those named."""
    chosen = {var: entry for var, entry in SECRETS.items() if not only or var in only}
    ids = {var: secret_id for var, (secret_id, _) in chosen.items()}
    values = {k: v for _, data in chosen.values() for k, v in data.items()}
    return {
        "sdk": {
            **base,
            **ids,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": manager.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
        },
        "extension": {
            **base,
            **ids,
            "LUTEA_SECRETS_VIA": "extension",
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port),
            "AWS_SESSION_TOKEN": extension.token,
        },
        "env": {**base, **values},
    }


SECRET_LABELS = {
    "sdk": "Powertools Parameters + boto3 (today's default)",
    "extension": "Parameters and Secrets Lambda Extension, localhost (LUTEA_SECRETS_VIA=extension)",
    "env": "resolved at deploy time into the environment",
}


def run() -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-cold-"))
    specs = [s for s in SPECS.values() if s.present]
    # As deployed behind the WAF: the app counts only the strict tiers.
    envs = {s.group: {**bench_env(tmp / s.group, s.group), "RATE_LIMIT_GLOBAL_AT_EDGE": "true"} for s in specs}
    base_env = bench_env(tmp / "baseline", "baseline")
    stored = dict(SECRETS.values())
    manager = FakeSecretsManager(stored).start()
    extension = FakeSecretsExtension(stored).start()
    try:
        secret_base = bench_env(tmp / "secret", "secret")
        return _run(
            specs,
            envs,
            base_env,
            _secret_envs(secret_base, manager, extension),
            _secret_envs(secret_base, manager, extension, only=("LUTEA_SECRET_MONGODB",)),
        )
    finally:
        manager.stop()
        extension.stop()


def _run(
    specs: list[Any],
    envs: dict[str, dict[str, str]],
    base_env: dict[str, str],
    secret_envs: dict[str, dict[str, str]],
    one_secret_envs: dict[str, dict[str, str]],
) -> bool:
    # One round to write the bytecode caches, as a deployed package would have them.
    _child(["baseline"], base_env)
    floor_result, _, _ = _child(["baseline-validated"], base_env)
    for env in [*secret_envs.values(), *one_secret_envs.values()]:
        _child(["secret"], env)
    broken: dict[str, str] = {}
    for s in specs:
        try:
            _child(["cold", s.group], envs[s.group])
        except RuntimeError as exc:  # a function that does not import: shown, not measured
            broken[s.group] = str(exc)
    specs = [s for s in specs if s.group not in broken]
    samples: dict[str, list[float]] = {"baseline": [], "floor": []}
    walls: dict[str, list[float]] = {"baseline": [], "floor": []}
    requests: dict[str, list[float]] = {}
    secrets: dict[str, list[float]] = {way: [] for way in secret_envs}
    one_secret: dict[str, list[float]] = {way: [] for way in one_secret_envs}
    last: dict[str, Any] = {}
    for _ in range(RUNS):
        result, wall, _ = _child(["baseline"], base_env)
        samples["baseline"].append(result["init_ms"])
        walls["baseline"].append(wall)
        result, wall, _ = _child(["baseline-validated"], base_env)
        samples["floor"].append(result["init_ms"])
        walls["floor"].append(wall)
        for way, env in secret_envs.items():
            result, _, _ = _child(["secret"], env)
            secrets[way].append(result["secret_ms"])
            last[f"secret:{way}"] = result
            result, _, _ = _child(["secret"], one_secret_envs[way])
            one_secret[way].append(result["secret_ms"])
        for s in specs:
            result, wall, _ = _child(["cold", s.group], envs[s.group])
            samples.setdefault(s.group, []).append(result["init_ms"])
            walls.setdefault(s.group, []).append(wall)
            requests.setdefault(s.group, []).append(result["request_ms"])
            last[s.group] = result
    floor_modules = set(floor_result["modules"])
    base = median(samples["baseline"])
    floor = median(samples["floor"])
    rows: list[list[Any]] = [
        [
            "baseline: event_handler + pymongo (informative)",
            "import only",
            fmt(base),
            "-",
            fmt(median(walls["baseline"]), 0),
            f"{base / floor:.2f}x",
            "-",
            "-",
            "-",
            "-",
            "",
        ],
        [
            "floor: event_handler + pydantic + pymongo, 1 validated route",
            "POST /x -> 200",
            fmt(floor),
            "-",
            fmt(median(walls["floor"]), 0),
            "1.00x",
            "-",
            "-",
            "-",
            "-",
            "",
        ],
    ]
    ok = True
    inits: dict[str, float] = {}
    for spec in SPECS.values():
        if not spec.present or spec.group in broken:
            reason = missing_reason(spec) if not spec.present else f"error: {broken[spec.group]}"
            rows.append(
                [spec.group, reason, "-", "-", "-", "-", f"≤ {TARGET_RATIO}x", "MISS" if spec.present else "-", "-", "-", ""]
            )
            ok &= not spec.present
            continue
        init = inits[spec.group] = median(samples[spec.group])
        ratio = init / floor
        passed = ratio <= TARGET_RATIO
        ok &= passed
        _, _, stderr = _child(["cold", spec.group], envs[spec.group], importtime=True)
        heavy = ", ".join(f"{name} {ms:.0f} ({parent})" for name, ms, parent in heaviest_imports(stderr, floor_modules))
        probe = spec.cold
        result = last[spec.group]
        what = f"{probe.method} {probe.path} -> {result['status']}" if probe else "import only"
        rows.append(
            [
                spec.group,
                what,
                fmt(init),
                fmt(median(requests[spec.group]), 1),
                fmt(median(walls[spec.group]), 0),
                f"{ratio:.2f}x",
                f"≤ {TARGET_RATIO}x",
                verdict(passed),
                f"{result['commands']} ({result['create_indexes']})",
                "yes" if result["boto3"] else "no",
                heavy,
            ]
        )
    print_table(
        f"1. Cold init (median of {RUNS} fresh processes, ms)",
        [
            "function",
            "request",
            "init ms",
            "of which request",
            "process wall ms",
            "vs floor",
            "target",
            "result",
            "db commands (createIndexes)",
            "boto3",
            "heaviest imports beyond the floor: module ms (importer)",
        ],
        rows,
        [
            "init = import of functions/<group>/app.py + its first request, timed inside the child; the floor is "
            "what any function of this kind needs (resolver with validation, pydantic, pymongo, one request).",
            "process wall = the whole child seen from outside (interpreter start, harness, exit): both sides pay it.",
            "db commands = MongoDB commands of that first request, createIndexes among them (each one a round trip "
            "on the request path); global rate limit at the WAF, as deployed.",
            "database: "
            + (
                "MONGODB_URI (a real server)."
                if real_mongo()
                else "the in-process stand-in; the import of mongomock itself is not charged "
                "(pymongo is, when the function had not imported it yet)."
            ),
            "-X importtime figures are inflated by the instrumentation; they rank, they do not add up.",
        ],
    )
    secret_ms = {way: median(values) for way, values in secrets.items()}
    one_secret_ms = {way: median(values) for way, values in one_secret.items()}

    def fetch_ms(way: str, count: int) -> float:
        """The fetch of ``count`` secrets, from the measures of 1 and of len(SECRETS): a fixed
        part (imports, the first connection) and a part per secret."""
        if count == 0 or way == "env":
            return one_secret_ms[way] if way == "env" else 0.0
        per = max(0.0, (secret_ms[way] - one_secret_ms[way]) / (len(SECRETS) - 1))
        return one_secret_ms[way] + per * (count - 1)

    secret_rows = []
    for way in secret_envs:
        no_boto3 = not last[f"secret:{way}"]["boto3"]
        ok &= no_boto3 or way == "sdk"
        secret_rows.append(
            [
                SECRET_LABELS[way],
                fmt(secret_ms[way]),
                fmt(one_secret_ms[way]),
                "no" if no_boto3 else "yes",
                secret_rts(way, len(SECRETS)),
                "no boto3" if way != "sdk" else "(the old way)",
                verdict(no_boto3) if way != "sdk" else "-",
            ]
        )
    print_table(
        f"1b. Secret fetch at cold start, {len(SECRETS)} secrets (median of {RUNS} fresh processes, ms; settings "
        "loaded, imports included)",
        [
            "way",
            f"ms here, {len(SECRETS)} secrets",
            "ms here, 1 secret",
            "boto3 imported",
            "round trips in AWS",
            "target",
            "result",
        ],
        secret_rows,
        [
            "here = against local stand-ins (tests/support/fake_secrets.py): the machine's cost of the way; "
            "the network is added below as round trips (DNS, TCP, TLS 1.3, the request; the extension makes them "
            "itself on its first call).",
            "deploy time: CloudFormation resolves {{resolve:secretsmanager:...}} into the functions' (KMS-encrypted) "
            "environment; a rotation then needs a redeploy (as today: secrets are read once per container).",
        ],
    )
    floor_commands = 1
    model_rows: list[list[Any]] = []

    def modelled(init: float, way: str, commands: int, secrets: int, rtt: int) -> float:
        return init + fetch_ms(way, secrets) + (CONNECT_RTS + commands + secret_rts(way, secrets)) * rtt

    def floor_at(way: str, rtt: int) -> float:
        return modelled(floor, way, floor_commands, FLOOR_SECRETS, rtt)

    floor_cells = [fmt(floor_at(way, rtt), 0) for rtt in RTTS for way in ("extension", "env")]
    model_rows.append(["floor", fmt(floor), CONNECT_RTS + floor_commands, FLOOR_SECRETS, *floor_cells, "-", "-", "-"])
    for spec in specs:
        result = last[spec.group]
        commands = max(1, int(result["commands"]))
        count = secrets_of(spec.logical_id)
        cells = [fmt(modelled(inits[spec.group], way, commands, count, rtt), 0) for rtt in RTTS for way in ("extension", "env")]
        sdk_20 = modelled(inits[spec.group], "sdk", commands, count, RTTS[-1])
        worst = max(
            modelled(inits[spec.group], way, commands, count, rtt) / floor_at(way, rtt)
            for rtt in RTTS
            for way in ("extension", "env")
        )
        passed = worst <= TARGET_RATIO
        ok &= passed
        model_rows.append(
            [
                spec.group,
                fmt(inits[spec.group]),
                CONNECT_RTS + commands,
                count,
                *cells,
                fmt(sdk_20, 0),
                f"{worst:.2f}x ≤ {TARGET_RATIO}x",
                verdict(passed),
            ]
        )
    print_table(
        "1c. Modelled cold start (ms) = init + secret fetch + round trips x RTT",
        [
            "function",
            "init",
            "db round trips",
            "secrets",
            *(f"{way} @{rtt} ms" for rtt in RTTS for way in ("extension", "env")),
            f"sdk @{RTTS[-1]} ms (old)",
            "worst vs floor (extension or env)",
            "result",
        ],
        model_rows,
        [
            f"db round trips = connection ({CONNECT_RTS}: SRV + TXT lookups, the monitor's TCP + TLS + hello before "
            "server selection, the pool connection's TCP + TLS + hello with speculative SCRAM + saslContinue) + the "
            "first request's commands (at least 1; createIndexes included); plus the secrets' round trips "
            f"({FIRST_SECRET_RTS} for the first, 1 per further secret; none from the environment); the secret fetch's "
            f"own cost for n secrets: the 1-secret measure + (n - 1) x the per-secret difference of the "
            f"{len(SECRETS)}-secret one.",
            f"floor = floor init + the same connection, {floor_commands} command and {FLOOR_SECRETS} secret; target: "
            "every function ≤ "
            f"{TARGET_RATIO}x the floor at each RTT, both boto3-free ways (the extension, with template.yaml's "
            "SecretsExtensionLayerArn, and values in the environment); the SDK way (the template's default without "
            "that parameter) is shown, not judged.",
            "Not modelled: Lambda's own sandbox and runtime start, before init (the same for every function).",
        ],
    )
    return ok
