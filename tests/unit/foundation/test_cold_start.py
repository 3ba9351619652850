"""What a function's cold start imports and builds, beyond what its routes need on every request.

``make bench`` compares each function's init with a floor (``event_handler`` + pydantic +
pymongo, one validated route); these tests keep what closed the gap from coming back, as
structure rather than timings (the bench measures; tests only count):

- Records are ``typing.NamedTuple``, not dataclasses. On Python 3.12 ``@dataclass(frozen=True)``
  writes and compiles six methods per class when its module is imported (an ``exec`` each):
  about 0.6 ms a class here against 0.09 ms for a NamedTuple of the same fields, and eleven to
  thirteen were built at each function's init (about 10 ms, a twentieth of the floor). A
  dataclass is kept where a NamedTuple can't say it (a default factory, a field out of ``repr``).
- A function imports the wire models it names, not another function's: the domain learns the
  booking statuses from ``lutea.booking_status``, not from the booking routes' models (the
  payments function imported all of them for two enums).
- The email machinery (service, templates, messages: about 3 % of the floor) is imported when a
  route sends, except by the contact form's function, whose one route always sends.
- A type used only in annotations is imported for the type checker only (``if TYPE_CHECKING``):
  Powertools' typing module, and the stored documents' TypedDicts (five classes, each a
  ``TypedDict`` class creation at import, reached by the bookings, payments and retreats
  functions through their repositories).
- The cyclic garbage collector waits while init builds (lutea.coldstart): every function's init
  ends with the usual thresholds and what it built frozen out of later scans.
- A route documents its success body by name (``lutea.http.docs.ok("Booking")``): the classes
  of those bodies live in ``lutea.schemas.responses``, which no function imports. A class given
  to Powertools (``{"model": CancellationOut}``) was built at init only for the document; the
  bookings function built ten (16 million instructions of its init).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())

# Dataclasses a function may still build at import, and why a NamedTuple can't replace them.
ALLOWED_DATACLASSES = {
    # A fresh idempotency key per message (default factory) and a one-time secret kept out of repr.
    "lutea.email.service.EmailMessage",
    "lutea.email.service.Attachment",  # a field of EmailMessage, declared beside it
}
# Functions whose every request sends an email: they may import the email service at init.
SENDS_ON_EVERY_REQUEST = {"email"}
EMAIL_MACHINERY = ("lutea.email.service", "lutea.email.messages", "lutea.email.templates", "lutea.email.failures")
TYPES_ONLY = (
    "aws_lambda_powertools.utilities.typing",
    # The stored documents' TypedDicts: annotations of lutea.data and lutea.domain only.
    "lutea.data.documents",
)

_PROBE = """
import ast, dataclasses, gc, importlib, inspect, json, sys
normal = gc.get_threshold()
from infra.local import gateway
fn = next(f for f in gateway.functions().values() if f.code_uri.name == sys.argv[1])
deferred_collections = []
gc.callbacks.append(lambda phase, info: deferred_collections.append(info["generation"])
                    if phase == "start" and gc.get_threshold() != normal else None)
module_file = fn.handler.rsplit(".", 1)[0]
tree = ast.parse((fn.code_uri / f"{module_file}.py").read_text(encoding="utf-8"))
named = [n.module for n in tree.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("lutea.schemas")]
for name in named:
    importlib.import_module(name)
own_schemas = sorted(m for m in sys.modules if m.startswith("lutea.schemas."))
before = set(sys.modules)
gateway.load_function_module(fn.code_uri, module_file)
modules = sorted(sys.modules)
collector = {"normal": normal, "after": gc.get_threshold(), "frozen": gc.get_freeze_count(), "enabled": gc.isenabled(),
             "collections_while_deferred": deferred_collections}
dataclass_names, records, models = [], [], []
for name in set(sys.modules) - before:
    if not name.startswith(("lutea.", "lutea_function_")):
        continue
    for value in list(vars(sys.modules[name]).values()):
        if not (inspect.isclass(value) and value.__module__ == name):
            continue
        if dataclasses.is_dataclass(value):
            dataclass_names.append(f"{name}.{value.__qualname__}")
        elif issubclass(value, tuple) and hasattr(value, "_fields"):
            records.append(f"{name}.{value.__qualname__}")
from pydantic import BaseModel
for name in [m for m in modules if m.startswith(("lutea.", "lutea_function_"))]:
    for value in list(vars(sys.modules[name]).values()):
        if inspect.isclass(value) and value.__module__ == name and issubclass(value, BaseModel):
            models.append(value.__qualname__)
app = getattr(sys.modules["lutea_function_" + fn.code_uri.name], "app", None)
documented_by_class = []
if app is not None:
    from lutea.http.powertools_seams import registered_routes
    documented_by_class = sorted(
        f"{route.method} {route.path}"
        for route in registered_routes(app)
        for response in (route.responses or {}).values()
        for media in (response.get("content") or {}).values()
        if "model" in media
    )
print(json.dumps({
    "modules": modules,
    "own_schemas": own_schemas,
    "dataclasses": sorted(dataclass_names),
    "records": sorted(records),
    "collector": collector,
    "models": sorted(models),
    "documented_by_class": documented_by_class,
}))
"""


def _init(function: str) -> dict[str, list[str]]:
    """Import one function's module in a fresh interpreter, as a cold start does."""
    env = {"STAGE": "test", "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", _PROBE, function], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    found: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


@pytest.fixture(scope="module")
def inits() -> dict[str, dict[str, list[str]]]:
    return {function: _init(function) for function in FUNCTIONS}


def test_the_probe_sees_every_function(inits):
    assert {"auth", "bookings", "payments", "retreats", "users"} <= set(inits)
    # the HTTP functions build Settings: the probe looks where the functions' modules are
    assert "lutea.config.Settings" in inits["auth"]["records"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_dataclass_is_built_at_init_but_the_allowed_ones(inits, function):
    assert set(inits[function]["dataclasses"]) - ALLOWED_DATACLASSES == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_only_the_wire_models_it_names(inits, function):
    found = inits[function]
    schemas = {m for m in found["modules"] if m.startswith("lutea.schemas.")}
    assert schemas == set(found["own_schemas"])


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - SENDS_ON_EVERY_REQUEST))
def test_the_email_machinery_waits_for_the_first_email(inits, function):
    assert not [m for m in inits[function]["modules"] if m.startswith(EMAIL_MACHINERY)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_types_only_modules_are_not_imported(inits, function):
    assert not [m for m in inits[function]["modules"] if m.startswith(TYPES_ONLY)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_init_ends_with_the_collector_as_usual_and_its_objects_frozen(inits, function):
    collector = inits[function]["collector"]
    assert collector["enabled"]
    assert collector["after"] == collector["normal"]
    assert collector["frozen"] > 10_000  # the modules, classes and models init built


@pytest.mark.parametrize("function", FUNCTIONS)
def test_init_builds_fewer_objects_than_one_deferred_collection(inits, function):
    """lutea.coldstart's deferral is sized so that no init collects at all: a function whose
    init outgrows it pays collections again (raise DEFERRED[0], or cut the init)."""
    assert inits[function]["collector"]["collections_while_deferred"] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_routes_name_their_documented_bodies_instead_of_importing_them(inits, function):
    assert inits[function]["documented_by_class"] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_documentation_only_model_is_built_at_init(inits, function):
    from lutea.schemas.responses import MODELS

    assert set(inits[function]["models"]) & {model.__name__ for model in MODELS} == set()
