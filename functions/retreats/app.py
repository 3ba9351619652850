"""Retreats routes (API.md, "Retreats — /retreats"): the public catalogue and its administration."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from lutea import listing
from lutea.domain import retreats as domain
from lutea.domain.retreats import KEEP, retreat_to_wire
from lutea.errors import InvalidInput
from lutea.http import (
    CACHEABLE,
    admin_required,
    cacheable_json_body,
    create_app,
    json_body,
    make_handler,
)
from lutea.http.docs import ok
from lutea.http.guards import header
from lutea.observability import logger, metrics
from lutea.schemas.retreats import DateBlockIn, RetreatCreate, RetreatUpdate
from lutea.wire import parse_object_id

app = create_app()
LABEL = "retraite"  # -> "ID de retraite invalide"


def _query(name: str) -> str | None:
    return app.current_event.get_query_string_value(name)


def _if_none_match() -> str | None:
    return header(app.current_event.headers, "if-none-match")


# --- The domain's inputs, built from the validated bodies (lutea/domain/README.md, Inputs) ---


def _date_block(block: DateBlockIn) -> domain.DateBlockInput:
    return domain.DateBlockInput(
        start=block.start,
        end=block.end,
        price=block.prix,
        places=block.places,
        meeting_point=block.adresseRdv,
        arrival_time=block.heureArrivee,
        departure_time=block.heureDepart,
        block_id=block.id,
    )


def retreat_draft(body: RetreatCreate) -> domain.RetreatDraft:
    """The new retreat of a ``POST /retreats/admin`` body (also the seed's and the benches')."""
    return domain.RetreatDraft(
        title=body.titreCard,
        card_image=body.imageCard,
        card_image_alt=body.altImageCard,
        modal_images=tuple(body.imageModal),
        modal_image_alts=tuple(body.altImageModal),
        text=body.texteModal,
        pdf_label=body.boutonPdfLabel,
        pdf_url=body.pdfUrl,
        included=body.prestationsIncluses,
        refund_tiers=None if body.politiqueAnnulation is None else tuple(body.politiqueAnnulation.pairs()),
        dates=tuple(_date_block(b) for b in body.dates),
        coming_soon=body.aVenir,
        active=body.isActive,
    )


def retreat_changes(body: RetreatUpdate) -> domain.RetreatChanges:
    """The fields a PATCH sent, and only those (the schema refused null where it may not be)."""
    changes = body.changes()
    policy = changes.get("politiqueAnnulation", KEEP)
    dates = changes.get("dates", KEEP)
    modal_images = changes.get("imageModal", KEEP)
    modal_image_alts = changes.get("altImageModal", KEEP)
    return domain.RetreatChanges(
        title=changes.get("titreCard", KEEP),
        card_image=changes.get("imageCard", KEEP),
        card_image_alt=changes.get("altImageCard", KEEP),
        modal_images=modal_images if modal_images is KEEP else tuple(modal_images),
        modal_image_alts=modal_image_alts if modal_image_alts is KEEP else tuple(modal_image_alts),
        text=changes.get("texteModal", KEEP),
        pdf_label=changes.get("boutonPdfLabel", KEEP),
        pdf_url=changes.get("pdfUrl", KEEP),
        included=changes.get("prestationsIncluses", KEEP),
        refund_tiers=policy if policy is KEEP or policy is None else tuple(policy.pairs()),
        dates=dates if dates is KEEP else tuple(_date_block(b) for b in dates),
        coming_soon=changes.get("aVenir", KEEP),
        active=changes.get("isActive", KEEP),
    )


# The public catalogue is cacheable (ETag, Cache-Control, 304): see docs/catalogue-cache.md.
@app.get("/retreats/public", responses=ok(["Retreat"], merge=CACHEABLE))
def list_public_retreats():
    """The public catalogue.

    Active retreats that are coming soon or have a future date. Send the ETag back in If-None-Match
    to get 304."""
    return cacheable_json_body(domain.public_catalogue(), _if_none_match(), reuse=True)


@app.get("/retreats/public/<id>", responses=ok("Retreat", errors=(404,), merge=CACHEABLE))
def get_public_retreat(id: str):
    """One retreat of the catalogue.

    Inactive or unknown: 404."""
    return cacheable_json_body(retreat_to_wire(domain.get_public(parse_object_id(id, LABEL))), _if_none_match())


@app.get("/retreats/admin", responses=ok(["Retreat"], paged=True))
@admin_required
def list_retreats():
    """All retreats (admin), newest first.

    Active and inactive. Filters and pages (`page`, `limit`): see docs/admin-lists.md;
    without `page` or `limit`, the whole array."""
    page = listing.page_request(_query("page"), _query("limit"))
    statut = listing.choice(_query("statut"), "statut", ("active", "inactive"))
    found, total = domain.admin_list(
        is_active=None if statut is None else statut == "active",
        period=listing.period(_query("dateMin"), _query("dateMax")),
        page=page,
    )
    retreats = [retreat_to_wire(doc) for doc in found]
    return retreats if page is None else listing.envelope(retreats, total, page)


# Fix: declared before admin/<id>, which shadowed it in the original.
@app.get("/retreats/admin/search", responses=ok(["Retreat"]))
@admin_required
def search_retreats():
    """Search retreats (admin).

    `titreCard`: substring, case-insensitive; `statut`: `active` or anything else; `prixMin` /
    `prixMax` in euros: every date's price in range."""
    title, status = _query("titreCard"), _query("statut")
    if title is not None and len(title) > 200:
        raise InvalidInput("titreCard ne doit pas dépasser 200 caractères")
    found = domain.search(
        title=title or None,
        is_active=None if not status else status == "active",
        min_cents=listing.price_bound(_query("prixMin"), "prixMin", lower=True),
        max_cents=listing.price_bound(_query("prixMax"), "prixMax", lower=False),
    )
    return [retreat_to_wire(doc) for doc in found]


