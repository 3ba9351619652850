"""docs/api.md, the frontend's reference, is current with openapi.json and docs/ (regenerate
with `make docs`), and the repository sends readers to it, never outside itself."""

from __future__ import annotations

import json
from pathlib import Path

from infra import api_docs

ROOT = Path(__file__).resolve().parents[3]


def test_api_reference_is_current():
    current = api_docs.API_MD.read_text(encoding="utf-8")
    doc = json.loads(api_docs.OPENAPI.read_text(encoding="utf-8"))
    assert api_docs.render(current, doc) == current, "docs/api.md is stale: run `make docs` and commit it"


def test_api_reference_lists_every_route_and_every_page_of_docs():
    text = api_docs.API_MD.read_text(encoding="utf-8")
    doc = json.loads(api_docs.OPENAPI.read_text(encoding="utf-8"))
    for path, operations in doc["paths"].items():
        for method in operations:
            assert f"| {method.upper()} | `{path}` |" in text, f"{method.upper()} {path}"
    for page in (ROOT / "docs").glob("*.md"):
        if page.name != "api.md":
            assert f"]({page.name})" in text, page.name


def test_readme_points_to_the_reference_inside_the_repository():
    for name in ("README.md", "SECURITY.md", "docs/api.md"):
        assert "../shared" not in (ROOT / name).read_text(encoding="utf-8"), name
    assert "(docs/api.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
