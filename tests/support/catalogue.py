"""Retreats stored the way the retreats module stores them (with their seat counters), and a
booking request body as the frontend sends it, for the suites that book seats (bookings,
payments, security)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bson import ObjectId

# The frozen_clock fixture's instant (tests/conftest.py): the tests that freeze the clock live
# on that day, whatever the machine's date.
FROZEN_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# How far ahead of the machine's date the first block starts, at least: the tests that book on
# the machine's clock (and the local server's) find it bookable, with every refund tier ahead.
LEAD = timedelta(days=90)


def first_start(today: date) -> datetime:
    """12 March, 09:00 UTC (10:00 in Paris: winter time, every year), of the first year from
    2027 on in which it is at least ``LEAD`` after ``today``. Only the year moves with the
    machine's date: the blocks' days, hours and the spans between them stay the same."""
    year = 2027
    while datetime(year, 3, 12, 9, 0, tzinfo=UTC) < datetime.combine(today, time(), UTC) + LEAD:
        year += 1
    return datetime(year, 3, 12, 9, 0, tzinfo=UTC)


START = first_start(datetime.now(UTC).date())
PRICE_CENTS = 12_000


def insert_retreat(
    *,
    places: int = 10,
    prix_cents: int = PRICE_CENTS,
    title: str = "Retraite Équinoxe",
    start: datetime = START,
    extra_blocks: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """A retreat with ``1 + extra_blocks`` date blocks (30 days apart, each 10 € dearer than the
    one before) and a seat counter per block; ``fields`` override the stored retreat's fields."""
    from lutea.clock import now
    from lutea.data.mongo import get_db
    from lutea.data.seats import SeatRepository

    blocks = []
    for i in range(1 + extra_blocks):
        begin = start + timedelta(days=30 * i)
        blocks.append(
            {
                "_id": ObjectId(),
                "start": begin,
                "end": begin + timedelta(days=2),
                "heureArrivee": "10h00",
                "heureDepart": "17h00",
                "prixCents": prix_cents + 1000 * i,
                "places": places,
                "adresseRdv": "12 chemin des Oliviers, Lodève",
            }
        )
    stamp = now()
    doc = {
        "_id": ObjectId(),
        "titreCard": title,
        "imageCard": "/img/a.jpg",
        "altImageCard": "a",
        "imageModal": ["/img/b.jpg"],
        "altImageModal": ["b"],
        "texteModal": "Texte",
        "dates": blocks,
        "aVenir": False,
        "isActive": True,
        "createdAt": stamp,
        "updatedAt": stamp,
        **fields,
    }
    get_db()["retreats"].insert_one(doc)
    for block in blocks:
        SeatRepository().ensure(retreat_id=doc["_id"], date_id=block["_id"], places=block["places"])
    return doc


def booking_body(retreat: dict[str, Any], nb: int = 2, *, block: int = 0, **overrides: Any) -> dict[str, Any]:
    """``POST /bookings`` for ``nb`` seats of the retreat's date block number ``block``;
    ``overrides`` replace (or add) top-level fields."""
    date = retreat["dates"][block]
    body = {
        "retreatId": str(retreat["_id"]),
        "dateStart": date["start"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "dateEnd": date["end"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "nbPlaces": nb,
        "participants": [{"prenom": f"Zoé{i}", "nom": "Lefèvre", "email": f"zoe{i}@example.test"} for i in range(nb)],
        "billingAddress": {
            "address": "3 rue Émile Zola",
            "city": "Nîmes",
            "postalCode": "30000",
            "country": "France",
            "phone": "0611223344",
        },
    }
    body.update(overrides)
    return body


def booking_request(retreat: dict[str, Any], nb: int = 2, *, block: int = 0, notes: str | None = None) -> Any:
    """What the bookings handler hands the domain for ``booking_body(retreat, nb, block=block)``
    (lutea.domain.bookings.BookingRequest): for the suites that call the domain directly."""
    from lutea.domain.bookings import BookingRequest, Participant, Party

    body = booking_body(retreat, nb, block=block)
    return BookingRequest(
        retreat_id=body["retreatId"],
        date_start=retreat["dates"][block]["start"],
        seats=nb,
        party=Party(
            participants=tuple(Participant(p["prenom"], p["nom"], p["email"]) for p in body["participants"]),
            billing_address=body["billingAddress"],
            notes=notes,
        ),
    )


def _retreats_handler() -> Any:
    from infra.local.gateway import ROOT, load_function_module

    return load_function_module(ROOT / "functions" / "retreats")


def retreat_draft(body: dict[str, Any]) -> Any:
    """What the retreats handler hands the domain for a ``POST /retreats/admin`` body
    (lutea.domain.retreats.RetreatDraft, built by the handler's own conversion)."""
    from lutea.schemas.retreats import RetreatCreate

    return _retreats_handler().retreat_draft(RetreatCreate.model_validate(body))


def retreat_changes(body: dict[str, Any]) -> Any:
    """What the retreats handler hands the domain for a ``PATCH /retreats/admin/:id`` body
    (lutea.domain.retreats.RetreatChanges)."""
    from lutea.schemas.retreats import RetreatUpdate

    return _retreats_handler().retreat_changes(RetreatUpdate.model_validate(body))
