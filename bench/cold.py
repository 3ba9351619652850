"""Section 1, cold start: a fresh process per measure (bench/child.py).

1. Init: the function's module imported and one cheap request handled, against the floor of any
   function of this kind (``event_handler`` + pydantic + pymongo, one validated route, one request).
2. Secret fetch, the three ways a function can get its secret: Powertools Parameters (boto3)
   against a local Secrets Manager stand-in, the Parameters and Secrets Lambda Extension's
   localhost API (a stand-in), or values resolved at deploy time into the environment.
3. The modelled cold start: init + secret fetch + round trips x RTT (1 ms and 20 ms).
Several runs, interleaved; init is judged on the minimum over the rounds (noise only ever adds,
see bench/README.md), the median shown beside it."""

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
# TLS 1.3 and the first request (4); each further secret adds one request if fetched after the
# others, nothing if fetched at the same time: measured (WAIT_DELAY_S), not assumed. Resolved at
# deploy time: nothing.
FIRST_SECRET_RTS = 4
# The stand-ins hold each answer back this long in the measure of waits in turn.
WAIT_DELAY_S = 0.1
WAIT_RUNS = 3
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


def secret_rts(way: str, count: int, waits: dict[str, int]) -> int:
    """Round trips of ``count`` secrets: the first's, plus those of the further secrets that
    waited in turn (``waits``: the sequential waits measured with len(SECRETS) secrets)."""
    if way == "env" or count == 0:
        return 0
    per_further = (waits[way] - 1) / (len(SECRETS) - 1)
    return FIRST_SECRET_RTS + round(per_further * (count - 1))


def waits_in_turn(spans: list[tuple[float, float]]) -> int:
    """From (came, answered) times of the requests, how many waited one after the other: a
    request that came after every earlier one had been answered starts a new wait."""
    count, answered = 0, float("-inf")
    for came, went in sorted(spans):
        if came >= answered:
            count += 1
        answered = max(answered, went)
    return count


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
    slow_manager = FakeSecretsManager(stored, delay=WAIT_DELAY_S).start()
    slow_extension = FakeSecretsExtension(stored, delay=WAIT_DELAY_S).start()
    try:
        secret_base = bench_env(tmp / "secret", "secret")
        return _run(
            specs,
            envs,
            base_env,
            _secret_envs(secret_base, manager, extension),
            _secret_envs(secret_base, manager, extension, only=("LUTEA_SECRET_MONGODB",)),
            _secret_envs(secret_base, slow_manager, slow_extension),
            {"sdk": slow_manager, "extension": slow_extension},
        )
    finally:
        for server in (manager, extension, slow_manager, slow_extension):
            server.stop()


