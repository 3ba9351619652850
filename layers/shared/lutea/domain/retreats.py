"""Retreats: the catalogue, its date blocks and their seat counters.

Every date block has a seat counter (lutea.data.seats). The rules that keep both in step:
a block's capacity never goes below the seats it holds, a block holding seats is never removed,
a retreat holding seats is never deleted. Counter changes come first (each one is atomic and
refuses to break its rule), the retreat document follows; a refusal undoes what was done.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.retreats import RetreatFilter, RetreatRepository
from lutea.data.seats import SeatRepository
from lutea.errors import Conflict, InvalidInput, NotFound
from lutea.listing import PageRequest, Period
from lutea.observability import logger
from lutea.wire import cents_to_euros, iso, parse_instant, to_wire

if TYPE_CHECKING:
    from lutea.data.documents import DateBlockDoc, RetreatDoc

NOT_FOUND = "Retraite non trouvée"
DELETE_HELD = "Impossible de supprimer une retraite qui a des réservations en cours ou confirmées"
CHANGED_MEANWHILE = "La retraite a été modifiée entre-temps, veuillez réessayer"
PARIS = ZoneInfo("Europe/Paris")


# --- Inputs -------------------------------------------------------------------------------
# What the writing use cases take (lutea/domain/README.md, Inputs): the handler validates the
# body with lutea.schemas.retreats and builds these from it.


class DateBlockInput(NamedTuple):
    """One date block as sent. ``block_id``: the id it was sent with, if any (a PATCH keeps the
    block of the retreat that has it; any other block gets a new id)."""

    start: datetime
    end: datetime
    price: Decimal  # euros, at most 2 decimals
    places: int
    meeting_point: str
    arrival_time: str | None = None
    departure_time: str | None = None
    block_id: str | None = None


RefundTiers = tuple[tuple[int, int], ...]  # (days before the start, refunded percentage)


class RetreatDraft(NamedTuple):
    """A new retreat. ``refund_tiers``: its cancellation policy; ``None``: the global default."""

    title: str
    card_image: str
    card_image_alt: str
    modal_images: tuple[str, ...]
    modal_image_alts: tuple[str, ...]
    text: str
    pdf_label: str | None = None
    pdf_url: str | None = None
    included: str | None = None  # what the price includes; empty or None: nothing printed
    refund_tiers: RefundTiers | None = None
    dates: tuple[DateBlockInput, ...] = ()
    coming_soon: bool = False
    active: bool = True


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""A field of :class:`RetreatChanges` the PATCH did not send: left as stored."""
Keep = Literal[_Keep.KEEP]


class RetreatChanges(NamedTuple):
    """A PATCH: only the fields sent, the others at ``KEEP``. The nullable ones take ``None``
    to be removed (``refund_tiers``: back to the global default); ``dates`` replaces the block list."""

    title: str | Keep = KEEP
    card_image: str | Keep = KEEP
    card_image_alt: str | Keep = KEEP
    modal_images: tuple[str, ...] | Keep = KEEP
    modal_image_alts: tuple[str, ...] | Keep = KEEP
    text: str | Keep = KEEP
    pdf_label: str | Keep | None = KEEP
    pdf_url: str | Keep | None = KEEP
    included: str | Keep | None = KEEP
    refund_tiers: RefundTiers | Keep | None = KEEP
    dates: tuple[DateBlockInput, ...] | Keep = KEEP
    coming_soon: bool | Keep = KEEP
    active: bool | Keep = KEEP


# The stored key of each field of a RetreatChanges but ``dates`` (in the order of RetreatDraft).
_STORED_KEYS = {
    "title": "titreCard",
    "card_image": "imageCard",
    "card_image_alt": "altImageCard",
    "modal_images": "imageModal",
    "modal_image_alts": "altImageModal",
    "text": "texteModal",
    "pdf_label": "boutonPdfLabel",
    "pdf_url": "pdfUrl",
    "included": "prestationsIncluses",
    "refund_tiers": "politiqueAnnulation",
    "coming_soon": "aVenir",
    "active": "isActive",
}
_REMOVABLE = frozenset({"pdf_label", "pdf_url", "included", "refund_tiers"})


def _policy_doc(tiers: RefundTiers) -> dict[str, Any]:
    """``politiqueAnnulation`` as stored: ``{paliers: [{joursAvant, pourcentage}]}``."""
    return {"paliers": [{"joursAvant": days, "pourcentage": percent} for days, percent in tiers]}


