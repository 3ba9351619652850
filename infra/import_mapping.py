"""Migration from the original backend: its ``mongoexport`` files mapped to this project's
documents, as plain functions over plain dicts (reading files and writing the database is
infra/import_original.py's business, its only user: no function of the API needs it, so it
ships with the import tool, not in the layer).

What changes on the way (everything else is kept as stored, ``_id`` included):

- users: email trimmed and lower-cased; two accounts whose addresses collide that way keep
  the most recently active one (``lastLogin``, else ``updatedAt``) and their bookings move to
  it (the same mailbox owns both); bcrypt hashes are kept (upgraded at the next sign-in);
  2FA codes and reset tokens are dropped (plain text or short-lived in the original);
- retreats: each date block keeps its ``_id`` (one derived from the retreat's when missing)
  and its euro ``prix`` becomes integer ``prixCents``; the legacy top-level ``prix``,
  ``places``, ``adresseRdv`` stay as stored;
- bookings: euro ``prixTotal`` becomes ``prixTotalCents``; ``dateId`` is the block of the
  retreat starting at the booking's ``dateStart``; PENDING and CONFIRMED bookings hold their
  seats; ``expiresAt`` is the 16-minute payment window from ``createdAt``.

Ids this module has to add are derived from the parent document, so that importing the same
export twice gives the same documents.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, cast, overload

from bson import Decimal128, ObjectId, json_util
from bson.errors import InvalidId
from lutea.auth.passwords import is_bcrypt
from lutea.booking_status import BookingStatus, PaymentStatus
from lutea.clock import as_utc
from lutea.data.users import normalize_email
from lutea.domain.booking_states import PAYMENT_WINDOW
from lutea.domain.retreats import find_date_block
from lutea.wire import euros_to_cents, iso, parse_instant

if TYPE_CHECKING:
    from lutea.data.documents import RetreatDoc, UserDoc

USERS, RETREATS, BOOKINGS = "users", "retreats", "bookings"
ROLES = ("client", "admin")
HOLDING = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)
BOOKING_STATUSES = tuple(s.value for s in BookingStatus)
PAYMENT_STATUSES = tuple(s.value for s in PaymentStatus)
MAX_EMAIL = 254

_JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)

# Fields of the original kept as they are (after a type check): everything else is dropped.
_USER_TEXT: Final = ("firstName", "lastName", "phone", "address", "city", "postalCode", "country")
_USER_INSTANTS: Final = ("lockUntil", "lastLogin")
_RETREAT_TEXT = ("titreCard", "imageCard", "altImageCard", "texteModal", "boutonPdfLabel", "pdfUrl", "adresseRdv")
_RETREAT_TEXT_LISTS = ("imageModal", "altImageModal")
_BOOKING_TEXT = ("retreatAddress", "retreatHeureArrivee", "retreatHeureDepart")
_BOOKING_TEXT_TAIL = ("stripePaymentIntentId", "notes", "annulationRaison")
_BILLING_FIELDS = ("address", "city", "postalCode", "country", "phone")
_PARTICIPANT_FIELDS = ("prenom", "nom", "email")


class InvalidDocument(ValueError):
    """A document that cannot be imported as it is. The message names fields, never values
    (values may be addresses or hashes)."""


@dataclass(frozen=True)
class Problem:
    """A document skipped: ``where`` is its ``_id`` or, when it has none, its place in the file."""

    collection: str
    where: str
    reason: str


@dataclass(frozen=True)
class Collision:
    """Accounts whose addresses are equal once lower-cased: ``kept`` stays, ``dropped`` go."""

    email: str
    kept: ObjectId
    dropped: tuple[ObjectId, ...]


@dataclass(frozen=True)
class UnmatchedBooking:
    """A booking whose ``dateStart`` starts no block of its retreat (a date changed or removed
    in the original, or the retreat is missing): imported without ``dateId``, holding no seat."""

    booking_id: ObjectId
    retreat_id: ObjectId
    date_start: datetime
    retreat_found: bool


@dataclass
class ImportPlan:
    users: list[UserDoc] = field(default_factory=list)
    retreats: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    # One per date block of ``retreats``: ``{_id: dateId, retreatId, places, held}``.
    counters: list[dict] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=lambda: {USERS: 0, RETREATS: 0, BOOKINGS: 0})
    problems: list[Problem] = field(default_factory=list)
    collisions: list[Collision] = field(default_factory=list)
    unmatched: list[UnmatchedBooking] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skipped(self, collection: str) -> int:
        return sum(1 for p in self.problems if p.collection == collection)


# --- Reading an export ---------------------------------------------------------------------


def load_export(text: str, collection: str) -> tuple[list[dict], list[Problem]]:
    """The documents of a ``mongoexport`` file: one Extended-JSON document per line, or one
    JSON array (``--jsonArray``). A line that does not parse is a problem, the others still
    count; an array that does not parse is one problem for the whole file."""
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return [], []
    problems: list[Problem] = []
    items: list[tuple[str, Any]] = []
    if stripped.startswith("["):
        try:
            array = json_util.loads(stripped, json_options=_JSON_OPTIONS)
        except (ValueError, TypeError, InvalidId) as exc:
            return [], [Problem(collection, "file", f"not a JSON array ({type(exc).__name__})")]
        items = [(f"item {i}", item) for i, item in enumerate(array, start=1)]
    else:
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append((f"line {number}", json_util.loads(line, json_options=_JSON_OPTIONS)))
            except (ValueError, TypeError, InvalidId) as exc:
                problems.append(Problem(collection, f"line {number}", f"not Extended JSON ({type(exc).__name__})"))
    docs = []
    for place, item in items:
        if isinstance(item, dict):
            docs.append(item)
        else:
            problems.append(Problem(collection, place, "not a document"))
    return docs, problems


# --- Field checks ----------------------------------------------------------------------------


def _object_id(value: Any, name: str) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24:
        try:
            return ObjectId(value)
        except InvalidId:
            pass
    raise InvalidDocument(f"{name} is not an ObjectId")


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and 0 < len(value) <= 64:
        try:
            return parse_instant(value)
        except ValueError:
            pass
    raise InvalidDocument(f"{name} is not a date")


def _optional_instant(doc: dict, name: str) -> datetime | None:
    value = doc.get(name)
    return None if value is None else _instant(value, name)


def _decimal(value: Any, name: str) -> Decimal:
    """A finite number (a JSON number, ``$numberDouble`` or ``$numberDecimal``), never a bool."""
    if isinstance(value, bool):
        raise InvalidDocument(f"{name} is not a number")
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidDocument(f"{name} is not a finite number")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, Decimal) and value.is_finite():
        return value
    raise InvalidDocument(f"{name} is not a number")


def _whole(value: Any, name: str, minimum: int) -> int:
    number = _decimal(value, name)
    if number != number.to_integral_value() or number < minimum:
        raise InvalidDocument(f"{name} must be a whole number of at least {minimum}")
    return int(number)


def _cents(value: Any, name: str, where: str, notes: list[str]) -> int:
    euros = _decimal(value, name)
    if euros < 0:
        raise InvalidDocument(f"{name} is negative")
    if euros > Decimal(10) ** 9:
        raise InvalidDocument(f"{name} is out of range")
    cents = euros_to_cents(euros)
    if Decimal(cents) != euros * 100:
        notes.append(f"{where}: {name} is not a whole number of cents, rounded to {cents} cents")
    return cents


@overload
def _text(value: Any, name: str, *, required: Literal[True], limit: int = 10_000) -> str: ...
@overload
def _text(value: Any, name: str, *, required: bool = False, limit: int = 10_000) -> str | None: ...
def _text(value: Any, name: str, *, required: bool = False, limit: int = 10_000) -> str | None:
    if value is None and not required:
        return None
    if value is None:
        raise InvalidDocument(f"{name} is missing")
    if not isinstance(value, str):
        raise InvalidDocument(f"{name} is not a text")
    if required and not value.strip():
        raise InvalidDocument(f"{name} is empty")
    if len(value) > limit:
        raise InvalidDocument(f"{name} is longer than {limit} characters")
    return value


def _bool(doc: dict, name: str, default: bool) -> bool:
    value = doc.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidDocument(f"{name} is not a boolean")
    return value


def derived_id(parent: ObjectId, kind: str, index: int) -> ObjectId:
    """A stable id for a sub-document that had none: the parent's timestamp and a hash of
    (parent, kind, position), so that every run of the import gives the same one."""
    digest = hashlib.sha256(parent.binary + f"{kind}:{index}".encode()).digest()
    return ObjectId(parent.binary[:4] + digest[:8])


def _timestamps(doc: dict, doc_id: ObjectId) -> tuple[datetime, datetime]:
    """``createdAt`` (else the id's creation time) and ``updatedAt`` (else ``createdAt``)."""
    created = _optional_instant(doc, "createdAt") or as_utc(doc_id.generation_time)
    updated = _optional_instant(doc, "updatedAt") or created
    return created, updated


# --- Users -----------------------------------------------------------------------------------


def map_user(doc: dict) -> UserDoc:
    """A user of the original as this project stores it (see the module docstring)."""
    user_id = _object_id(doc.get("_id"), "_id")
    raw_email = _text(doc.get("email"), "email", required=True, limit=MAX_EMAIL + 50)
    email = normalize_email(raw_email) or ""
    if not email or len(email) > MAX_EMAIL or email.count("@") != 1 or any(c.isspace() for c in email):
        raise InvalidDocument("email is not an address")
    password = doc.get("password")
    if not isinstance(password, str) or not is_bcrypt(password) or len(password) != 60:
        raise InvalidDocument("password is not a bcrypt hash")
    role = _text(doc.get("role"), "role") or ROLES[0]
    role = role.strip().lower()
    if role not in ROLES:
        raise InvalidDocument("role is neither client nor admin")
    created, updated = _timestamps(doc, user_id)
    out: UserDoc = {"_id": user_id, "email": email, "password": password}
    for name in _USER_TEXT[:2]:
        out[name] = _text(doc.get(name), name, required=True, limit=200)
    out["role"] = role
    out["isEmailVerified"] = _bool(doc, "isEmailVerified", False)
    attempts = doc.get("failedLoginAttempts")
    out["failedLoginAttempts"] = 0 if attempts is None else _whole(attempts, "failedLoginAttempts", 0)
    for instant_name in _USER_INSTANTS:
        instant = _optional_instant(doc, instant_name)
        if instant is not None:
            out[instant_name] = instant
    for text_name in _USER_TEXT[2:]:
        text = _text(doc.get(text_name), text_name, limit=500)
        if text is not None:
            out[text_name] = text
    out["createdAt"], out["updatedAt"] = created, updated
    return out


def last_active(user: UserDoc) -> datetime:
    return user.get("lastLogin") or user["updatedAt"]


def resolve_email_collisions(users: list[UserDoc]) -> tuple[list[UserDoc], list[Collision]]:
    """One account per address: the most recently active (``lastLogin``, else ``updatedAt``;
    a tie goes to the newest ``_id``). The order of ``users`` is otherwise kept."""
    by_email: dict[str, list[UserDoc]] = {}
    for user in users:
        by_email.setdefault(user["email"], []).append(user)
    collisions: list[Collision] = []
    dropped: set[ObjectId] = set()
    for email, group in by_email.items():
        if len(group) < 2:
            continue
        ranked = sorted(group, key=lambda u: (last_active(u), u["_id"]), reverse=True)
        losers = tuple(u["_id"] for u in ranked[1:])
        dropped.update(losers)
        collisions.append(Collision(email=email, kept=ranked[0]["_id"], dropped=losers))
    return [u for u in users if u["_id"] not in dropped], collisions


# --- Retreats --------------------------------------------------------------------------------


def _block(raw: Any, index: int, retreat_id: ObjectId, retreat: dict, notes: list[str]) -> dict:
    name = f"dates[{index}]"
    if not isinstance(raw, dict):
        raise InvalidDocument(f"{name} is not a document")
    block_id = _object_id(raw["_id"], f"{name}._id") if raw.get("_id") is not None else derived_id(retreat_id, "date", index)
    start, end = _instant(raw.get("start"), f"{name}.start"), _instant(raw.get("end"), f"{name}.end")
    if start >= end:
        raise InvalidDocument(f"{name} starts after it ends")
    out: dict[str, Any] = {"_id": block_id, "start": start, "end": end}
    for key in ("heureArrivee", "heureDepart"):
        value = _text(raw.get(key), f"{name}.{key}", limit=50)
        if value is not None:
            out[key] = value
    # The original's fallback chain: the block's price and places, else the retreat's.
    prix = raw["prix"] if raw.get("prix") is not None else retreat.get("prix")
    if prix is None:
        raise InvalidDocument(f"{name}.prix is missing")
    out["prixCents"] = _cents(prix, f"{name}.prix", f"retreat {retreat_id}", notes)
    places = raw["places"] if raw.get("places") is not None else retreat.get("places")
    if places is None:
        raise InvalidDocument(f"{name}.places is missing")
    out["places"] = _whole(places, f"{name}.places", 1)
    address = _text(raw.get("adresseRdv"), f"{name}.adresseRdv", limit=500)
    if address is not None:
        out["adresseRdv"] = address
    return out


def map_retreat(doc: dict, notes: list[str] | None = None) -> dict:
    """A retreat of the original as this project stores it; ``notes`` collects remarks that
    do not stop the import (prices rounded to the cent)."""
    notes = notes if notes is not None else []
    retreat_id = _object_id(doc.get("_id"), "_id")
    created, updated = _timestamps(doc, retreat_id)
    out: dict[str, Any] = {"_id": retreat_id}
    out["titreCard"] = _text(doc.get("titreCard"), "titreCard", required=True, limit=500)
    for name in _RETREAT_TEXT[1:]:
        value = _text(doc.get(name), name)
        if value is not None:
            out[name] = value
    for name in _RETREAT_TEXT_LISTS:
        value = doc.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidDocument(f"{name} is not a list of texts")
        out[name] = list(value)
    # Legacy top-level fields, kept as stored (euros for prix) once checked.
    if doc.get("prix") is not None:
        if _decimal(doc["prix"], "prix") < 0:
            raise InvalidDocument("prix is negative")
        out["prix"] = doc["prix"]
    if doc.get("places") is not None:
        _whole(doc["places"], "places", 1)
        out["places"] = doc["places"]
    dates = doc.get("dates") or []
    if not isinstance(dates, list):
        raise InvalidDocument("dates is not a list")
    blocks = [_block(raw, i, retreat_id, doc, notes) for i, raw in enumerate(dates)]
    if len({b["_id"] for b in blocks}) != len(blocks):
        raise InvalidDocument("two date blocks share an _id")
    starts = [b["start"] for b in blocks]
    if len(set(starts)) != len(starts):
        notes.append(f"retreat {retreat_id}: two date blocks start at the same instant; bookings go to the first")
    out["dates"] = blocks
    out["aVenir"] = _bool(doc, "aVenir", False)
    out["isActive"] = _bool(doc, "isActive", True)
    out["createdAt"], out["updatedAt"] = created, updated
    return out


# --- Bookings --------------------------------------------------------------------------------


def _participants(raw: Any, booking_id: ObjectId) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise InvalidDocument("participants is missing or empty")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidDocument(f"participants[{index}] is not a document")
        participant_id = (
            _object_id(item["_id"], f"participants[{index}]._id")
            if item.get("_id") is not None
            else derived_id(booking_id, "participant", index)
        )
        participant: dict[str, Any] = {"_id": participant_id}
        for name in _PARTICIPANT_FIELDS:
            participant[name] = _text(item.get(name), f"participants[{index}].{name}", required=True, limit=254)
        out.append(participant)
    return out


def _billing(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise InvalidDocument("billingAddress is not a document")
    out = {}
    for name in _BILLING_FIELDS:
        value = _text(raw.get(name), f"billingAddress.{name}", limit=500)
        if value is not None:
            out[name] = value
    return out


def _status(doc: dict, name: str, allowed: tuple[str, ...]) -> str:
    value = doc.get(name)
    if value is None:
        return allowed[0]  # the schema default, PENDING
    if not isinstance(value, str) or value.strip().upper() not in allowed:
        raise InvalidDocument(f"{name} is not one of {', '.join(allowed)}")
    return value.strip().upper()


def map_booking(doc: dict, date_id: ObjectId | None, *, user_id: ObjectId | None = None, notes: list[str] | None = None) -> dict:
    """A booking of the original as this project stores it. ``date_id``: the block its
    ``dateStart`` matched (None: no seat held); ``user_id`` replaces the stored owner (an
    account merged by an email collision)."""
    notes = notes if notes is not None else []
    booking_id = _object_id(doc.get("_id"), "_id")
    owner = user_id
    if owner is None and doc.get("userId") is not None:
        owner = _object_id(doc["userId"], "userId")
    created, updated = _timestamps(doc, booking_id)
    statut = _status(doc, "statut", BOOKING_STATUSES)
    out: dict[str, Any] = {
        "_id": booking_id,
        "userId": owner,
        "isGuest": _bool(doc, "isGuest", owner is None),
        "isStripeBooking": _bool(doc, "isStripeBooking", True),
        "retreatId": _object_id(doc.get("retreatId"), "retreatId"),
        "dateId": date_id,
        "retreatName": _text(doc.get("retreatName"), "retreatName", limit=500) or "",
    }
    for name in _BOOKING_TEXT:
        value = _text(doc.get(name), name, limit=500)
        if value is not None:
            out[name] = value
    out["dateStart"] = _instant(doc.get("dateStart"), "dateStart")
    out["dateEnd"] = _instant(doc.get("dateEnd"), "dateEnd")
    out["nbPlaces"] = _whole(doc.get("nbPlaces"), "nbPlaces", 1)
    if doc.get("prixTotal") is None:
        raise InvalidDocument("prixTotal is missing")
    out["prixTotalCents"] = _cents(doc["prixTotal"], "prixTotal", f"booking {booking_id}", notes)
    out["participants"] = _participants(doc.get("participants"), booking_id)
    out["billingAddress"] = _billing(doc.get("billingAddress"))
    out["statut"] = statut
    out["statutPaiement"] = _status(doc, "statutPaiement", PAYMENT_STATUSES)
    out["seatsHeld"] = statut in HOLDING and date_id is not None
    for name in _BOOKING_TEXT_TAIL:
        value = _text(doc.get(name), name, limit=5000)
        if value is not None:
            out[name] = value
    cancelled_at = _optional_instant(doc, "annulationDate")
    if cancelled_at is not None:
        out["annulationDate"] = cancelled_at
    out["expiresAt"] = created + PAYMENT_WINDOW
    out["createdAt"], out["updatedAt"] = created, updated
    return out


# --- The whole import --------------------------------------------------------------------------


def _unique_ids(docs: Iterable[dict], collection: str, plan: ImportPlan) -> list[dict]:
    """The first document of each ``_id`` (an export concatenated twice, say)."""
    seen: set[Any] = set()
    out = []
    for doc in docs:
        key = doc.get("_id")
        marker = key if isinstance(key, ObjectId | str | int) else (None if key is None else repr(key))
        if marker is not None and marker in seen:
            plan.problems.append(Problem(collection, str(key), "same _id as an earlier document"))
            continue
        if marker is not None:
            seen.add(marker)
        out.append(doc)
    return out


def _where(doc: dict) -> str:
    value = doc.get("_id")
    return str(value) if isinstance(value, ObjectId | str) else "(no _id)"


def plan_import(
    users: Iterable[dict] = (),
    retreats: Iterable[dict] = (),
    bookings: Iterable[dict] = (),
    *,
    stored_retreat: Callable[[ObjectId], dict | None] = lambda _id: None,
) -> ImportPlan:
    """Map the three exports (as loaded by ``load_export``) into what to write. A booking's
    date is matched among the exported retreats, else ``stored_retreat`` (a retreat already
    imported). Invalid documents become ``problems`` and are left out whole."""
    plan = ImportPlan()
    users, retreats, bookings = list(users), list(retreats), list(bookings)
    plan.read = {USERS: len(users), RETREATS: len(retreats), BOOKINGS: len(bookings)}

    mapped_users = []
    for doc in _unique_ids(users, USERS, plan):
        try:
            mapped_users.append(map_user(doc))
        except InvalidDocument as exc:
            plan.problems.append(Problem(USERS, _where(doc), str(exc)))
    plan.users, plan.collisions = resolve_email_collisions(mapped_users)
    merged_into = {lost: c.kept for c in plan.collisions for lost in c.dropped}

    block_ids: set[ObjectId] = set()
    by_id: dict[ObjectId, dict] = {}
    for doc in _unique_ids(retreats, RETREATS, plan):
        try:
            retreat = map_retreat(doc, plan.notes)
        except InvalidDocument as exc:
            plan.problems.append(Problem(RETREATS, _where(doc), str(exc)))
            continue
        ids = {b["_id"] for b in retreat["dates"]}
        if ids & block_ids:
            plan.problems.append(Problem(RETREATS, str(retreat["_id"]), "a date block _id is used by another retreat"))
            continue
        block_ids |= ids
        plan.retreats.append(retreat)
        by_id[retreat["_id"]] = retreat

    for doc in _unique_ids(bookings, BOOKINGS, plan):
        try:
            retreat_id = _object_id(doc.get("retreatId"), "retreatId")
            date_start = _instant(doc.get("dateStart"), "dateStart")
            found = by_id.get(retreat_id) or stored_retreat(retreat_id)
            block = find_date_block(cast("RetreatDoc", found), date_start) if found else None  # a retreat document
            owner = doc.get("userId")
            merged = merged_into.get(owner) if isinstance(owner, ObjectId) else None
            booking = map_booking(doc, block["_id"] if block else None, user_id=merged, notes=plan.notes)
        except InvalidDocument as exc:
            plan.problems.append(Problem(BOOKINGS, _where(doc), str(exc)))
            continue
        if merged is not None:
            plan.notes.append(f"booking {booking['_id']}: owner {owner} merged into account {merged} (email collision)")
        if block is None:
            plan.unmatched.append(UnmatchedBooking(booking["_id"], retreat_id, date_start, found is not None))
        plan.bookings.append(booking)

    plan.counters = seat_counters(plan.retreats, plan.bookings)
    for counter in plan.counters:
        if counter["held"] > counter["places"]:
            plan.notes.append(
                f"date block {counter['_id']}: {counter['held']} seats held for "
                f"{counter['places']} places (overbooked in the original)"
            )
    return plan


def seat_counters(retreats: Iterable[dict], bookings: Iterable[dict]) -> list[dict]:
    """A seat counter per date block: its places, and the seats of the bookings holding some."""
    holders: dict[ObjectId, list[dict]] = {}
    for booking in bookings:
        if booking.get("seatsHeld") and booking.get("dateId") is not None:
            holders.setdefault(booking["dateId"], []).append(
                {"bookingId": booking["_id"], "n": int(booking["nbPlaces"]), "at": booking.get("createdAt")}
            )
    return [
        {
            "_id": block["_id"],
            "retreatId": retreat["_id"],
            "places": int(block["places"]),
            "held": sum(h["n"] for h in holders.get(block["_id"], [])),
            "holders": holders.get(block["_id"], []),
        }
        for retreat in retreats
        for block in retreat.get("dates") or []
    ]


def describe_unmatched(item: UnmatchedBooking) -> str:
    why = "no date block starts then" if item.retreat_found else "retreat not found"
    return f"booking {item.booking_id}: retreat {item.retreat_id}, dateStart {iso(item.date_start)} ({why})"


__all__ = [
    "Collision",
    "ImportPlan",
    "InvalidDocument",
    "Problem",
    "UnmatchedBooking",
    "derived_id",
    "describe_unmatched",
    "load_export",
    "map_booking",
    "map_retreat",
    "map_user",
    "plan_import",
    "resolve_email_collisions",
    "seat_counters",
]
