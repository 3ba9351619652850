"""The booking confirmation PDF (attached to the confirmation email, downloaded from
GET /bookings/:id/pdf), with the content of the original's pdf-generator.service.ts plus the
booking reference and its participants.

fpdf2 is imported inside ``render_booking_pdf`` (~0.4 s cold): only the functions that render
a PDF pay for it. The text is set in DejaVu Sans, shipped in ``fonts/``: the PDF core fonts are
Latin-1 only ("€", "—", "Œ" would fail) and Lambda has no system fonts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lutea.clock import as_utc
from lutea.config import get_settings
from lutea.filenames import attachment, download_filename, paris_day
from lutea.money import format_euros

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
PARIS = ZoneInfo("Europe/Paris")

CANCELLATION_TERMS = "En cas de force majeure ou sur présentation d'un justificatif médical, contactez-nous."

STATUS_LABELS = {"PENDING": "En attente de paiement", "CONFIRMED": "Confirmée", "CANCELLED": "Annulée"}

# Colours of the original (Lutea green).
PRIMARY = (129, 160, 133)
TITLE = (78, 99, 81)
TEXT = (51, 51, 51)
BORDER = (217, 217, 217)


# --- Formatting ---------------------------------------------------------------------------


def company() -> dict[str, str]:
    """The company printed on the document, from configuration (``COMPANY_*``)."""
    s = get_settings()
    return {
        "name": s.company_name,
        "address": s.company_address,
        "siret": s.company_siret,
        "phone": s.company_phone,
        "email": s.company_email,
    }


# --- File name ----------------------------------------------------------------------------


def pdf_filename(booking: Mapping[str, Any]) -> tuple[str, str]:
    """(ASCII ``filename``, exact UTF-8 name for RFC 6266 ``filename*``):
    ``confirmation-<slug>-<dd-mm-yyyy>.pdf`` (lutea.filenames)."""
    return download_filename("confirmation", booking.get("retreatName"), booking.get("dateStart"), "pdf")


def content_disposition(booking: dict) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<exact, percent-encoded>``."""
    return attachment(*pdf_filename(booking))


# --- Rendering ----------------------------------------------------------------------------


def _schedule(booking: Mapping[str, Any]) -> str | None:
    arrival, departure = booking.get("retreatHeureArrivee"), booking.get("retreatHeureDepart")
    if arrival and departure:
        return f"Rendez-vous : {arrival} — Départ : {departure}"
    if arrival:
        return f"Rendez-vous : {arrival}"
    if departure:
        return f"Départ : {departure}"
    return None


def render_booking_pdf(booking: Mapping[str, Any]) -> bytes:
    """The confirmation of ``booking`` (a stored booking document) as PDF bytes."""
    from fpdf import FPDF  # heavy: imported only where a PDF is made

    seller = company()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font(FONT, "", str(FONTS_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Confirmation de réservation — {booking.get('retreatName') or 'Retraite'}")
    pdf.set_author(seller["name"])
    pdf.set_creator(seller["name"])
    created = booking.get("createdAt")
    if isinstance(created, datetime):
        pdf.set_creation_date(as_utc(created))
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.set_text_color(*TITLE)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def line(text: str, size: float = 11, bold: bool = False) -> None:
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*TEXT)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")

    def rule(colour: tuple[int, int, int], width: float) -> None:
        pdf.ln(3)
        pdf.set_draw_color(*colour)
        pdf.set_line_width(width)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)

    pdf.set_font(FONT, "B", 18)
    pdf.set_text_color(*TITLE)
    pdf.multi_cell(0, 9, "CONFIRMATION DE RÉSERVATION", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if booking.get("statutPaiement") == "PAID":
        line(f"Paiement effectué le {paris_day(created)}")
    else:
        line(f"Réservation enregistrée le {paris_day(created)}")
    line(f"Référence : {booking.get('_id', '')}")
    statut = booking.get("statut")
    if statut:
        line(f"Statut : {STATUS_LABELS.get(statut, statut)}")
    rule(PRIMARY, 0.7)

    heading("PRESTATION")
    line(str(booking.get("retreatName") or "Retraite"), size=14, bold=True)

    heading("DATES ET HORAIRES")
    line(f"Du {paris_day(booking.get('dateStart'))} au {paris_day(booking.get('dateEnd'))}")
    schedule = _schedule(booking)
    if schedule:
        line(schedule)

    heading("LIEU DE RENDEZ-VOUS")
    line(str(booking.get("retreatAddress") or "Lieu non disponible"))

    participants = booking.get("participants") or []
    places = booking.get("nbPlaces") or len(participants)
    heading(f"PARTICIPANTS ({places} place{'s' if places != 1 else ''})")
    for person in participants:
        name = f"{person.get('prenom', '')} {person.get('nom', '')}".strip()
        email = person.get("email")
        line(f"• {name} — {email}" if email else f"• {name}")

    heading("PRIX TOTAL TTC")
    line(format_euros(int(booking.get("prixTotalCents") or 0)))

    billing = booking.get("billingAddress") or {}
    if billing:
        heading("ADRESSE DE FACTURATION")
        line(str(billing.get("address", "")))
        line(f"{billing.get('postalCode', '')} {billing.get('city', '')}".strip())
        if billing.get("country"):
            line(str(billing["country"]))
        if billing.get("phone"):
            line(f"Téléphone : {billing['phone']}")

    heading("COORDONNÉES DE CONTACT")
    line(f"Email : {seller['email']}")
    if seller["phone"]:
        line(f"Téléphone : {seller['phone']}")

    heading("CONDITIONS D'ANNULATION / REMBOURSEMENT")
    from lutea.refund_policy import booking_policy_text

    line(booking_policy_text(booking), size=10)  # the same tiers as the cancellation routes
    line(CANCELLATION_TERMS, size=10)

    included = str(booking.get("retreatPrestationsIncluses") or "").strip()
    if included:  # what this retreat includes, as its admin wrote it (no sentence for all)
        heading("PRESTATIONS INCLUSES")
        line(included, size=10)

    rule(BORDER, 0.3)
    pdf.set_font(FONT, "B", 18)
    pdf.set_text_color(*TITLE)
    pdf.cell(0, 10, "LUTEA", align="C", new_x="LMARGIN", new_y="NEXT")
    line(f"Entreprise : {seller['name']}", size=9)
    line(f"Adresse : {seller['address']}", size=9)
    line(f"SIRET : {seller['siret']}", size=9)
    return bytes(pdf.output())


__all__ = ["company", "content_disposition", "format_euros", "paris_day", "pdf_filename", "render_booking_pdf"]
