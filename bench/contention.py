"""Section 3, contention: 200 concurrent ``POST /bookings`` over loopback HTTP for one date with
20 seats, through the local API (infra/local/server.py's ``build_server``, in this process, in a
thread); the retreat is created with the domain functions in the same process."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

from bench.common import ORIGIN, booking_body, fmt, percentile, print_table, use_bench_env, verdict

REQUESTS = 200
SEATS = 20


def run() -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="lutea-bench-contention-"))
    use_bench_env(tmp, "bench-contention")
    from infra.local.server import build_server

    server = build_server(0)  # port 0: a free port
    # socketserver listens with a backlog of 5: let the 200 connections queue instead of being retried.
    server.socket.listen(REQUESTS + 56)
    server.RequestHandlerClass = type(
        "QuietHandler", (cast(type, server.RequestHandlerClass),), {"log_message": lambda self, *args: None}
    )
    port = server.server_address[1]
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()

    from lutea.data.mongo import get_db

    from bench import fixtures

    retreat_id = fixtures.booking_retreat(places=SEATS)
    payload = json.dumps(booking_body(retreat_id)).encode()
    headers = {"Content-Type": "application/json", "Origin": ORIGIN, "User-Agent": "lutea-bench"}
    barrier = threading.Barrier(REQUESTS + 1)
    results: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * REQUESTS
    errors: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            start = time.perf_counter()
            conn.request("POST", "/bookings", body=payload, headers=headers)
            response = response_ = conn.getresponse()
            response_.read()
            results[i] = (response.status, start, time.perf_counter())
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            results[i] = (-1, 0.0, 0.0)
            if not barrier.broken:
                barrier.abort()
        finally:
            conn.close()

    from lutea.observability import logger

    server_log = tmp / "server-output.log"
    threads = [threading.Thread(target=client, args=(i,)) for i in range(REQUESTS)]
    with open(server_log, "w") as sink, contextlib.redirect_stdout(sink):  # EMF metric lines, logs
        stream_handler = cast(logging.StreamHandler, logger.registered_handler)  # powertools logs to a stream
        previous = stream_handler.setStream(sink)
        try:
            for t in threads:
                t.start()
            barrier.wait()
            released = time.perf_counter()
            for t in threads:
                t.join()
        finally:
            stream_handler.setStream(previous)
    server.shutdown()
    server.server_close()
    logged_errors = _logged_errors(server_log)

    statuses: dict[int, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    done = [r for r in results if r[0] > 0]
    latencies = [(end - start) * 1000 for _, start, end in done]
    wall = max(end for _, _, end in done) - released if done else float("nan")
    created = statuses.get(201, 0)
    conflicts = statuses.get(409, 0)
    booked = list(get_db()["bookings"].find({"retreatId": _oid(retreat_id)}))
    seats_in_db = sum(int(b.get("nbPlaces", 0)) for b in booked if b.get("seatsHeld", True))
    others = {k: v for k, v in statuses.items() if k not in (201, 409)}
    sold_ok = created == SEATS and seats_in_db == SEATS
    conflicts_ok = conflicts == REQUESTS - SEATS
    rows: list[list[Any]] = [
        ["seats sold (201 responses)", created, f"= {SEATS}", verdict(created == SEATS)],
        ["seats held in the database (bookings holding seats)", seats_in_db, f"= {SEATS}", verdict(seats_in_db == SEATS)],
        ["409 Conflict responses", conflicts, f"= {REQUESTS - SEATS}", verdict(conflicts_ok)],
        ["other outcomes", json.dumps(others) if others else "none", "none", verdict(not others)],
        ["throughput (req/s, first byte sent to last answer)", fmt(len(done) / wall, 0), "-", "-"],
        ["latency p50 (ms)", fmt(percentile(latencies, 50), 1), "-", "-"],
        ["latency p99 (ms)", fmt(percentile(latencies, 99), 1), "-", "-"],
        ["wall time of the burst (ms)", fmt(wall * 1000, 0), "-", "-"],
    ]
    notes = [
        f"{REQUESTS} threads each open a keep-alive connection, wait on one barrier, then send one "
        f"guest POST /bookings (nbPlaces 1) for a date with {SEATS} seats; server and clients share "
        "this process (ThreadingHTTPServer, the in-process MongoDB stand-in serialised by its lock)."
    ]
    if errors:
        notes.append(f"client errors: {len(errors)}, first: {errors[0]}")
    for line in logged_errors:
        notes.append(f"server logged: {line}")
    print_table(
        "3. Contention: 200 concurrent bookings over loopback HTTP, one date with 20 seats",
        ["measure", "value", "target", "result"],
        rows,
        notes,
    )
    return sold_ok and conflicts_ok and not others


def _logged_errors(path: Path) -> list[str]:
    """One line per distinct ERROR the handlers logged during the burst (exception and where)."""
    seen: dict[str, int] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        if '"level":"ERROR"' not in raw:
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        frames = (entry.get("stack_trace") or {}).get("frames") or [{}]
        where = f"{Path(frames[-1].get('file', '?')).name}:{frames[-1].get('line', '?')}"
        key = (
            f"{entry.get('message')} in {entry.get('function_name')}: {entry.get('exception_name')} "
            f"{(entry.get('stack_trace') or {}).get('value', '')} at {where}"
        )
        seen[key] = seen.get(key, 0) + 1
    return [f"{count} x {key}" for key, count in seen.items()]


def _oid(value: str) -> Any:
    from bson import ObjectId

    return ObjectId(value)