@app.get("/retreats/admin/<id>", responses=ok("Retreat", errors=(404,)))
@admin_required
def get_retreat(id: str):
    """One retreat (admin).

    Unknown: 404."""
    return retreat_to_wire(domain.get_retreat(parse_object_id(id, LABEL)))


@app.post("/retreats/admin", responses=ok("Retreat", 201))
@admin_required
def create_retreat(body: RetreatCreate):
    """Create a retreat (admin).

    Each date carries its own price (euros) and places."""
    doc = domain.create_retreat(retreat_draft(body))
    logger.info("retreat created", extra={"retreatId": str(doc["_id"]), "dates": len(doc["dates"])})
    metrics.add_metric(name="RetreatsCreated", unit=MetricUnit.Count, value=1)
    return json_body(201, retreat_to_wire(doc))


@app.patch("/retreats/admin/<id>", responses=ok("Retreat", errors=(404,)))
@admin_required
def update_retreat(id: str, body: RetreatUpdate):
    """Update a retreat (admin).

    Only the fields sent change."""
    doc = domain.update_retreat(parse_object_id(id, LABEL), retreat_changes(body))
    logger.info("retreat updated", extra={"retreatId": id, "fields": sorted(body.model_fields_set)})
    return retreat_to_wire(doc)


@app.delete("/retreats/admin/<id>", responses=ok(None, 204, errors=(404, 409)))
@admin_required
def delete_retreat(id: str):
    """Delete a retreat (admin).

    204 without a body; a retreat whose dates still hold booked seats: 409."""
    domain.delete_retreat(parse_object_id(id, LABEL))
    logger.info("retreat deleted", extra={"retreatId": id})
    return Response(status_code=204, body="")


@app.patch("/retreats/admin/<id>/toggle-active", responses=ok("Retreat", errors=(404,)))
@admin_required
def toggle_retreat_active(id: str):
    """Show or hide a retreat (admin).

    Flips `isActive`."""
    doc = domain.toggle_active(parse_object_id(id, LABEL))
    logger.info("retreat visibility changed", extra={"retreatId": id, "isActive": doc.get("isActive")})
    return retreat_to_wire(doc)


@app.get("/retreats/admin/<id>/reserved-places", responses=ok("ReservedPlaces", errors=(404,)))
@admin_required
def get_reserved_places(id: str):
    """Seats taken on a retreat (admin).

    `?date=` limits the count to one date."""
    return {"placesReservees": domain.reserved_places(parse_object_id(id, LABEL), _query("date"))}


lambda_handler = make_handler(app)