# --- Wire ---------------------------------------------------------------------------------


def date_block_to_wire(block: Mapping[str, Any]) -> dict[str, Any]:
    """A date block as the frontend knows it: ``prix`` in euros, never ``prixCents``."""
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key == "prixCents":
            out["prix"] = cents_to_euros(int(value))
        elif key == "prix" and "prixCents" in block:
            continue
        elif isinstance(value, ObjectId):
            out[key] = str(value)
        elif isinstance(value, datetime):
            out[key] = iso(value)
        else:
            out[key] = to_wire(value)
    return out


def retreat_to_wire(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stored retreat as JSON, in one pass (legacy top-level ``prix`` is euros, as stored)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "dates" and isinstance(value, list):
            out[key] = [date_block_to_wire(b) for b in value]
        elif isinstance(value, ObjectId):
            out[key] = str(value)
        elif isinstance(value, datetime):
            out[key] = iso(value)
        elif isinstance(value, str | bool | int | float) or value is None:
            out[key] = value
        else:
            out[key] = to_wire(value)
    return out


# --- Date blocks --------------------------------------------------------------------------


def find_date_block(retreat: RetreatDoc, start: datetime) -> DateBlockDoc | None:
    """The block of ``retreat`` whose ``start`` is the same instant as ``start``."""
    wanted = as_utc(start)
    for block in retreat.get("dates") or []:
        value = block.get("start")
        if isinstance(value, datetime) and as_utc(value) == wanted:
            return block
    return None


def _paris_day(value: datetime) -> str:
    return as_utc(value).astimezone(PARIS).strftime("%d/%m/%Y")


def _block_doc(block: DateBlockInput, block_id: ObjectId) -> DateBlockDoc:
    doc: DateBlockDoc = {"_id": block_id, "start": block.start, "end": block.end}
    if block.arrival_time is not None:
        doc["heureArrivee"] = block.arrival_time
    if block.departure_time is not None:
        doc["heureDepart"] = block.departure_time
    doc["prixCents"] = int(Decimal(block.price) * 100)  # exact: at most 2 decimals (schema)
    doc["places"] = block.places
    doc["adresseRdv"] = block.meeting_point
    return doc


def _load(retreats: RetreatRepository, retreat_id: ObjectId) -> RetreatDoc:
    doc = retreats.get(retreat_id)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


# --- Reading ------------------------------------------------------------------------------


class _Catalogue:
    """The public catalogue in wire form, kept per container and rebuilt only when the set of
    visible retreats or one of their ``updatedAt`` changes (every write of a retreat sets it).
    Serialising 2,000 retreats on every request was most of the route's cost."""

    def __init__(self) -> None:
        self.key: tuple[tuple[ObjectId, Any], ...] | None = None
        self.retreats: list[dict[str, Any]] = []
        self.lock = threading.Lock()


_catalogue = _Catalogue()


def public_catalogue(*, retreats: RetreatRepository | None = None) -> list[dict[str, Any]]:
    """``GET /retreats/public`` in wire form: one light query per call, the full documents read
    and converted again only when the catalogue changed."""
    repo = retreats or RetreatRepository()
    key = tuple(repo.public_versions(now()))
    with _catalogue.lock:
        if key == _catalogue.key:
            return _catalogue.retreats
    docs = repo.list_public(now())
    fresh = [retreat_to_wire(doc) for doc in docs]
    with _catalogue.lock:
        _catalogue.key = tuple((doc["_id"], doc.get("updatedAt")) for doc in docs)
        _catalogue.retreats = fresh
    return fresh


def get_public(retreat_id: ObjectId, *, retreats: RetreatRepository | None = None) -> RetreatDoc:
    """Fix: a hidden (inactive) retreat is not found for the public."""
    doc = _load(retreats or RetreatRepository(), retreat_id)
    if doc.get("isActive", True) is False:
        raise NotFound(NOT_FOUND)
    return doc


def list_all(*, retreats: RetreatRepository | None = None) -> list[RetreatDoc]:
    return (retreats or RetreatRepository()).list_all()


def admin_list(
    *,
    is_active: bool | None = None,
    period: Period | None = None,
    page: PageRequest | None = None,
    retreats: RetreatRepository | None = None,
) -> tuple[list[RetreatDoc], int]:
    """Every retreat, newest first, optionally only the active (or hidden) ones and those with a
    date block starting in ``period``; with ``page``, that page and the total matching."""
    repo = retreats or RetreatRepository()
    period = period or Period()
    where = RetreatFilter(is_active=is_active, start_from=period.start, start_before=period.end)
    if page is None:
        found = repo.list_filtered(where)
        return found, len(found)
    return repo.list_filtered(where, skip=page.skip, limit=page.limit), repo.count_filtered(where)


def get_retreat(retreat_id: ObjectId, *, retreats: RetreatRepository | None = None) -> RetreatDoc:
    return _load(retreats or RetreatRepository(), retreat_id)


def search(
    *,
    title: str | None = None,
    is_active: bool | None = None,
    min_cents: int | None = None,
    max_cents: int | None = None,
    retreats: RetreatRepository | None = None,
) -> list[RetreatDoc]:
    """Admin search: ``title`` a substring of the title (case-insensitive), ``is_active`` the
    visibility, every date block's price within ``min_cents`` .. ``max_cents``; ``None``: any."""
    return (retreats or RetreatRepository()).search(title=title, is_active=is_active, min_cents=min_cents, max_cents=max_cents)


def reserved_places(
    retreat_id: ObjectId, date: str | None, *, retreats: RetreatRepository | None = None, seats: SeatRepository | None = None
) -> int:
    """Seats held (PENDING + CONFIRMED bookings) on the block starting at ``date``, or over all
    the retreat's blocks without ``date``. A date that starts no block holds nothing."""
    doc = _load(retreats or RetreatRepository(), retreat_id)
    seats = seats or SeatRepository()
    if date is not None and date.strip():
        try:
            instant = parse_instant(date)
        except ValueError as exc:
            raise InvalidInput("Date invalide") from exc
        block = find_date_block(doc, instant)
        return seats.held(block["_id"]) if block else 0
    held = seats.held_by_date(retreat_id)
    return sum(held.get(block_id, 0) for block in doc.get("dates") or [] if (block_id := block.get("_id")) is not None)


# --- Writing ------------------------------------------------------------------------------


def create_retreat(
    data: RetreatDraft, *, retreats: RetreatRepository | None = None, seats: SeatRepository | None = None
) -> RetreatDoc:
    """A new retreat; every date block gets a new id and its seat counter (counters first:
    a retreat is never visible with a block that cannot be booked)."""
    retreats, seats = retreats or RetreatRepository(), seats or SeatRepository()
    retreat_id, stamp = ObjectId(), now()
    blocks = [_block_doc(b, ObjectId()) for b in data.dates]
    for block in blocks:
        seats.ensure(retreat_id=retreat_id, date_id=block["_id"], places=block["places"])
    doc: RetreatDoc = {
        "_id": retreat_id,
        "titreCard": data.title,
        "imageCard": data.card_image,
        "altImageCard": data.card_image_alt,
        "imageModal": list(data.modal_images),
        "altImageModal": list(data.modal_image_alts),
        "texteModal": data.text,
    }
    if data.pdf_label is not None:
        doc["boutonPdfLabel"] = data.pdf_label
    if data.pdf_url is not None:
        doc["pdfUrl"] = data.pdf_url
    if data.refund_tiers is not None:
        doc["politiqueAnnulation"] = _policy_doc(data.refund_tiers)
    if data.included:
        doc["prestationsIncluses"] = data.included
    doc.update({"dates": blocks, "aVenir": data.coming_soon, "isActive": data.active, "createdAt": stamp, "updatedAt": stamp})
    return retreats.insert(doc)


class _SeatChanges:
    """Counter changes made for one update, so that a refusal can undo them."""

    def __init__(self, seats: SeatRepository, retreat_id: ObjectId) -> None:
        self.seats = seats
        self.retreat_id = retreat_id
        self.removed: list[tuple[ObjectId, int]] = []  # (date id, places)
        self.resized: list[tuple[ObjectId, int, int]] = []  # (date id, old places, new places)
        self.created: list[ObjectId] = []

    def undo(self) -> None:
        for date_id, places in self.removed:
            self.seats.ensure(retreat_id=self.retreat_id, date_id=date_id, places=places)
        for date_id, places, new_places in self.resized:
            # Only our own change is undone: if another admin changed it since, theirs stands.
            if not self.seats.set_places(date_id, places, expected=new_places):
                logger.error("seat counter not restored", extra={"dateId": str(date_id)})
        for date_id in self.created:
            self.seats.delete_unheld(date_id)


def _plan_blocks(
    current: list[DateBlockDoc], sent: tuple[DateBlockInput, ...]
) -> tuple[list[DateBlockDoc], list[DateBlockDoc], list[DateBlockDoc]]:
    """(new block list, blocks removed, blocks created). A block keeps its id when it was sent
    with the id of one of the retreat's blocks; any other block is new."""
    by_id = {b["_id"]: b for b in current if "_id" in b}
    blocks: list[DateBlockDoc] = []
    created: list[DateBlockDoc] = []
    kept: set[ObjectId] = set()
    for item in sent:
        block_id = ObjectId(item.block_id) if item.block_id else None
        if block_id is None or block_id not in by_id:
            block = _block_doc(item, ObjectId())
            created.append(block)
        else:
            block = _block_doc(item, block_id)
            kept.add(block_id)
        blocks.append(block)
    removed = [b for b in current if b.get("_id") not in kept]
    return blocks, removed, created


def _apply_seat_changes(
    retreat_id: ObjectId,
    current: list[DateBlockDoc],
    blocks: list[DateBlockDoc],
    removed: list[DateBlockDoc],
    created: list[DateBlockDoc],
    seats: SeatRepository,
) -> _SeatChanges:
    held = seats.held_by_date(retreat_id)
    counted = {date_id: int(c["places"]) for date_id in held if (c := seats.get(date_id)) is not None}
    old_places = {b["_id"]: b.get("places") for b in current if "_id" in b}
    created_ids = {b["_id"] for b in created}
    # Check everything first, so that a refusal usually writes nothing at all.
    for block in removed:
        if held.get(block["_id"], 0) > 0:
            raise Conflict(_removal_refused(block, held[block["_id"]]))
    for block in blocks:
        if block["_id"] not in created_ids and held.get(block["_id"], 0) > block["places"]:
            raise Conflict(_resize_refused(block, held[block["_id"]]))
    # Then the atomic counter changes; each refuses on its own if a booking came in meanwhile.
    changes = _SeatChanges(seats, retreat_id)
    try:
        for block in removed:
            date_id = block.get("_id")
            if date_id is None or date_id not in held:
                continue  # a block without counter (older data) holds nothing
            if not seats.delete_unheld(date_id, expected_places=counted.get(date_id)):
                raise Conflict(_removal_refused(block, seats.held(date_id)))
            changes.removed.append((date_id, int(old_places.get(date_id) or block.get("places") or 1)))
        for block in blocks:
            date_id = block["_id"]
            if date_id in created_ids:
                continue
            seats.ensure(retreat_id=retreat_id, date_id=date_id, places=block["places"])
            previous = old_places.get(date_id)
            expected = counted.get(date_id, block["places"] if date_id not in held else previous)
            if expected != block["places"]:
                # Conditional on the counter's capacity as read: two admins editing at once
                # cannot both move it (the loser gets 409 and undoes only its own changes).
                if expected is None or not seats.set_places(date_id, block["places"], expected=int(expected)):
                    counter = seats.get(date_id)
                    if counter is not None and int(counter["held"]) > block["places"]:
                        raise Conflict(_resize_refused(block, int(counter["held"])))
                    raise Conflict(CHANGED_MEANWHILE)
                changes.resized.append((date_id, int(expected), block["places"]))
        for block in created:
            seats.ensure(retreat_id=retreat_id, date_id=block["_id"], places=block["places"])
            changes.created.append(block["_id"])
    except Exception:
        changes.undo()
        raise
    return changes


def _resize_refused(block: DateBlockDoc, held: int) -> str:
    return (
        f"Impossible de fixer {block['places']} place(s) pour la date du {_paris_day(block['start'])} : "
        f"{held} place(s) déjà réservée(s)"
    )


def _removal_refused(block: DateBlockDoc, held: int) -> str:
    start = block.get("start")
    day = _paris_day(start) if isinstance(start, datetime) else "?"
    return f"Impossible de supprimer la date du {day} : {held} place(s) déjà réservée(s)"


def update_retreat(
    retreat_id: ObjectId, data: RetreatChanges, *, retreats: RetreatRepository | None = None, seats: SeatRepository | None = None
) -> RetreatDoc:
    """PATCH: the fields sent (not ``KEEP``) replace the stored ones (``None`` removes
    ``boutonPdfLabel``, ``pdfUrl``, ``prestationsIncluses`` or ``politiqueAnnulation``); ``dates``
    replaces the block list, under the seat rules above."""
    retreats, seats = retreats or RetreatRepository(), seats or SeatRepository()
    doc = _load(retreats, retreat_id)
    set_fields: dict[str, Any] = {}
    unset_fields: list[str] = []
    for name, key in _STORED_KEYS.items():
        value = getattr(data, name)
        if value is KEEP:
            continue
        # None removes an optional field; so does an empty prestationsIncluses (nothing to print)
        if name in _REMOVABLE and (value is None or (value == "" and name == "included")):
            unset_fields.append(key)
        elif name == "refund_tiers":
            set_fields[key] = _policy_doc(value)
        else:
            set_fields[key] = list(value) if isinstance(value, tuple) else value
    set_fields["updatedAt"] = now()
    if data.dates is KEEP:
        updated = retreats.update_fields(retreat_id, set_fields, unset_fields)
        if updated is None:
            raise NotFound(NOT_FOUND)
        return updated

    current = list(doc.get("dates") or [])
    blocks, removed, created = _plan_blocks(current, data.dates)
    seat_changes = _apply_seat_changes(retreat_id, current, blocks, removed, created, seats)
    set_fields["dates"] = blocks
    # Conditional on the version read: the counters were adjusted against that block list.
    updated = retreats.update_fields(retreat_id, set_fields, unset_fields, expected_updated_at=doc.get("updatedAt"))
    if updated is None:
        seat_changes.undo()
        if retreats.get(retreat_id) is None:
            raise NotFound(NOT_FOUND)
        raise Conflict(CHANGED_MEANWHILE)
    _offer_added_places(current, blocks)
    return updated


def _offer_added_places(current: list[DateBlockDoc], blocks: list[DateBlockDoc]) -> None:
    """Blocks whose places the admin raised: their waiting lists are offered the new seats
    (never failing the update: the waiting-list job makes any offer missed here)."""
    from lutea.domain.waiting_list import offer_freed_seats

    before = {b.get("_id"): int(b.get("places") or 0) for b in current}
    for block in blocks:
        if block["_id"] in before and int(block["places"]) > before[block["_id"]]:
            try:
                offer_freed_seats(block["_id"])
            except Exception:  # noqa: BLE001 - logged; the scheduled job catches up
                logger.exception("waiting list offer failed", extra={"dateId": str(block["_id"])})


def toggle_active(retreat_id: ObjectId, *, retreats: RetreatRepository | None = None) -> RetreatDoc:
    retreats = retreats or RetreatRepository()
    for _ in range(5):
        doc = _load(retreats, retreat_id)
        was_active = doc.get("isActive", True) is not False
        updated = retreats.set_active(retreat_id, was_active=was_active, active=not was_active, updated_at=now())
        if updated is not None:
            return updated
    raise Conflict(CHANGED_MEANWHILE)


def delete_retreat(
    retreat_id: ObjectId, *, retreats: RetreatRepository | None = None, seats: SeatRepository | None = None
) -> None:
    """Fix: refused while any block holds seats (PENDING or CONFIRMED bookings). Counters go
    first, each only if it holds nothing, so no booking can slip in before the retreat goes."""
    retreats, seats = retreats or RetreatRepository(), seats or SeatRepository()
    doc = _load(retreats, retreat_id)
    held = seats.held_by_date(retreat_id)
    if any(count > 0 for count in held.values()):
        raise Conflict(DELETE_HELD)
    places = {b.get("_id"): b.get("places") or 1 for b in doc.get("dates") or []}
    deleted: list[ObjectId] = []
    for date_id in held:
        if not seats.delete_unheld(date_id):
            for gone in deleted:
                seats.ensure(retreat_id=retreat_id, date_id=gone, places=int(places.get(gone, 1)))
            raise Conflict(DELETE_HELD)
        deleted.append(date_id)
    if not retreats.delete(retreat_id):
        raise NotFound(NOT_FOUND)
    seats.delete_for_retreat(retreat_id)


__all__ = [
    "KEEP",
    "DateBlockInput",
    "RetreatChanges",
    "RetreatDraft",
    "create_retreat",
    "date_block_to_wire",
    "delete_retreat",
    "find_date_block",
    "get_public",
    "get_retreat",
    "list_all",
    "public_catalogue",
    "reserved_places",
    "retreat_to_wire",
    "search",
    "toggle_active",
    "update_retreat",
]
