"""Request models of the retreats routes (the original's CreateRetreatDto / UpdateRetreatDto
and DateDto, with bounded strings and the Data rules of API.md)."""

import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import AfterValidator, Field, StrictBool, StrictFloat, StrictInt, StringConstraints, model_validator

from lutea.schemas.cancellation import CancellationPolicyIn
from lutea.validation import StrictModel, object_id
from lutea.wire import parse_instant

MAX_IMAGES = 6
MAX_DATE_BLOCKS = 50
MAX_PRICE_EUROS = Decimal("1000000")
MAX_PLACES = 10000

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _image_ref(value: str) -> str:
    """An http(s) URL or a path on the site (``/images/x.jpg``, ``images/x.jpg``): never another
    scheme (``javascript:``, ``data:``) nor a protocol-relative ``//host`` reference."""
    value = value.strip()
    if not value:
        raise ValueError("ne doit pas être vide")
    if _CONTROL.search(value):
        raise ValueError("contient des caractères invalides")
    if _SCHEME.match(value):
        if not _HTTP_URL.match(value):
            raise ValueError("doit être une URL http(s) ou un chemin du site")
    elif value.startswith("//") or value.startswith("\\"):
        raise ValueError("doit être une URL http(s) ou un chemin du site")
    return value


def _optional_link(value: str) -> str:
    """pdfUrl: empty means "no PDF" (the original skipped its URL check on empty values)."""
    return value if value.strip() == "" else _image_ref(value)


def _instant(value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise ValueError("doit être une date ISO 8601") from exc


def _euros(value: float) -> Decimal:
    """Euros as sent (a JSON number), exact to the cent: more than 2 decimals is refused
    rather than rounded (the price is money the customer will be charged)."""
    if not math.isfinite(value):
        raise ValueError("doit être un nombre")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("doit être un nombre") from exc
    if amount < 0:
        raise ValueError("doit être supérieur ou égal à 0")
    if amount > MAX_PRICE_EUROS:
        raise ValueError(f"doit être inférieur ou égal à {MAX_PRICE_EUROS}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("ne peut pas avoir plus de 2 décimales")
    return amount


ImageRef = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_image_ref)]
OptionalLink = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_optional_link)]
AltText = Annotated[str, StringConstraints(max_length=300)]
# Validated as a string and as a number (the schema says so), they reach the domain as the
# datetime and the Decimal their validators make: the type checker is told what the domain holds.
if TYPE_CHECKING:
    Instant = datetime
    Euros = Decimal
else:
    Instant = Annotated[str, StringConstraints(max_length=40), AfterValidator(_instant)]
    Euros = Annotated[StrictFloat, AfterValidator(_euros)]  # an int is accepted, a string or bool is not
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
HourText = Annotated[str, StringConstraints(max_length=50)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Label = Annotated[str, StringConstraints(max_length=100)]
# What the price includes (printed on the booking confirmation PDF).
IncludedText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Places = Annotated[StrictInt, Field(ge=1, le=MAX_PLACES)]


class DateBlockIn(StrictModel):
    """One date block. ``_id`` is optional: a block sent with the id of one of the retreat's
    blocks keeps it (PATCH edits that block); any other gets a new id."""

    id: object_id("date") | None = Field(default=None, alias="_id")  # type: ignore[valid-type]
    start: Instant
    end: Instant
    heureArrivee: HourText | None = None
    heureDepart: HourText | None = None
    prix: Euros
    places: Places
    adresseRdv: Address

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if not self.start < self.end:
            raise ValueError("La date de début doit être antérieure à la date de fin")
        return self


DateBlocks = Annotated[list[DateBlockIn], Field(max_length=MAX_DATE_BLOCKS)]
ImageList = Annotated[list[ImageRef], Field(min_length=1, max_length=MAX_IMAGES)]
AltList = Annotated[list[AltText], Field(min_length=1, max_length=MAX_IMAGES)]


def _unique_block_ids(blocks: list[DateBlockIn] | None) -> None:
    ids = [b.id for b in blocks or [] if b.id is not None]
    if len(ids) != len({i.lower() for i in ids}):
        raise ValueError("Un bloc de dates apparaît plusieurs fois (_id en double)")


class RetreatCreate(StrictModel):
    """POST /retreats/admin. Legacy top-level ``prix``, ``places``, ``adresseRdv`` are unknown
    fields here (400 ``property prix should not exist``), as in the original's DTO."""

    titreCard: Title
    imageCard: ImageRef
    altImageCard: AltText
    imageModal: ImageList
    altImageModal: AltList
    texteModal: LongText
    boutonPdfLabel: Label | None = None
    pdfUrl: OptionalLink | None = None
    prestationsIncluses: IncludedText | None = None
    dates: DateBlocks = Field(default_factory=list)
    aVenir: StrictBool = False
    isActive: StrictBool = True
    # The refund tiers of self-service cancellation; absent: the global default.
    politiqueAnnulation: CancellationPolicyIn | None = None

    @model_validator(mode="after")
    def _check_blocks(self) -> Self:
        _unique_block_ids(self.dates)
        return self


# Fields of a PATCH that may be sent as null to remove them; the others are required on the
# document and null is refused.
NULLABLE_UPDATE_FIELDS = frozenset({"boutonPdfLabel", "pdfUrl", "politiqueAnnulation", "prestationsIncluses"})


class RetreatUpdate(StrictModel):
    """PATCH /retreats/admin/:id: any subset of the create fields."""

    titreCard: Title | None = None
    imageCard: ImageRef | None = None
    altImageCard: AltText | None = None
    imageModal: ImageList | None = None
    altImageModal: AltList | None = None
    texteModal: LongText | None = None
    boutonPdfLabel: Label | None = None
    pdfUrl: OptionalLink | None = None
    prestationsIncluses: IncludedText | None = None
    dates: DateBlocks | None = None
    aVenir: StrictBool | None = None
    isActive: StrictBool | None = None
    politiqueAnnulation: CancellationPolicyIn | None = None  # null: back to the global default

    @model_validator(mode="after")
    def _check(self) -> Self:
        for name in self.model_fields_set - NULLABLE_UPDATE_FIELDS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} ne peut pas être null")
        _unique_block_ids(self.dates)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields actually sent (a PATCH touches nothing else)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


__all__ = ["NULLABLE_UPDATE_FIELDS", "DateBlockIn", "RetreatCreate", "RetreatUpdate"]
