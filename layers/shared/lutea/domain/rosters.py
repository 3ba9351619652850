"""The roster of a date block: who comes, how to reach them, what they paid. One row per
participant, as the organiser reads it at the door; the booking's own columns (status,
places, amount) are filled on its first participant's row only, so that summing the amount
column gives the block's takings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.clock import as_utc
from lutea.data.bookings import BookingRepository
from lutea.data.retreats import RetreatRepository
from lutea.domain.booking_lookup import MSG_DATE_NOT_FOUND
from lutea.domain.booking_states import CONFIRMED, PAID, PENDING
from lutea.errors import NotFound
from lutea.filenames import PARIS, download_filename
from lutea.spreadsheet import amount, french_excel_csv

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc

MSG_RETREAT_NOT_FOUND = "Retraite non trouvée"
# The bookings that hold seats on the block: the people expected.
ROSTER_STATUSES = (CONFIRMED, PENDING)

HEADER = (
    "Réservation",
    "Statut",
    "Paiement",
    "Places",
    "Montant payé (€)",
    "Participant",
    "Prénom",
    "Nom",
    "Email",
    "Email de contact",
    "Téléphone",
    "Adresse",
    "Code postal",
    "Ville",
    "Pays",
    "Réservée le",
    "Notes",
)
STATUS_LABELS = {"PENDING": "En attente", "CONFIRMED": "Confirmée", "CANCELLED": "Annulée"}
PAYMENT_LABELS = {"PENDING": "En attente", "PAID": "Payé", "FAILED": "Échoué", "REFUNDED": "Remboursé"}


def _paris_minute(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    return ""


def paid_cents(booking: BookingDoc) -> int:
    """What the customer has paid and kept paid: the total once PAID, nothing otherwise
    (pending, failed, refunded)."""
    if booking.get("statutPaiement") != PAID:
        return 0
    return int(booking.get("prixTotalCents") or 0)


def _rows(bookings: list[BookingDoc]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for booking in bookings:
        billing = booking.get("billingAddress") or {}
        participants = booking.get("participants") or [{}]
        contact = (participants[0] or {}).get("email", "")
        for index, person in enumerate(participants, start=1):
            first = index == 1
            rows.append(
                [
                    str(booking["_id"]),
                    STATUS_LABELS.get(booking.get("statut", ""), booking.get("statut", "")) if first else "",
                    PAYMENT_LABELS.get(booking.get("statutPaiement", ""), booking.get("statutPaiement", "")) if first else "",
                    booking.get("nbPlaces", "") if first else "",
                    amount(paid_cents(booking)) if first else "",
                    f"{index}/{len(participants)}",
                    person.get("prenom", ""),
                    person.get("nom", ""),
                    person.get("email", ""),
                    contact,
                    billing.get("phone", ""),
                    billing.get("address", ""),
                    billing.get("postalCode", ""),
                    billing.get("city", ""),
                    billing.get("country", ""),
                    _paris_minute(booking.get("createdAt")),
                    (booking.get("notes") or "") if first else "",
                ]
            )
    return rows


def date_block_roster(retreat_id: ObjectId, date_id: ObjectId) -> tuple[str, str, str]:
    """``(csv, ascii_filename, utf8_filename)`` of the block's CONFIRMED and PENDING bookings,
    oldest first. An unknown retreat, or a block that is not one of its own, is 404."""
    retreat = RetreatRepository().get(retreat_id)
    if retreat is None:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    block = next((b for b in retreat.get("dates") or [] if b.get("_id") == date_id), None)
    if block is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    bookings = BookingRepository().list_for_date_block(date_id, ROSTER_STATUSES)
    ascii_name, exact = download_filename("participants", retreat.get("titreCard"), block.get("start"), "csv")
    return french_excel_csv(HEADER, _rows(bookings)), ascii_name, exact


__all__ = ["HEADER", "ROSTER_STATUSES", "date_block_roster", "paid_cents"]
