"""Email templates, kept apart from code in ``templates/<name>.{subject,txt,html}``
(``string.Template`` placeholders). Values are HTML-escaped in the HTML part."""
from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=64)
def _load(name: str, ext: str) -> Template:
    return Template((_DIR / f"{name}.{ext}").read_text(encoding="utf-8"))


def render(name: str, **values: object) -> tuple[str, str, str]:
    """(subject, text, html) of template ``name``; every placeholder must be given."""
    plain = {k: "" if v is None else str(v) for k, v in values.items()}
    escaped = {k: html.escape(v, quote=True) for k, v in plain.items()}
    subject = _load(name, "subject").substitute(plain).strip()
    return subject, _load(name, "txt").substitute(plain), _load(name, "html").substitute(escaped)
