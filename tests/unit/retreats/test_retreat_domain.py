"""Retreat rules without HTTP: wire shape, date block lookup, seat-counter bookkeeping and its
undo when a counter refuses a change half-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from bson import ObjectId
from lutea import listing
from lutea.data.retreats import RetreatRepository
from lutea.data.seats import SeatRepository
from lutea.domain import retreats as domain
from lutea.errors import Conflict, InvalidInput, NotFound

from tests.support.catalogue import retreat_changes, retreat_draft

START = datetime(2027, 3, 1, 9, tzinfo=UTC)


def body(*blocks: dict) -> dict:
    return {
        "titreCard": "T",
        "imageCard": "/c.jpg",
        "altImageCard": "c",
        "imageModal": ["/m.jpg"],
        "altImageModal": ["m"],
        "texteModal": "t",
        "dates": list(blocks),
    }


def block(day: int, places: int = 10, prix: float = 100, **extra) -> dict:
    start = START + timedelta(days=day)
    return {
        "start": start.isoformat(),
        "end": (start + timedelta(days=2)).isoformat(),
        "prix": prix,
        "places": places,
        "adresseRdv": "Mas",
        **extra,
    }


def test_find_date_block_matches_the_same_instant_in_any_zone():
    retreat = {"dates": [{"_id": 1, "start": START}, {"_id": 2, "start": START + timedelta(days=1)}]}
    paris = timezone(timedelta(hours=1))
    assert domain.find_date_block(retreat, START.astimezone(paris))["_id"] == 1
    assert domain.find_date_block(retreat, datetime(2027, 3, 2, 9))["_id"] == 2  # naive = UTC
    assert domain.find_date_block(retreat, START + timedelta(milliseconds=1)) is None
    assert domain.find_date_block({}, START) is None
    assert domain.find_date_block({"dates": [{"_id": 3}]}, START) is None


def test_wire_shows_euros_never_cents_and_keeps_legacy_fields():
    rid, did = ObjectId(), ObjectId()
    doc = {
        "_id": rid,
        "prix": 99.5,
        "places": 3,
        "imageModal": ["/a"],
        "dates": [
            {"_id": did, "start": START, "end": START, "prixCents": 12050, "places": 2},
            {"_id": did, "start": START, "end": START, "prixCents": 12000, "prix": 999},
            {"_id": did, "start": START, "prix": 45},
        ],
        "createdAt": START,
        "nested": {"id": rid},
    }
    wire = domain.retreat_to_wire(doc)
    assert wire == {
        "_id": str(rid),
        "prix": 99.5,
        "places": 3,
        "imageModal": ["/a"],
        "dates": [
            {"_id": str(did), "start": "2027-03-01T09:00:00.000Z", "end": "2027-03-01T09:00:00.000Z", "prix": 120.5, "places": 2},
            {"_id": str(did), "start": "2027-03-01T09:00:00.000Z", "end": "2027-03-01T09:00:00.000Z", "prix": 120},
            {"_id": str(did), "start": "2027-03-01T09:00:00.000Z", "prix": 45},
        ],
        "createdAt": "2027-03-01T09:00:00.000Z",
        "nested": {"id": str(rid)},
    }
    assert isinstance(wire["dates"][1]["prix"], int)


@pytest.mark.parametrize(
    ("raw", "lower", "cents"),
    [
        ("10", True, 1000),
        ("10.001", True, 1001),
        ("10.009", False, 1000),
        ("  7.5 ", False, 750),
        ("", True, None),
        (None, False, None),
        ("1e400000", False, 10**12),
        ("-1e400000", True, -(10**12)),
    ],
)
def test_price_bounds_round_inwards(raw, lower, cents):
    assert listing.price_bound(raw, "prixMin", lower=lower) == cents


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "-inf", "1" * 30])
def test_price_bounds_must_be_finite_numbers(raw):
    with pytest.raises(InvalidInput):
        listing.price_bound(raw, "prixMin", lower=True)


def test_create_then_reserved_places(frozen_clock):
    doc = domain.create_retreat(retreat_draft(body(block(0), block(5, places=3))))
    first, second = doc["dates"]
    seats = SeatRepository()
    assert seats.try_reserve(second["_id"], 3, ObjectId())
    assert not seats.try_reserve(second["_id"], 1, ObjectId())
    assert domain.reserved_places(doc["_id"], None) == 3
    assert domain.reserved_places(doc["_id"], "2027-03-06T10:00:00+01:00") == 3
    assert domain.reserved_places(doc["_id"], first["start"].isoformat()) == 0
    assert domain.reserved_places(doc["_id"], "  ") == 3
    with pytest.raises(NotFound, match="Retraite non trouvée"):
        domain.reserved_places(ObjectId(), None)


class RefusingSeats(SeatRepository):
    """A seat store where one counter refuses its change, as if a booking came in meanwhile."""

    def __init__(self, refuse: ObjectId) -> None:
        super().__init__()
        self.refuse = refuse

    def set_places(self, date_id, places, *, expected):
        return False if date_id == self.refuse else super().set_places(date_id, places, expected=expected)

    def delete_unheld(self, date_id, *, expected_places=None):
        return False if date_id == self.refuse else super().delete_unheld(date_id, expected_places=expected_places)


def test_a_refused_counter_undoes_the_changes_already_made(frozen_clock):
    doc = domain.create_retreat(retreat_draft(body(block(0), block(5), block(9))))
    a, b, c = doc["dates"]
    sent = retreat_changes(
        {
            "dates": [
                {**block(0, places=20), "_id": str(a["_id"])},  # resized first, then undone
                {**block(5, places=4), "_id": str(b["_id"])},  # refused
                block(12, places=7),  # would be new
            ]
        }
    )  # c removed: its counter goes first, then comes back

    with pytest.raises(Conflict):
        domain.update_retreat(doc["_id"], sent, seats=RefusingSeats(refuse=b["_id"]))

    seats = SeatRepository()
    assert seats.get(a["_id"])["places"] == 10
    assert seats.get(b["_id"])["places"] == 10
    assert seats.get(c["_id"])["places"] == 10 and seats.get(c["_id"])["held"] == 0
    assert seats.held_by_date(doc["_id"]).keys() == {a["_id"], b["_id"], c["_id"]}
    assert RetreatRepository().get(doc["_id"])["dates"] == doc["dates"]


def test_a_block_taken_while_being_removed_is_kept(frozen_clock):
    doc = domain.create_retreat(retreat_draft(body(block(0), block(5))))
    a, b = doc["dates"]
    sent = retreat_changes({"dates": [{**block(0), "_id": str(a["_id"])}]})

    with pytest.raises(Conflict, match="Impossible de supprimer la date du 06/03/2027"):
        domain.update_retreat(doc["_id"], sent, seats=RefusingSeats(refuse=b["_id"]))
    assert len(RetreatRepository().get(doc["_id"])["dates"]) == 2


def test_delete_restores_counters_when_one_is_taken_meanwhile(frozen_clock):
    doc = domain.create_retreat(retreat_draft(body(block(0), block(5, places=4))))
    a, b = doc["dates"]

    with pytest.raises(Conflict):
        domain.delete_retreat(doc["_id"], seats=RefusingSeats(refuse=b["_id"]))

    seats = SeatRepository()
    assert seats.get(a["_id"])["places"] == 10
    assert seats.get(b["_id"])["places"] == 4
    assert RetreatRepository().get(doc["_id"]) is not None


def test_update_refuses_when_the_retreat_changed_since_it_was_read(frozen_clock):
    doc = domain.create_retreat(retreat_draft(body(block(0))))
    (a,) = doc["dates"]

    class Racing(RetreatRepository):
        def update_fields(self, retreat_id, set_fields, unset_fields=(), **kw):
            super().update_fields(retreat_id, {"updatedAt": datetime(2030, 1, 1, tzinfo=UTC)})  # someone else
            return super().update_fields(retreat_id, set_fields, unset_fields, **kw)

    sent = retreat_changes({"dates": [{**block(0, places=15), "_id": str(a["_id"])}, block(3)]})
    with pytest.raises(Conflict, match="modifiée entre-temps"):
        domain.update_retreat(doc["_id"], sent, retreats=Racing())

    seats = SeatRepository()
    assert seats.get(a["_id"])["places"] == 10
    assert list(seats.held_by_date(doc["_id"])) == [a["_id"]]


def test_toggle_treats_a_missing_flag_as_active(frozen_clock):
    rid = ObjectId()
    RetreatRepository().insert({"_id": rid, "titreCard": "Ancienne"})
    assert domain.toggle_active(rid)["isActive"] is False
    assert domain.toggle_active(rid)["isActive"] is True
    with pytest.raises(NotFound):
        domain.get_public(ObjectId())


def test_a_patch_changes_only_what_it_sent_and_none_removes(frozen_clock):
    """The domain's own inputs, built directly: KEEP leaves a field as stored, None removes a
    nullable one, an empty ``included`` too."""
    draft = domain.RetreatDraft(
        title="T",
        card_image="/c.jpg",
        card_image_alt="c",
        modal_images=("/m.jpg",),
        modal_image_alts=("m",),
        text="t",
        pdf_label="Programme",
        pdf_url="/p.pdf",
        included="Repas",
        refund_tiers=((30, 100), (7, 50)),
        dates=(
            domain.DateBlockInput(
                start=START, end=START + timedelta(days=2), price=Decimal("99.9"), places=4, meeting_point="Mas"
            ),
        ),
    )
    doc = domain.create_retreat(draft)
    assert doc["politiqueAnnulation"] == {
        "paliers": [{"joursAvant": 30, "pourcentage": 100}, {"joursAvant": 7, "pourcentage": 50}]
    }
    assert doc["dates"][0]["prixCents"] == 9990

    changes = domain.RetreatChanges(title="Nouveau", pdf_label=None, included="", modal_images=("/a.jpg", "/b.jpg"))
    updated = domain.update_retreat(doc["_id"], changes)

    assert updated["titreCard"] == "Nouveau"
    assert updated["imageModal"] == ["/a.jpg", "/b.jpg"]
    assert "boutonPdfLabel" not in updated and "prestationsIncluses" not in updated
    kept = {
        k: v for k, v in doc.items() if k not in {"titreCard", "imageModal", "boutonPdfLabel", "prestationsIncluses", "updatedAt"}
    }
    assert {k: updated[k] for k in kept} == kept

    domain.update_retreat(doc["_id"], domain.RetreatChanges(refund_tiers=None))
    assert "politiqueAnnulation" not in RetreatRepository().get(doc["_id"])


def test_the_handler_hands_over_only_the_fields_a_patch_sent():
    assert retreat_changes({}) == domain.RetreatChanges()
    sent = retreat_changes(
        {"titreCard": " X ", "pdfUrl": None, "politiqueAnnulation": {"paliers": [{"joursAvant": 3, "pourcentage": 20}]}}
    )
    assert sent == domain.RetreatChanges(title="X", pdf_url=None, refund_tiers=((3, 20),))
    assert sent.dates is domain.KEEP and sent.pdf_label is domain.KEEP
