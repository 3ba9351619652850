"""lutea.coldstart: importing the layer defers the cyclic collector; building an entry point
restores it and freezes what init built. The per-function check is in test_cold_start.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import gc, json
normal = gc.get_threshold()
import lutea
deferred = gc.get_threshold()
from lutea.observability import instrumented
entry = instrumented(lambda event, context: {})
print(json.dumps({"normal": normal, "deferred": deferred, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count(), "enabled": gc.isenabled()}))
"""


def _run(code: str) -> dict:
    env = {"STAGE": "test", "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_layer_defers_collections_and_the_entry_point_restores_them():
    found = _run(_PROBE)
    assert found["enabled"]
    assert found["deferred"][0] > 100 * found["normal"][0]  # a collection per 100,000 new objects, not 700
    assert found["after"] == found["normal"]
    assert found["frozen"] > 0


def test_a_process_that_builds_no_entry_point_still_collects_its_cycles():
    code = """
import gc, json
import lutea
class Node:
    pass
def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
for _ in range(300_000):
    cycle()
print(json.dumps({"tracked": len(gc.get_objects()), "enabled": gc.isenabled()}))
"""
    found = _run(code)
    assert found["enabled"]
    # 600,000 objects in cycles were made; the collector kept up with them in larger batches
    assert found["tracked"] < 250_000


def test_the_benchs_usual_collector_run_neither_defers_nor_freezes():
    """bench.child's "usual collector" column is the function's init without the deferral: the
    usual thresholds all along, and nothing frozen when the entry point is built (a freeze
    would spare the charged import and the first request some scans)."""
    code = """
import gc, json
normal, permanent = gc.get_threshold(), gc.get_freeze_count()  # the interpreter's own
from bench import child
child.without_deferral()
during = gc.get_threshold()
from lutea.observability import instrumented
entry = instrumented(lambda event, context: {})
print(json.dumps({"normal": normal, "during": during, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count() - permanent}))
"""
    found = _run(code)
    assert found["during"] == found["normal"]
    assert found["after"] == found["normal"]
    assert found["frozen"] == 0