def _run(
    specs: list[Any],
    envs: dict[str, dict[str, str]],
    base_env: dict[str, str],
    secret_envs: dict[str, dict[str, str]],
    one_secret_envs: dict[str, dict[str, str]],
    slow_secret_envs: dict[str, dict[str, str]],
    slow_servers: dict[str, Any],
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
    paired: dict[str, list[float]] = {}
    paired_usual: dict[str, list[float]] = {}  # the same without the collector's deferral
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
            # A floor run just before each function's: the pair sees the same load (paired ratios).
            floor_now, _, _ = _child(["baseline-validated"], base_env)
            samples["floor"].append(floor_now["init_ms"])
            result, wall, _ = _child(["cold", s.group], envs[s.group])
            paired.setdefault(s.group, []).append(result["init_ms"] / floor_now["init_ms"])
            usual, _, _ = _child(["cold", s.group, "usual-collector"], envs[s.group])
            paired_usual.setdefault(s.group, []).append(usual["init_ms"] / floor_now["init_ms"])
            samples.setdefault(s.group, []).append(result["init_ms"])
            walls.setdefault(s.group, []).append(wall)
            requests.setdefault(s.group, []).append(result["request_ms"])
            last[s.group] = result
    # Waits made in turn: the slow stand-ins hold each answer back WAIT_DELAY_S and note when each
    # request came and went; a request that came after every earlier one had been answered
    # waited in turn (len(SECRETS) when fetched one by one, 1 when fetched at once). Read from
    # the stand-ins' clocks, not the child's wall time, which the machine's load moves.
    waits: dict[str, int] = {"env": 0}
    for way, server in slow_servers.items():
        counts = []
        for _ in range(WAIT_RUNS):
            server.spans.clear()
            _child(["secret"], slow_secret_envs[way])
            counts.append(waits_in_turn(server.spans))
        waits[way] = max(counts)
    floor_modules = set(floor_result["modules"])
    # Judged on the median of the paired ratios (each function's run over the floor's run just
    # before it): the machine's load drifts over minutes and moves both alike; minima and medians
    # of each side are shown beside it (bench/README.md says why this one).
    base = min(samples["baseline"])
    floor = min(samples["floor"])
    floor_median = median(samples["floor"])
    rows: list[list[Any]] = [
        [
            "baseline: event_handler + pymongo (informative)",
            "import only",
            fmt(median(samples["baseline"])),
            fmt(base),
            f"{median(samples['baseline']) / floor_median:.2f}x",
            f"{base / floor:.2f}x",
            "-",
            "-",
            "-",
            "-",
            "-",
            fmt(median(walls["baseline"]), 0),
            "-",
            "-",
            "",
        ],
        [
            "floor: event_handler + pydantic + pymongo, 1 validated route",
            "POST /x -> 200",
            fmt(floor_median),
            fmt(floor),
            "1.00x",
            "1.00x",
            "1.00x",
            "-",
            "-",
            "-",
            "-",
            fmt(median(walls["floor"]), 0),
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
                [
                    spec.group,
                    reason,
                    "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    f"≤ {TARGET_RATIO}x",
                    "-",
                    "MISS" if spec.present else "-",
                    "-",
                    "-",
                    "-",
                    "-",
                    "",
                ]
            )
            ok &= not spec.present
            continue
        ratio = median(paired[spec.group])
        # In the model: the function's init on the floor's scale, so that its ratio is this one.
        inits[spec.group] = ratio * floor_median
        min_ratio = min(samples[spec.group]) / floor
        median_ratio = median(samples[spec.group]) / floor_median
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
                fmt(median(samples[spec.group])),
                fmt(min(samples[spec.group])),
                f"{median_ratio:.2f}x",
                f"{min_ratio:.2f}x",
                f"{ratio:.2f}x",
                f"≤ {TARGET_RATIO}x",
                f"{median(paired_usual[spec.group]):.2f}x",
                verdict(passed),
                fmt(median(requests[spec.group]), 1),
                fmt(median(walls[spec.group]), 0),
                f"{result['commands']} ({result['create_indexes']})",
                "yes" if result["boto3"] else "no",
                heavy,
            ]
        )
    print_table(
        f"1. Cold init ({RUNS} interleaved rounds of fresh processes, a floor run just before each function's; CPU ms)",
        [
            "function",
            "request",
            "init ms (median)",
            "init ms (min)",
            "median / floor's median",
            "min / floor's min",
            "paired: median of fn / floor (judged)",
            "target",
            "paired, usual collector (informative)",
            "result",
            "of which request",
            "process wall ms",
            "db commands (createIndexes)",
            "boto3",
            "heaviest imports beyond the floor: module ms (importer)",
        ],
        rows,
        [
            "init = import of functions/<group>/app.py + its first request, timed inside the child; the floor is "
            "what any function of this kind needs (resolver with validation, pydantic, pymongo, one request).",
            "judged on the paired ratio: in each round, the function's init over the floor's run just before it "
            "(the same load on both), the median over the rounds; the machine's load drifts over minutes and "
            "moves each side's own median and minimum (bench/README.md).",
            "usual collector = the same function, paired with the same floor run, without lutea.coldstart's "
            "deferral of the cyclic garbage collector during init (the floor has none): what our code costs "
            "beside what the function costs.",
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
                waits[way],
                secret_rts(way, len(SECRETS), waits),
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
            f"waits in turn, {len(SECRETS)} secrets (measured)",
            "round trips in AWS",
            "target",
            "result",
        ],
        secret_rows,
        [
            "here = against local stand-ins (tests/support/fake_secrets.py): the machine's cost of the way; "
            "the network is added below as round trips (DNS, TCP, TLS 1.3, the request; the extension makes them "
            "itself on its first call).",
            f"waits in turn: stand-ins hold each answer back {WAIT_DELAY_S * 1000:.0f} ms and note when each request "
            "came and was answered; a request that came after every earlier one was answered waited in turn "
            f"(the most of {WAIT_RUNS} runs): {len(SECRETS)} = one after the other, 1 = all at once; each wait "
            "in turn beyond the first is one more round trip in AWS.",
            "deploy time: CloudFormation resolves {{resolve:secretsmanager:...}} into the functions' (KMS-encrypted) "
            "environment; a rotation then needs a redeploy (as today: secrets are read once per container).",
        ],
    )
    floor_commands = 1
    model_rows: list[list[Any]] = []

    def modelled(init: float, way: str, commands: int, secrets: int, rtt: int) -> float:
        return init + fetch_ms(way, secrets) + (CONNECT_RTS + commands + secret_rts(way, secrets, waits)) * rtt

    def floor_at(way: str, rtt: int) -> float:
        return modelled(floor_median, way, floor_commands, FLOOR_SECRETS, rtt)

    floor_cells = [fmt(floor_at(way, rtt), 0) for rtt in RTTS for way in ("extension", "env")]
    model_rows.append(["floor", fmt(floor_median), CONNECT_RTS + floor_commands, FLOOR_SECRETS, *floor_cells, "-", "-", "-"])
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
            f"({FIRST_SECRET_RTS} for the first, 1 per further secret fetched in turn, as measured in 1b; none from the "
            "environment); the secret fetch's "
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
