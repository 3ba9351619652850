"""``make bench``: cold init, warm latency, contention, artifact size and memory, on this machine.

    python -m bench.run                 # the four sections, each in its own process
    python -m bench.run cold|warm|contention|size [...]

Prints plain-text tables, each row with its target and PASS/MISS. Exit code 0 whatever the
verdicts (a bench, not a test), 1 only if a section crashed."""

from __future__ import annotations

import subprocess
import sys
import time
import traceback

from bench.common import ROOT, drop_bench_db, machine_line, real_mongo

SECTIONS = ("roundtrips", "cold", "warm", "contention", "size")


def _run_section(name: str) -> bool:
    from importlib import import_module

    module = import_module(f"bench.{name}")
    try:
        return bool(module.run())
    finally:
        drop_bench_db()


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    child = "--child" in argv
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    if not child:
        print(machine_line())
        print(
            f"Database: {'MONGODB_URI (real server)' if real_mongo() else 'in-process stand-in (mongomock)'}; "
            "nothing external is reached (no secret, Stripe, Resend, reCAPTCHA or MySQL).",
            flush=True,
        )
    if len(names) == 1 or child:
        failed = False
        for name in names:
            start = time.perf_counter()
            try:
                _run_section(name)
            except Exception:
                traceback.print_exc()
                failed = True
            print(f"  ({name}: {time.perf_counter() - start:.0f} s)", flush=True)
        return 1 if failed else 0
    # Several sections: one process each, so that none inherits another's database or imports.
    failed = False
    for name in names or SECTIONS:
        proc = subprocess.run([sys.executable, "-m", "bench.run", name, "--child"], cwd=ROOT)
        failed |= proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
