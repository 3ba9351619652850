"""What a function's cold start builds: records as ``typing.NamedTuple``, not dataclasses.

On Python 3.12 ``@dataclass(frozen=True)`` writes and compiles six methods per class when the
module is imported (``exec`` each): about 0.6 ms a class here against 0.09 ms for a NamedTuple of
the same fields, and eleven to thirteen of them were built at each function's init (about 10 ms,
a twentieth of the floor ``make bench`` compares a function's init with). The layer's immutable
records are NamedTuples; a dataclass is kept where a NamedTuple can't say it (a default factory,
a field hidden from ``repr``). This test lists the dataclasses a function's import builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Dataclasses a function may still build at import, and why a NamedTuple can't replace them.
ALLOWED = {
    # A fresh idempotency key per message (default factory) and a one-time secret kept out of repr.
    "lutea.email.service.EmailMessage",
    "lutea.email.service.Attachment",  # a field of EmailMessage, declared beside it
}

_PROBE = """
import dataclasses, inspect, json, sys
from infra.local import gateway
before = set(sys.modules)
for fn in gateway.functions().values():
    gateway.load_function_module(fn.code_uri, fn.handler.rsplit(".", 1)[0])
built, records = set(), set()
for name in set(sys.modules) - before:
    if not (name.startswith("lutea.") or name.startswith("lutea_function_")):
        continue
    for attr, value in vars(sys.modules[name]).items():
        if not (inspect.isclass(value) and value.__module__ == name):
            continue
        if dataclasses.is_dataclass(value):
            built.add(f"{name}.{value.__qualname__}")
        elif issubclass(value, tuple) and hasattr(value, "_fields"):
            records.add(f"{name}.{value.__qualname__}")
print(json.dumps({"dataclasses": sorted(built), "records": sorted(records)}))
"""


def test_function_imports_build_no_dataclass_but_the_allowed_ones() -> None:
    env = {"STAGE": "test", "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert "lutea.config.Settings" in found["records"], "the probe is not looking where the functions are"
    assert set(found["dataclasses"]) - ALLOWED == set()
