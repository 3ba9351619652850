"""GET /retreats/admin/search: literal title, status, price range over every date block."""

from __future__ import annotations

import pytest

from tests.integration.retreats.support import create, date_body


def titles(response) -> list[str]:
    assert response.status == 200, response.body
    return [r["titreCard"] for r in response.json()]


def search(admin, **query):
    return admin.get("/retreats/admin/search", query=query)


def test_search_is_not_shadowed_and_lists_everything_without_criteria(admin, frozen_clock):
    create(admin, titreCard="Un")
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Deux", isActive=False)
    assert titles(search(admin)) == ["Deux", "Un"]


def test_title_is_a_case_insensitive_literal_substring(admin, frozen_clock):
    create(admin, titreCard="Yoga à la Mer")
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Pilates (niveau 2) + yoga")
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Méditation")

    assert titles(search(admin, titreCard="YOGA")) == ["Pilates (niveau 2) + yoga", "Yoga à la Mer"]
    assert titles(search(admin, titreCard="(niveau 2) +")) == ["Pilates (niveau 2) + yoga"]
    # Regex syntax is text: ".*" matches only a title containing ".*" literally.
    assert titles(search(admin, titreCard=".*")) == []
    assert titles(search(admin, titreCard="[a-z]")) == []
    assert titles(search(admin, titreCard="^Yoga")) == []


def test_title_with_regex_characters_matches_literally(admin):
    create(admin, titreCard="Offre spéciale .* -50%")
    create(admin, titreCard="Offre spéciale")
    assert titles(search(admin, titreCard=".*")) == ["Offre spéciale .* -50%"]


def test_status(admin, frozen_clock):
    create(admin, titreCard="Active")
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Inactive", isActive=False)

    assert titles(search(admin, statut="active")) == ["Active"]
    assert titles(search(admin, statut="inactive")) == ["Inactive"]
    assert titles(search(admin, statut="n'importe")) == ["Inactive"]
    assert titles(search(admin, statut="")) == ["Inactive", "Active"]


def test_price_range_applies_to_every_date_block(admin, frozen_clock):
    def at(prices: list[float]) -> list[dict]:
        return [date_body(f"2027-0{n + 1}-01T09:00:00Z", f"2027-0{n + 1}-03T09:00:00Z", prix=p) for n, p in enumerate(prices)]

    create(admin, titreCard="Bon marché", dates=at([300, 350]))
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Mixte", dates=at([300, 900]))
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Chère", dates=at([900.5]))
    frozen_clock.advance(minutes=1)
    create(admin, titreCard="Sans dates", dates=[], aVenir=True)

    assert titles(search(admin, prixMin="300", prixMax="350")) == ["Bon marché"]
    assert titles(search(admin, prixMin="299.99", prixMax="350.01")) == ["Bon marché"]
    assert titles(search(admin, prixMin="300.01")) == ["Chère"]
    assert titles(search(admin, prixMax="900.49")) == ["Mixte", "Bon marché"]
    assert titles(search(admin, prixMax="899.99")) == ["Bon marché"]
    assert titles(search(admin, prixMax="900.5")) == ["Chère", "Mixte", "Bon marché"]
    assert titles(search(admin, prixMin="0")) == ["Chère", "Mixte", "Bon marché"]
    assert titles(search(admin, prixMin="1000")) == []


def test_criteria_combine(admin):
    create(admin, titreCard="Yoga active", dates=[date_body(prix=400)])
    create(admin, titreCard="Yoga cachée", isActive=False, dates=[date_body(prix=400)])
    create(admin, titreCard="Pilates", dates=[date_body(prix=400)])
    assert titles(search(admin, titreCard="yoga", statut="active", prixMax="500")) == ["Yoga active"]


@pytest.mark.parametrize("name", ["prixMin", "prixMax"])
def test_a_price_bound_that_is_not_a_number_is_refused(admin, name):
    response = search(admin, **{name: "beaucoup"})
    assert response.status == 400
    assert response.json()["details"]["message"] == f"{name} doit être un nombre"


def test_a_legacy_block_priced_in_euros_is_judged_by_its_euros(admin):
    from datetime import UTC, datetime

    from bson import ObjectId
    from lutea.data.mongo import get_db

    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    get_db()["retreats"].insert_one(
        {
            "_id": ObjectId(),
            "titreCard": "Ancienne",
            "imageCard": "/a.jpg",
            "altImageCard": "a",
            "imageModal": ["/a"],
            "altImageModal": ["a"],
            "texteModal": "t",
            "isActive": True,
            "aVenir": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "dates": [{"_id": ObjectId(), "start": stamp, "end": stamp, "prix": 450, "places": 5, "adresseRdv": "x"}],
        }
    )
    assert titles(search(admin, prixMin="400", prixMax="500")) == ["Ancienne"]
    assert titles(search(admin, prixMin="460")) == []
