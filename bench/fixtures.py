"""Data the benches need, made with the project's own pieces: retreats through
``lutea.domain.retreats.create_retreat`` (the body shape of infra/local/seed.py), signed-in
users through tests/support/accounts.py, proxy events through infra/local/gateway.py.
Import only after :func:`bench.common.use_bench_env` (or in a child started with its env)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bench.common import BOOKING_DATE, BOOKING_END, ORIGIN

_TEXT = (
    "Une semaine de yoga doux et de méditation en Occitanie, entre garrigue et mer : "
    "accueil, repas végétariens, deux séances par jour et temps libre."
)


def retreat_body(i: int, *, places: int = 12, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """A valid ``RetreatCreate`` body (two date blocks unless ``start`` is given)."""
    from lutea.clock import now

    title = f"Retraite Yoga & Méditation n°{i}"
    block = {
        "heureArrivee": "14h00",
        "heureDepart": "16h00",
        "prix": 320.5,
        "places": places,
        "adresseRdv": "40 impasse Antoine de Saporta, 34790 Grabels",
    }
    if start is not None:
        dates = [{**block, "start": start, "end": end}]
    else:
        first = (now() + timedelta(days=30 + i % 300)).replace(hour=14, minute=0, second=0, microsecond=0)
        later = first + timedelta(days=30)
        dates = [{**block, "start": d.isoformat(), "end": (d + timedelta(days=2)).isoformat()} for d in (first, later)]
    return {
        "titreCard": title,
        "imageCard": "/images/yoga.jpg",
        "altImageCard": title,
        "imageModal": ["/images/yoga.jpg"],
        "altImageModal": [title],
        "texteModal": _TEXT,
        "dates": dates,
    }


def create_retreat(body: dict[str, Any]) -> Mapping[str, Any]:
    from lutea.domain.retreats import create_retreat as create
    from lutea.schemas.retreats import RetreatCreate
    from lutea.validation import parse

    from infra.local.gateway import ROOT, load_function_module

    handler = load_function_module(ROOT / "functions" / "retreats")  # its conversion of a body
    return create(handler.retreat_draft(parse(RetreatCreate, body)))


def seed_retreats(count: int, start_index: int = 0) -> None:
    for i in range(start_index, start_index + count):
        create_retreat(retreat_body(i))


def booking_retreat(places: int) -> str:
    """A retreat with one date block at ``BOOKING_DATE`` holding ``places`` seats; its id."""
    return str(create_retreat(retreat_body(9999, places=places, start=BOOKING_DATE, end=BOOKING_END))["_id"])


class _Jar:
    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.bearer: str | None = None


def session_cookie(role: str = "client") -> str:
    """A ``Cookie`` header of a signed-in user (tests/support/accounts.py)."""
    from tests.support.accounts import make_user, sign_in

    jar = sign_in(_Jar(), make_user(role))
    return "; ".join(f"{k}={v}" for k, v in jar.cookies.items())


def proxy_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    cookie: str | None = None,
    table: list | None = None,
) -> dict[str, Any]:
    """The REST proxy event API Gateway would send for this request (resource and path
    parameters from template.yaml's route table)."""
    from infra.local import gateway

    table = table if table is not None else gateway.routes()
    route, params, _ = gateway.match(table, method, path)
    if route is None:
        raise LookupError(f"no route in template.yaml for {method} {path}")
    hdrs = {"Origin": ORIGIN, "User-Agent": "lutea-bench"}
    raw: str | None = None
    if body is not None:
        raw = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    if cookie:
        hdrs["Cookie"] = cookie
    hdrs.update(headers or {})
    return gateway.build_event(method, path, resource=route.path, path_parameters=params, headers=hdrs, body=raw)


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2030-01-01T00:00:00Z",
        "region": "eu-west-3",
        "resources": ["arn:aws:events:eu-west-3:123456789012:rule/bench"],
        "detail": {},
    }
