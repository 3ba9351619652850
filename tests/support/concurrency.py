"""Racing threads, for the tests that prove a store or a route cannot oversell or double-act.

with tiny_switch_interval():           # or the fixture of the same name (tests/conftest.py)
    results = run_together([task] * 50)
assert not crashes(results)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


@contextmanager
def tiny_switch_interval() -> Iterator[None]:
    """Threads switch every microsecond: without it, an unsafe read-then-write passes by luck
    (the race loses only rarely)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_together(tasks: Sequence[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run each task in its own thread, all released at once by a barrier; the result of each,
    in order, or the exception it raised (a crash must fail the test, not vanish with its thread)."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tasks[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tasks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


def crashes(results: Sequence[Any]) -> list[BaseException]:
    """The exceptions among ``run_together``'s results."""
    return [r for r in results if isinstance(r, BaseException)]
