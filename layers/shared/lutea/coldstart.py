"""The cyclic garbage collector during a function's init.

Init builds modules, classes, models and settings that live as long as the container: none of
it is garbage, yet the cyclic collector keeps scanning it while it is built (a collection every
700 new objects, the older ones rescanned in turn). Counted in instructions, the collector's
work was about a tenth of a function's init and of the floor ``make bench`` compares it with;
what the deferral removes (from the first import of ``lutea`` on) is 3.5-5 % of the floor's
count, more in CPU time (README, Performance).

So importing ``lutea`` (the first of our modules any function imports) raises the collector's
thresholds (``defer``), and the entry point, once built (``lutea.observability.instrumented``,
the last step of every function's init), restores them and freezes what init built
(``init_done``): moved to the permanent generation, those objects are never scanned again, by
init or by the collections of later requests. The collector is never switched off: a process
that imports ``lutea`` and builds no handler (a tool, the tests) still collects, in larger
batches: cycles that die young every DEFERRED[0] new objects, those that outlive one such
collection every DEFERRED[0] * DEFERRED[1] (200,000; with 50 there, a worst case of 3 million
cyclic rows dying in batches of 50,000 peaked at 452 MB, 149 MB now, 39 MB with the usual
thresholds). Init itself makes fewer than DEFERRED[0] objects: no collection at all. Reference cycles init makes stay in
memory (frozen): init makes few, and a container runs one function (about 300 unreachable
objects after a function's init, measured).
"""

from __future__ import annotations

import gc

# A young collection every DEFERRED[0] new container objects instead of 700 while init runs; an
# older one every DEFERRED[1] young ones (instead of 10), the oldest as usual.
DEFERRED = (100_000, 2, 10)
_normal: tuple[int, int, int] | None = None


def defer() -> None:
    """Raise the thresholds until ``init_done`` (idempotent)."""
    global _normal
    if _normal is None:
        _normal = gc.get_threshold()
        gc.set_threshold(*DEFERRED)


def init_done() -> None:
    """The thresholds as they were, and everything built so far out of the collector's scans."""
    global _normal
    if _normal is not None:
        # Frozen first: the young generation is empty before the usual threshold applies again
        # (else the next allocation would scan everything init built). A full collection first
        # would find about 300 unreachable objects and cost more than the deferral saved.
        gc.freeze()
        gc.set_threshold(*_normal)
        _normal = None


def cancel() -> None:
    """The thresholds as they were, and nothing to freeze: the deferral undone, for a process
    that measures init without it (the bench's "usual collector" column)."""
    global _normal
    if _normal is not None:
        gc.set_threshold(*_normal)
        _normal = None
