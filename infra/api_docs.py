"""docs/api.md's tables, generated from openapi.json: one table of routes per endpoint group
and one table of fields per response shape. The conventions around them (errors, cookies,
CSRF, guest proof) are written by hand in docs/api.md; this script only replaces what lies
between its ``<!-- generated:… -->`` markers, and lists the other pages of docs/.

    python -m infra.api_docs          # rewrite docs/api.md (make docs)
    python -m infra.api_docs --check  # exit 1 when docs/api.md is stale (a test runs it)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_MD = DOCS / "api.md"
OPENAPI = ROOT / "openapi.json"

ACCESS = {
    "public": "public",
    "optional": "public, or signed in",
    "jwt": "signed in",
    "client": "signed in (client)",
    "admin": "admin (2FA)",
}


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def _type(schema: dict[str, Any]) -> str:
    """A short, readable type: ``Booking``, ``[Retreat]``, ``string | null``."""
    if "$ref" in schema:
        return f"[{_name(schema['$ref'])}](#{_name(schema['$ref']).lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(s) for s in schema["anyOf"])
    if "allOf" in schema:
        return " + ".join(_type(s) for s in schema["allOf"])
    kind = schema.get("type")
    if kind == "array":
        return f"[{_type(schema.get('items', {}))}]"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if kind == "object" and "properties" in schema:
        return "{" + ", ".join(schema["properties"]) + "}"
    return str(kind or "any")


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        schema = components.get(_name(schema["$ref"]), {})
    required = set(schema.get("required", []))
    names = [f"`{n}`" + ("" if n in required else "?") for n in schema.get("properties", {})]
    return ", ".join(names) or "—"


def _success(responses: dict[str, Any]) -> str:
    out = []
    for code, response in sorted(responses.items()):
        if not code.startswith("2"):
            continue
        content = response.get("content") or {}
        if not content:
            out.append(f"{code} (no body)")
        for media, body in content.items():
            shape = _type(body.get("schema", {})) if body.get("schema") else media
            out.append(f"{code} {shape}" if media == "application/json" else f"{code} {media}")
    return "<br>".join(out)


def route_tables(doc: dict[str, Any]) -> str:
    components = doc["components"]["schemas"]
    groups: dict[str, list[str]] = {}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            errors = ", ".join(c for c in sorted(op["responses"]) if c[0] in "45")
            notes = op.get("summary", "") + (" " + op["description"] if op.get("description") else "")
            row = (
                f"| {method.upper()} | `{path}` | {ACCESS.get(op.get('x-access', 'public'), op.get('x-access'))} "
                f"| {_fields(body, components) if body else '—'} | {_success(op['responses'])} | {errors} "
                f"| {notes.replace('|', '\\|')} |"
            )
            groups.setdefault(op["tags"][0], []).append(row)
    tags = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    parts = []
    for tag in tags:
        parts.append(
            f"### {tag}\n{tags[tag]}.\n\n| method | path | access | body (`?` optional) | success | errors | notes |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(groups.get(tag, []))
        )
    return "\n\n".join(parts)


def shape_tables(doc: dict[str, Any]) -> str:
    components = doc["components"]["schemas"]
    used = sorted(set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(doc["paths"]))) - {"Error"})
    seen: list[str] = []
    queue = list(used)
    while queue:  # the shapes the routes answer, and the shapes inside them
        name = queue.pop(0)
        if name in seen or name not in components:
            continue
        seen.append(name)
        queue += re.findall(r'"#/components/schemas/(\w+)"', json.dumps(components[name]))
    parts = []
    for name in sorted(seen):
        schema = components[name]
        required = set(schema.get("required", []))
        rows = [
            f"| `{field}` | {_type(sub)} | {'yes' if field in required else ''} | "
            f"{(sub.get('description') or '').replace('|', '\\|')} |"
            for field, sub in schema.get("properties", {}).items()
        ]
        text = " ".join((schema.get("description") or "").split())
        parts.append(f"#### {name}\n{text}\n\n| field | type | always | notes |\n|---|---|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts)


def docs_index() -> str:
    pages = sorted(p for p in DOCS.glob("*.md") if p.name != API_MD.name)
    lines = []
    for page in pages:
        first = next((line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("# ")), page.stem)
        lines.append(f"- [{first.removeprefix('# ')}]({page.name})")
    return "\n".join(lines) or "- (none yet)"


def _between_markers(content: str) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps both markers and puts ``content`` (taken literally) between them."""
    return lambda m: m.group(1) + content + "\n" + m.group(2)


def render(current: str, doc: dict[str, Any]) -> str:
    for name, content in (("index", docs_index()), ("routes", route_tables(doc)), ("shapes", shape_tables(doc))):
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- end:{name} -->)", re.S)
        if not pattern.search(current):
            raise SystemExit(f"docs/api.md lacks the <!-- generated:{name} --> … <!-- end:{name} --> markers")
        current = pattern.sub(_between_markers(content), current)
    return current


def main(argv: list[str]) -> int:
    doc = json.loads(OPENAPI.read_text(encoding="utf-8"))
    current = API_MD.read_text(encoding="utf-8")
    fresh = render(current, doc)
    if "--check" in argv:
        if fresh != current:
            sys.stderr.write("docs/api.md is stale: run `make docs` and commit it\n")
            return 1
        return 0
    API_MD.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
