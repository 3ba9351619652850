"""The booking confirmation PDF: its text (extracted back with pypdf) and its file name."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from lutea.pdf.booking_confirmation import content_disposition, format_euros, pdf_filename, render_booking_pdf

BOOKING_ID = ObjectId("65a1b2c3d4e5f60718293a4b")


def booking(**fields) -> dict:
    doc = {
        "_id": BOOKING_ID,
        "retreatName": "Retraite Œuvre d'Été — Cévennes",
        "retreatAddress": "Mas de l'Étoile, 30170 Saint-Hippolyte-du-Fort",
        "retreatHeureArrivee": "10h00",
        "retreatHeureDepart": "17h30",
        # 23:30 UTC on the 31st is the 1st of January in Paris.
        "dateStart": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
        "dateEnd": datetime(2027, 1, 3, 15, 0, tzinfo=UTC),
        "nbPlaces": 2,
        "prixTotalCents": 125050,
        "participants": [
            {"_id": ObjectId(), "prenom": "Zoé", "nom": "Lefèvre", "email": "zoe@example.test"},
            {"_id": ObjectId(), "prenom": "Jérôme", "nom": "Bœuf-Ångström", "email": "jb@example.test"},
        ],
        "billingAddress": {
            "address": "12 rue de l'Église",
            "city": "Montpellier",
            "postalCode": "34000",
            "country": "France",
            "phone": "+33 6 00 00 00 00",
        },
        "statut": "CONFIRMED",
        "statutPaiement": "PAID",
        "createdAt": datetime(2026, 11, 30, 23, 15, tzinfo=UTC),
    }
    doc.update(fields)
    return doc


def text_of(pdf: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_carries_the_booking_in_unicode():
    pdf = render_booking_pdf(booking())

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "CONFIRMATION DE RÉSERVATION" in text
    assert "Paiement effectué le 01/12/2026" in text  # createdAt in Paris
    assert f"Référence : {BOOKING_ID}" in text
    assert "Statut : Confirmée" in text
    assert "Retraite Œuvre d'Été — Cévennes" in text
    assert "Du 01/01/2027 au 03/01/2027" in text
    assert "Rendez-vous : 10h00 — Départ : 17h30" in text
    assert "Mas de l'Étoile, 30170 Saint-Hippolyte-du-Fort" in text
    assert "PARTICIPANTS (2 places)" in text
    assert "Zoé Lefèvre — zoe@example.test" in text
    assert "Jérôme Bœuf-Ångström — jb@example.test" in text
    assert "1 250,50 €" in text
    assert "12 rue de l'Église" in text and "34000 Montpellier" in text
    assert "SIRET" in text


def test_company_details_and_inclusions_come_from_configuration_and_the_retreat(monkeypatch):
    from lutea import config

    for name, value in {
        "COMPANY_NAME": "Lutea SAS",
        "COMPANY_ADDRESS": "1 place de la Comédie, 34000 Montpellier",
        "COMPANY_SIRET": "98765432109876",
        "COMPANY_PHONE": "+33 4 00 00 00 00",
        "COMPANY_EMAIL": "bonjour@lutea.example",
    }.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()
    try:
        text = text_of(render_booking_pdf(booking(retreatPrestationsIncluses="Hébergement en yourte, repas bio.")))
    finally:
        monkeypatch.undo()
        config.reset_settings()
    assert "Entreprise : Lutea SAS" in text and "1 place de la Comédie, 34000 Montpellier" in text
    assert "SIRET : 98765432109876" in text
    assert "Email : bonjour@lutea.example" in text and "Téléphone : +33 4 00 00 00 00" in text
    assert "PRESTATIONS INCLUSES" in text and "Hébergement en yourte, repas bio." in text
    # nothing left of the original's placeholder company nor of one sentence for every retreat
    assert "12345678901234" not in text and "lutea.montpellier@gmail.com" not in text
    assert "cours de yoga & de pilates" not in text


def test_without_configuration_the_company_is_obviously_local_and_no_inclusions_are_invented():
    text = text_of(render_booking_pdf(booking()))
    assert "Lutea (local)" in text and "SIRET non configuré" in text
    assert "PRESTATIONS INCLUSES" not in text


def test_a_booking_not_yet_paid_and_without_optional_fields():
    minimal = booking(
        statut="PENDING",
        statutPaiement="PENDING",
        prixTotalCents=75000,
        nbPlaces=1,
        participants=[{"prenom": "Anaïs", "nom": "Noël", "email": "a@example.test"}],
    )
    for name in ("retreatAddress", "retreatHeureArrivee", "retreatHeureDepart", "billingAddress"):
        minimal.pop(name)

    text = text_of(render_booking_pdf(minimal))

    assert "Paiement effectué" not in text
    assert "Réservation enregistrée le 01/12/2026" in text
    assert "Statut : En attente de paiement" in text
    assert "Lieu non disponible" in text
    assert "Rendez-vous" not in text
    assert "PARTICIPANTS (1 place)" in text
    assert "Anaïs Noël" in text
    assert "750 €" in text


def test_many_participants_and_long_values_flow_onto_more_pages():
    people = [{"prenom": f"Prénom{n}", "nom": "Élise " * 12, "email": f"{'x' * 60}{n}@example.test"} for n in range(20)]
    pdf = render_booking_pdf(booking(participants=people, nbPlaces=20, retreatName="Très " * 60))

    import pypdf

    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 2
    assert "Prénom19" in text_of(pdf)


def test_filename_as_the_original_with_an_ascii_fallback():
    ascii_name, exact = pdf_filename(booking())
    assert exact == "confirmation-retraite-œuvre-d'été-—-cévennes-01-01-2027.pdf"
    assert ascii_name == "confirmation-retraite-oeuvre-d'ete--cevennes-01-01-2027.pdf"
    assert ascii_name.isascii()


def test_filename_collapses_whitespace_runs_and_strips_unsafe_ascii():
    ascii_name, exact = pdf_filename(
        booking(retreatName='Yoga   \t Mer "Bleue"/Sud', dateStart=datetime(2027, 7, 14, 8, tzinfo=UTC))
    )
    assert exact == 'confirmation-yoga-mer-"bleue"/sud-14-07-2027.pdf'
    assert ascii_name == "confirmation-yoga-mer-bleuesud-14-07-2027.pdf"
    assert pdf_filename(booking(retreatName=None))[1] == "confirmation-retraite-01-01-2027.pdf"


def test_content_disposition_follows_rfc_6266():
    assert content_disposition(booking(retreatName="Été")) == (
        "attachment; filename=\"confirmation-ete-01-01-2027.pdf\"; filename*=UTF-8''confirmation-%C3%A9t%C3%A9-01-01-2027.pdf"
    )


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0 €"), (75000, "750 €"), (1999, "19,99 €"), (125050, "1 250,50 €"), (123456789, "1 234 567,89 €")]
)
def test_format_euros(cents, text):
    assert format_euros(cents) == text


def test_fpdf_is_not_imported_by_the_module():
    import subprocess
    import sys
    from pathlib import Path

    layer = Path(__file__).resolve().parents[3] / "layers" / "shared"
    code = "import sys; import lutea.pdf.booking_confirmation; print('fpdf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(layer)}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
