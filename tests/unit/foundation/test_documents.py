"""The stored shapes of lutea.data.documents cover what the domain writes: a key stored but not
declared there would be read untyped (a typo, or a field the types forgot)."""

from __future__ import annotations

from typing import Any

from lutea.data.documents import BookingDoc, DateBlockDoc, RetreatDoc, WaitingListEntryDoc
from lutea.data.mongo import get_db
from lutea.domain import bookings, retreats, waiting_list

from tests.support.catalogue import START, booking_request, insert_retreat, retreat_draft


def _undeclared(doc: dict[str, Any], shape: Any) -> set[str]:
    return set(doc) - set(shape.__annotations__)


def test_a_created_retreat_and_its_blocks_carry_only_declared_keys():
    block = {
        "start": "2027-03-01T09:00:00.000Z",
        "end": "2027-03-03T09:00:00.000Z",
        "heureArrivee": "10h00",
        "heureDepart": "17h00",
        "prix": 120,
        "places": 8,
        "adresseRdv": "Mas",
    }
    created = retreats.create_retreat(
        retreat_draft(
            {
                "titreCard": "T",
                "imageCard": "/c.jpg",
                "altImageCard": "c",
                "imageModal": ["/m.jpg"],
                "altImageModal": ["m"],
                "texteModal": "t",
                "boutonPdfLabel": "Programme",
                "pdfUrl": "/p.pdf",
                "prestationsIncluses": "Repas",
                "dates": [block],
            }
        )
    )
    stored = get_db()["retreats"].find_one({"_id": created["_id"]})
    assert _undeclared(stored, RetreatDoc) == set()
    assert [_undeclared(b, DateBlockDoc) for b in stored["dates"]] == [set()]


def test_bookings_and_waiting_list_entries_carry_only_declared_keys():
    retreat = insert_retreat(places=2, prestationsIncluses="Repas")
    guest, _ = bookings.create_booking(booking_request(retreat, nb=1, notes="n"), user_id=None)
    manual = bookings.create_manual_booking(booking_request(retreat, nb=1), user_id=None, status="CANCELLED")
    bookings.create_manual_booking(booking_request(retreat, nb=1), user_id=None, status=None)
    waiting_list.join(
        retreat_id=str(retreat["_id"]), date_start=START, seats=1, email="lea@example.test", first_name="Léa", user_id=None
    )
    col = get_db()["bookings"]
    for booking in (guest, manual):
        assert _undeclared(col.find_one({"_id": booking["_id"]}), BookingDoc) == set()
    [entry] = get_db()["waitinglist"].find({})
    assert _undeclared(entry, WaitingListEntryDoc) == set()
