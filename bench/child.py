"""The subprocess side of the cold-init and memory benches; the parent reads one line,
``BENCH_RESULT {json}``, from stdout.

    python -m bench.child baseline
    python -m bench.child cold <group> [usual-collector]
    python -m bench.child memory <group> <requests>
    python -m bench.child secret

The harness (template parsing, the proxy event) is prepared before the clock starts, the same
way in the baseline and in a function. The clock is the process's CPU time (``process_time``):
on a shared 2-core machine, wall time measures the other processes' load as much as ours.
Without ``MONGODB_URI`` the database is the in-process stand-in (mongomock); its own import is
not charged to the function (a deployed function talks to MongoDB with pymongo, which the
baseline also imports): the clock stops around that import only, after charging pymongo if the
function had not imported it yet.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from typing import Any, cast

from bench.common import LAYER, ROOT, SPECS, real_mongo

for _path in (str(ROOT), str(LAYER)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from infra.local import gateway  # noqa: E402 - harness, loaded before any clock starts


def _mark(label: str) -> None:
    """A marker in the ``-X importtime`` stream (stderr), to know which imports were timed."""
    sys.stderr.write(f"BENCH_MARK {label}\n")
    sys.stderr.flush()


def _emit(result: dict[str, Any]) -> None:
    out = sys.__stdout__
    assert out is not None, "the bench child writes its result to its own stdout"
    out.write("BENCH_RESULT " + json.dumps(result) + "\n")
    out.flush()


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def baseline() -> dict[str, Any]:
    _mark("start")
    t0 = time.process_time()
    import aws_lambda_powertools.event_handler  # noqa: F401
    import pymongo  # noqa: F401

    elapsed = time.process_time() - t0
    _mark("stop")
    return {"init_ms": elapsed * 1000, "import_ms": elapsed * 1000, "request_ms": 0.0, "modules": sorted(sys.modules)}


def baseline_validated() -> dict[str, Any]:
    """The floor of any function of this kind: ``event_handler`` + pydantic + pymongo, a resolver
    with ``enable_validation=True`` and one route taking a pydantic body, and one request
    through it (as each function's measure handles one request)."""
    event = gateway.build_event("POST", "/x", headers={"Content-Type": "application/json"}, body=json.dumps({"name": "Lutea"}))
    context = gateway.LambdaContext("baseline")
    _mark("start")
    t0 = time.process_time()
    import aws_lambda_powertools.event_handler
    import pymongo  # noqa: F401
    from pydantic import BaseModel

    class Body(BaseModel):
        name: str

    app = aws_lambda_powertools.event_handler.APIGatewayRestResolver(enable_validation=True)

    @app.post("/x")
    def route(body: Body) -> dict:
        return {"name": body.name}

    t1 = time.process_time()
    status = app.resolve(event, cast(Any, context))["statusCode"]  # duck-typed: the attributes Powertools reads
    t2 = time.process_time()
    _mark("stop")
    return {
        "init_ms": (t2 - t0) * 1000,
        "import_ms": (t1 - t0) * 1000,
        "request_ms": (t2 - t1) * 1000,
        "status": status,
        "modules": sorted(sys.modules),
    }


def without_deferral() -> None:
    """The collector as if the layer did not defer it (the "usual collector" column): the
    layer's package imported before the clock starts, the usual thresholds put back, and
    nothing left for the entry point to freeze."""
    from lutea import coldstart

    coldstart.cancel()


def cold(group: str, usual_collector: bool = False) -> dict[str, Any]:
    """``usual_collector``: the function's init without lutea.coldstart's deferral of the cyclic
    collector (``without_deferral``, before the clock starts): what the code costs, shown
    beside what the function costs."""
    spec = SPECS[group]
    fn = gateway.functions()[spec.logical_id]
    module_file, handler_name = fn.handler.rsplit(".", 1)
    event = None
    if spec.cold is not None:
        from bench.fixtures import proxy_event  # harness only: imports infra.local.gateway

        p = spec.cold
        event = proxy_event(p.method, p.path, body=p.body, headers=p.headers)
    context = gateway.LambdaContext(spec.logical_id)
    if usual_collector:
        without_deferral()

    _mark("start")
    t0 = time.process_time()
    module = gateway.load_function_module(fn.code_uri, module_file)
    handler = getattr(module, handler_name)
    t1 = time.process_time()
    _mark("pause")
    charged = 0.0
    if not real_mongo():
        if "pymongo" not in sys.modules:  # a deployed function would import it on its first query
            s = time.process_time()
            import pymongo  # noqa: F401

            charged = time.process_time() - s
        import mongomock  # noqa: F401 - the local stand-in: not charged
    from bench.dbcount import CommandCounter

    counter = CommandCounter().install()  # before the first request: the client is created lazily
    _mark("resume")
    t2 = time.process_time()
    status = None
    if event is not None:
        with contextlib.redirect_stdout(open(os.devnull, "w")):  # EMF metrics lines
            status = handler(event, context)["statusCode"]
    t3 = time.process_time()
    _mark("stop")
    return {
        "init_ms": ((t1 - t0) + charged + (t3 - t2)) * 1000,
        "import_ms": (t1 - t0 + charged) * 1000,
        "request_ms": (t3 - t2) * 1000,
        "status": status,
        "commands": counter.total,
        "create_indexes": counter.count("createIndexes"),
        "boto3": "boto3" in sys.modules,
    }


def secret() -> dict[str, Any]:
    """Settings loaded from the ``LUTEA_SECRET_*`` secrets the way the environment says (SDK or extension,
    against the local fakes the parent started), or from the environment alone: the secret
    fetch of a cold start, imports included."""
    from lutea import config  # part of every function's init, charged there

    _mark("start")
    t0 = time.process_time()
    settings = config.load_settings()
    elapsed = time.process_time() - t0
    _mark("stop")
    assert settings.mongodb_uri == "mongodb://127.0.0.1:1/?directConnection=true", "the secret was not read"
    return {"secret_ms": elapsed * 1000, "boto3": "boto3" in sys.modules}


def memory(group: str, requests: int) -> dict[str, Any]:
    from bench import fixtures

    spec = SPECS[group]
    probe = spec.memory
    assert probe is not None
    fn = gateway.functions()[spec.logical_id]
    module = gateway.load_function_module(fn.code_uri, fn.handler.rsplit(".", 1)[0])
    after_import = _maxrss_mb()
    if probe.method == "EVENT":
        handler = getattr(module, probe.path)
        event = fixtures.scheduled_event()
    else:
        handler = getattr(module, fn.handler.rsplit(".", 1)[1])
        body = probe.body
        if probe.setup == "retreats":
            fixtures.seed_retreats(20)
        elif probe.setup == "booking_retreat":
            from bench.common import booking_body

            body = booking_body(fixtures.booking_retreat(places=10000))
        cookie = fixtures.session_cookie() if probe.signed_in else None
        event = fixtures.proxy_event(probe.method, probe.path, body=body, headers=probe.headers, cookie=cookie)
    statuses: dict[str, int] = {}
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(open(os.devnull, "w")):
        for _ in range(requests):
            result = handler(event, gateway.LambdaContext(spec.logical_id))
            key = str(result.get("statusCode", "ok")) if isinstance(result, dict) else "ok"
            statuses[key] = statuses.get(key, 0) + 1
    elapsed = time.perf_counter() - t0
    return {"peak_rss_mb": _maxrss_mb(), "rss_after_import_mb": after_import, "statuses": statuses, "seconds": elapsed}


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "baseline":
        result = baseline()
    elif mode == "baseline-validated":
        result = baseline_validated()
    elif mode == "cold":
        result = cold(argv[1], usual_collector=argv[2:] == ["usual-collector"])
    elif mode == "secret":
        result = secret()
    elif mode == "memory":
        result = memory(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    _emit(result)


if __name__ == "__main__":
    main(sys.argv[1:])
