"""Email templates, kept apart from code in ``templates/<name>.{subject,txt,html}``
(``string.Template`` placeholders). Values are HTML-escaped in the HTML part, except those
wrapped in ``Markup`` (HTML built here from already-escaped text, e.g. line breaks)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent / "templates"
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029\x85]+")


class Markup(str):
    """A value that is already safe HTML: inserted in the HTML part as is."""


def multiline_html(text: str) -> Markup:
    """Escaped text whose line breaks become ``<br>`` (the original's ``replace(/\\n/g, '<br>')``)."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup("<br>".join(html.escape(line, quote=True) for line in lines))


@lru_cache(maxsize=64)
def _load(name: str, ext: str) -> Template:
    return Template((_DIR / f"{name}.{ext}").read_text(encoding="utf-8"))


def _one_line(value: str) -> str:
    # A header can't carry line breaks (header injection; the email library would refuse it).
    return _LINE_BREAKS.sub(" ", value).strip()


def render(name: str, **values: object) -> tuple[str, str, str]:
    """(subject, text, html) of template ``name``; every placeholder must be given, except
    ``companyContact`` (the signature: the configured contact address and phone)."""
    if "companyContact" not in values:
        from lutea.config import get_settings

        s = get_settings()
        values = {**values, "companyContact": " | ".join(v for v in (s.company_email, s.company_phone) if v)}
    plain = {k: "" if v is None else str(v) for k, v in values.items()}
    escaped = {k: str(v) if isinstance(v, Markup) else html.escape(plain[k], quote=True) for k, v in values.items()}
    subject = _one_line(_load(name, "subject").substitute({k: _one_line(v) for k, v in plain.items()}))
    return subject, _load(name, "txt").substitute(plain), _load(name, "html").substitute(escaped)


def kinds() -> list[str]:
    """Every template name (each has a subject, a text and an HTML part)."""
    return sorted(p.stem for p in _DIR.glob("*.subject"))
