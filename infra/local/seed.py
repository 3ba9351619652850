"""Demo data for ``make dev``: an admin account and three retreats with future dates.
Idempotent: a second start does not duplicate the retreats."""

from __future__ import annotations

import os
from datetime import timedelta

from lutea.clock import now
from lutea.data.mongo import get_db

DEFAULT_ADMIN_EMAIL = "admin@lutea.local"
DEFAULT_ADMIN_PASSWORD = "Admin!2345678"

_RETREATS = [
    (
        "Retraite Yoga & Méditation",
        "/images/yoga.jpg",
        "Une semaine de yoga doux et de méditation en Occitanie.",
        45,
        320.0,
        12,
        "40 impasse Antoine de Saporta, 34790 Grabels",
    ),
    (
        "Jeûne & Randonnée",
        "/images/jeune.jpg",
        "Jeûne accompagné et randonnées dans les Cévennes.",
        75,
        490.0,
        10,
        "Mas des Cévennes, 30270 Saint-Jean-du-Gard",
    ),
    (
        "Week-end Sophrologie",
        "/images/sophro.jpg",
        "Deux jours pour apprendre à se détendre — au bord de la mer.",
        20,
        180.5,
        15,
        "Domaine de l'Étang, 34250 Palavas-les-Flots",
    ),
]


def _retreat_body(title: str, image: str, text: str, days_ahead: int, price_euros: float, places: int, address: str) -> dict:
    start = (now() + timedelta(days=days_ahead)).replace(hour=14, minute=0, second=0, microsecond=0)
    later = start + timedelta(days=30)
    return {
        "titreCard": title,
        "imageCard": image,
        "altImageCard": title,
        "imageModal": [image],
        "altImageModal": [title],
        "texteModal": text,
        "dates": [
            {
                "start": start.isoformat(),
                "end": (start + timedelta(days=2)).isoformat(),
                "heureArrivee": "14h00",
                "heureDepart": "16h00",
                "prix": price_euros,
                "places": places,
                "adresseRdv": address,
            },
            {
                "start": later.isoformat(),
                "end": (later + timedelta(days=2)).isoformat(),
                "heureArrivee": "14h00",
                "heureDepart": "16h00",
                "prix": price_euros,
                "places": places,
                "adresseRdv": address,
            },
        ],
    }


def seed_demo_data() -> list[str]:
    from lutea.domain.accounts import ensure_admin
    from lutea.domain.retreats import create_retreat
    from lutea.schemas.retreats import RetreatCreate
    from lutea.validation import parse

    from infra.local.gateway import ROOT, load_function_module

    handler = load_function_module(ROOT / "functions" / "retreats")  # its conversion of a body

    email = os.environ.get("ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
    password = os.environ.get("ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
    ensure_admin(email, password, "Admin", "Lutea")
    created = 0
    if get_db()["retreats"].count_documents({}) == 0:
        for spec in _RETREATS:
            create_retreat(handler.retreat_draft(parse(RetreatCreate, _retreat_body(*spec))))
            created += 1
    return [
        f"Demo admin: {email} / {password} (2FA codes arrive in the outbox)",
        f"Demo retreats: {created} created" if created else "Demo retreats: already present",
    ]
