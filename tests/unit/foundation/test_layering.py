"""The structure drawn from the imports of the shared layer (every import, including those
inside functions): dependencies point down and nothing loops back. Handler -> domain ->
repositories / adapters -> database or provider."""

from __future__ import annotations

import ast
from pathlib import Path

LAYER = Path(__file__).resolve().parents[3] / "layers" / "shared"

# Below the domain: they must never import it (nor the HTTP layer or the request schemas).
ADAPTERS = ("lutea.data", "lutea.payments")
ABOVE_ADAPTERS = ("lutea.domain", "lutea.http", "lutea.schemas")
# The domain is plain Python: no resolver, no API Gateway event, no database driver.
DOMAIN_MUST_NOT_IMPORT = ("lutea.http", "aws_lambda_powertools.event_handler", "pymongo")
# Any loop fails.
KNOWN_CYCLES: list[set[str]] = []


def _modules() -> dict[str, Path]:
    found = {}
    for path in (LAYER / "lutea").rglob("*.py"):
        name = ".".join(path.relative_to(LAYER).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in modules)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        # A package's own __init__ is not a dependency of its modules (Python runs it first anyway).
        graph[name] = {m for m in _imports(path, modules) if not (name.startswith(m + ".") and m in modules)}
    return graph


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_adapters_and_repositories_never_import_the_domain_or_above():
    arrows = [
        f"{a} -> {b}" for a, targets in _graph().items() if _under(a, ADAPTERS) for b in targets if _under(b, ABOVE_ADAPTERS)
    ]
    assert not arrows, "\n".join(arrows)


def test_the_domain_imports_no_resolver_event_or_driver():
    arrows = [
        f"{a} -> {b}"
        for a, targets in _graph().items()
        if _under(a, ("lutea.domain",))
        for b in targets
        if _under(b, DOMAIN_MUST_NOT_IMPORT)
    ]
    assert not arrows, "\n".join(arrows)


def _package(module: str) -> str:
    """``lutea.data.users`` -> ``lutea.data``; a top-level module (``lutea.money``) is its own."""
    return ".".join(module.split(".")[:2])


def test_only_the_domain_and_what_calls_it_import_the_domain():
    """Below the domain sit the wire's models, the adapters (data, payments, email, PDF) and the
    pure helpers (money, refund_policy, ical...): none of them may reach back up into it."""
    arrows = [
        f"{a} -> {b}"
        for a, targets in _graph().items()
        if not _under(a, ("lutea.domain", "lutea.http"))
        for b in targets
        if _under(b, ("lutea.domain",))
    ]
    assert not arrows, "\n".join(arrows)


def test_no_cycle_between_the_layers_packages():
    """Drawn package by package (a folder as one box), every arrow points one way: a module of
    ``lutea.email`` importing ``lutea.data`` while another of ``lutea.data`` imports
    ``lutea.email`` is a loop in the picture even when no two modules import each other."""
    graph: dict[str, set[str]] = {}
    for a, targets in _graph().items():
        graph.setdefault(_package(a), set()).update(_package(b) for b in targets if b.startswith("lutea."))
    for package, targets in graph.items():
        targets.discard(package)
    assert not _cycles(graph), _cycles(graph)


def test_no_import_cycle_not_even_behind_a_lazy_import():
    graph = {a: {b for b in targets if b in _modules()} for a, targets in _graph().items()}
    unexpected = [sorted(c) for c in _cycles(graph) if c not in KNOWN_CYCLES]
    assert not unexpected, unexpected


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def _operator_keys(path: Path) -> list[str]:
    """``line: key`` of every dict in ``path`` with a MongoDB operator (a string key starting with
    ``$``) as a key: a literal, nested or not, or a key assigned (``query["$or"] = ...``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        keys: list[ast.expr | None] = []
        if isinstance(node, ast.Dict):
            keys = list(node.keys)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            keys = [node.slice]
        for key in keys:
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("$"):
                found.append(f"{node.lineno}: {key.value}")
            elif (
                isinstance(key, ast.JoinedStr)
                and key.values
                and isinstance(key.values[0], ast.Constant)
                and str(key.values[0].value).startswith("$")
            ):
                found.append(f"{node.lineno}: f-string {key.values[0].value}...")
    return sorted(found, key=lambda where: int(where.split(":")[0]))


def test_the_domain_builds_no_query_document():
    """Repositories own every query: the domain states its rules in Python and calls an
    intention-revealing method (``BookingRepository.overdue_hold_ids(cutoff)``), never builds a
    MongoDB filter or update with operators for a repository to apply as it is."""
    offences = [
        f"{name} line {where}"
        for name, path in sorted(_modules().items())
        if _under(name, ("lutea.domain",))
        for where in _operator_keys(path)
    ]
    assert not offences, "\n".join(offences)


def test_the_operator_check_sees_the_ways_a_filter_is_written(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = {"expiresAt": {"$lte": 1}}\nb = dict(x=1)\nc = {}\nc["$or"] = []\nd = {f"$in{1}": 2}\ne = {"x": "$not a key"}\n',
        encoding="utf-8",
    )
    assert [line.split(":")[0] for line in _operator_keys(sample)] == ["1", "4", "5"]


def _request_shapes(tree: ast.Module) -> set[str]:
    """Names a module takes from lutea.schemas, and the Protocols it declares."""
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and _under(node.module, ("lutea.schemas",))
        for alias in node.names
    }
    names |= {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases)
    }
    return names


def test_the_domain_takes_its_own_inputs_not_request_models():
    """A use case takes plain values or an immutable record of the domain; the handler builds it
    from its validated pydantic model."""
    found = set()
    for name, path in _modules().items():
        if not _under(name, ("lutea.domain",)):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        shapes = _request_shapes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]
            annotations = [a.annotation for a in args if a is not None and a.annotation is not None]
            if any(isinstance(n, ast.Name) and n.id in shapes for ann in annotations for n in ast.walk(ann)):
                found.add(f"{name}.{node.name}")
    assert not found, sorted(found)  # no exception left (lutea/domain/README.md, Inputs)
