"""Can the answer time of register and forgot-password tell an existing account from a pending
or an unknown address? Prints the median (and p10/p90) of each branch over N interleaved tries,
in process, with the email provider stood in for by a fixed delay (``--email-ms``: Resend's usual
round trip, the cost that only some branches pay).

    make bench-enumeration                  # N=30, the configured floor (UNIFORM_ANSWER_MS)
    .venv/bin/python -m bench.enumeration --tries 50 --floor-ms 0   # without the padding

A script, not a timed unit test: timings on a shared machine are for reading, not for asserting.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import LAYER, ROOT, bench_env


def _setup(floor_ms: int | None, email_ms: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lutea-enum-"))
    env = bench_env(tmp, service="bench-enumeration")
    if floor_ms is not None:
        env["UNIFORM_ANSWER_MS"] = str(floor_ms)
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = [str(LAYER), str(ROOT)]

    from lutea.email import service

    deliver = service.OutboxBackend.deliver

    def slow_deliver(self: Any, message: Any, sender: Any) -> Any:
        time.sleep(email_ms / 1000)
        return deliver(self, message, sender)

    service.OutboxBackend.deliver = slow_deliver  # type: ignore[method-assign]


def _registration(email: str) -> dict[str, str]:
    return {
        "email": email,
        "password": "Password1!",
        "firstName": "Alice",
        "lastName": "Martin",
        "phone": "0612345678",
        "address": "1 rue des Lilas",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=30)
    parser.add_argument("--floor-ms", type=int, default=None, help="UNIFORM_ANSWER_MS (default: the configured one)")
    parser.add_argument("--email-ms", type=float, default=150.0, help="stand-in provider delay per email")
    args = parser.parse_args()
    _setup(args.floor_ms, args.email_ms)

    from lutea.auth.passwords import hash_password
    from lutea.config import get_settings
    from lutea.data.mongo import get_db

    from tests.support.client import ApiClient

    # Each try meets each branch for the first time (a fresh account, a fresh pending registration,
    # a fresh unknown address): no hourly email quota is reached, as in a first probe.
    stored = hash_password("Password1!")
    get_db()["users"].insert_many(
        [
            {
                "email": f"existant{i}@example.test",
                "password": stored,
                "firstName": "Eve",
                "lastName": "X",
                "role": "client",
                "isEmailVerified": True,
            }
            for i in range(2 * args.tries)
        ]
    )
    client = ApiClient(source_ip="127.0.0.9")
    with contextlib.redirect_stdout(io.StringIO()):
        for i in range(2 * args.tries):  # pending registrations (setup, not timed)
            client.post("/auth/register", json=_registration(f"attente{i}@example.test"))
        client.post("/auth/register", json=_registration("warmup@example.test"))  # imports, caches, indexes

    def quietly(send: Callable[[str], Any]) -> Callable[[str], Any]:  # the functions print their EMF metrics on stdout
        def call(email: str) -> Any:
            with contextlib.redirect_stdout(io.StringIO()):
                return send(email)

        return call

    routes = {
        "POST /auth/register": quietly(lambda email: client.post("/auth/register", json=_registration(email))),
        "POST /auth/forgot-password": quietly(lambda email: client.post("/auth/forgot-password", json={"email": email})),
    }
    print(
        f"floor UNIFORM_ANSWER_MS={get_settings().uniform_answer_ms} ms, stand-in email delay "
        f"{args.email_ms:.0f} ms, {args.tries} interleaved tries per branch (ms)"
    )
    print(f"{'route':<28} {'branch':<9} {'median':>8} {'p10':>8} {'p90':>8}")
    for r, (route, send) in enumerate(routes.items()):
        samples: dict[str, list[float]] = {"existing": [], "pending": [], "unknown": []}
        for i in range(r * args.tries, (r + 1) * args.tries):
            for branch, email in (
                ("existing", f"existant{i}@example.test"),
                ("pending", f"attente{i}@example.test"),
                ("unknown", f"inconnu{i}@example.test"),
            ):
                started = time.perf_counter()
                status = send(email).status
                samples[branch].append((time.perf_counter() - started) * 1000)
                assert status in (200, 201), (route, branch, status)
        for branch, values in samples.items():
            print(
                f"{route:<28} {branch:<9} {statistics.median(values):8.1f} {_percentile(values, 0.1):8.1f} "
                f"{_percentile(values, 0.9):8.1f}"
            )
        medians = [statistics.median(v) for v in samples.values()]
        print(f"{route:<28} {'spread':<9} {max(medians) - min(medians):8.1f}  (largest gap between branch medians)")


if __name__ == "__main__":
    main()
