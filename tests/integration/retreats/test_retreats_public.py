"""GET /retreats/public and /retreats/public/:id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from lutea.data.mongo import get_db

from tests.integration.retreats.support import DATE_KEYS, RETREAT_KEYS, create, date_body


def test_public_list_keeps_active_retreats_coming_soon_or_with_a_future_date(api, admin, frozen_clock):
    # frozen clock: 2026-12-01T09:00Z
    future = create(admin, titreCard="Future")
    coming_soon = create(admin, titreCard="Bientôt", aVenir=True, dates=[])
    create(admin, titreCard="Passée", dates=[date_body("2026-11-01T09:00:00Z", "2026-11-03T09:00:00Z")])
    create(admin, titreCard="Cachée", isActive=False)
    create(admin, titreCard="Sans date", dates=[])
    mixed = create(
        admin,
        titreCard="Mixte",
        dates=[
            date_body("2026-11-01T09:00:00Z", "2026-11-03T09:00:00Z"),
            date_body("2026-12-01T09:00:01Z", "2026-12-03T09:00:00Z"),
        ],
    )
    # starts exactly now: not "in the future"
    create(admin, titreCard="Maintenant", dates=[date_body("2026-12-01T09:00:00Z", "2026-12-03T09:00:00Z")])

    response = api.get("/retreats/public")

    assert response.status == 200
    # The original's order: no sort (insertion order).
    assert [r["titreCard"] for r in response.json()] == ["Future", "Bientôt", "Mixte"]
    assert [r["_id"] for r in response.json()] == [future["_id"], coming_soon["_id"], mixed["_id"]]


def test_public_list_item_shape(api, admin):
    created = create(
        admin,
        boutonPdfLabel="Programme",
        pdfUrl="https://cdn.lutea.test/programme.pdf",
        dates=[date_body(heureArrivee="10h00", heureDepart="17h30", prix=749.5, places=12)],
    )

    [item] = api.get("/retreats/public").json()

    assert set(item) == RETREAT_KEYS | {"boutonPdfLabel", "pdfUrl"}
    assert item["_id"] == created["_id"]
    assert item["titreCard"] == "Retraite Yoga & Pilates"
    assert item["imageCard"] == "https://cdn.lutea.test/card.jpg"
    assert item["altImageCard"] == "Une salle de yoga"
    assert item["imageModal"] == ["/images/retreats/1.jpg", "https://cdn.lutea.test/2.jpg"]
    assert item["altImageModal"] == ["Vue du mas", "Atelier"]
    assert item["texteModal"] == "Trois jours de yoga, de pilates et d'ateliers."
    assert item["boutonPdfLabel"] == "Programme"
    assert item["pdfUrl"] == "https://cdn.lutea.test/programme.pdf"
    assert item["aVenir"] is False
    assert item["isActive"] is True
    assert item["createdAt"] == item["updatedAt"] == "2026-12-01T09:00:00.000Z"
    [block] = item["dates"]
    assert set(block) == DATE_KEYS | {"heureArrivee", "heureDepart"}
    assert ObjectId.is_valid(block["_id"])
    assert block["start"] == "2027-03-01T09:00:00.000Z"
    assert block["end"] == "2027-03-04T16:00:00.000Z"
    assert block["heureArrivee"] == "10h00"
    assert block["heureDepart"] == "17h30"
    assert block["prix"] == 749.5
    assert block["places"] == 12
    assert block["adresseRdv"] == "Mas des Oliviers, Grabels"


def test_legacy_top_level_fields_are_shown_as_stored(api, frozen_clock):
    retreat_id, date_id = ObjectId(), ObjectId()
    stamp = datetime(2025, 5, 1, tzinfo=UTC)
    get_db()["retreats"].insert_one(
        {
            "_id": retreat_id,
            "titreCard": "Ancienne",
            "imageCard": "/a.jpg",
            "altImageCard": "a",
            "imageModal": ["/a.jpg"],
            "altImageModal": ["a"],
            "texteModal": "t",
            "prix": 450,
            "places": 8,
            "adresseRdv": "Ancienne adresse",
            "dates": [
                {
                    "_id": date_id,
                    "start": datetime(2027, 1, 1, tzinfo=UTC),
                    "end": datetime(2027, 1, 2, tzinfo=UTC),
                    "prixCents": 45000,
                    "places": 8,
                    "adresseRdv": "Mas",
                }
            ],
            "aVenir": False,
            "isActive": True,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
    )

    [item] = api.get("/retreats/public").json()

    assert item["prix"] == 450
    assert item["places"] == 8
    assert item["adresseRdv"] == "Ancienne adresse"
    assert item["dates"] == [
        {
            "_id": str(date_id),
            "start": "2027-01-01T00:00:00.000Z",
            "end": "2027-01-02T00:00:00.000Z",
            "prix": 450,
            "places": 8,
            "adresseRdv": "Mas",
        }
    ]
    assert item["createdAt"] == "2025-05-01T00:00:00.000Z"


def test_public_detail(api, admin):
    created = create(admin)

    response = api.get(f"/retreats/public/{created['_id']}")

    assert response.status == 200
    assert response.json() == created


def test_public_detail_of_an_inactive_retreat_is_not_found(api, admin):
    hidden = create(admin, isActive=False)

    response = api.get(f"/retreats/public/{hidden['_id']}")

    assert response.status == 404
    assert response.json()["message"] == "Retraite non trouvée"
    assert response.json()["statusCode"] == 404
    assert response.json()["path"] == f"/retreats/public/{hidden['_id']}"


def test_public_detail_unknown_and_malformed_ids(api):
    unknown = api.get(f"/retreats/public/{ObjectId()}")
    assert unknown.status == 404
    assert unknown.json()["message"] == "Retraite non trouvée"

    malformed = api.get("/retreats/public/not-an-id")
    assert malformed.status == 400
    assert malformed.json()["message"] == "Données invalides"
    assert malformed.json()["details"] == {"statusCode": 400, "message": "ID de retraite invalide", "error": "Bad Request"}


def test_public_list_is_one_query_for_2000_retreats(api, frozen_clock, monkeypatch):
    from lutea.data import retreats as retreats_data
    from lutea.domain import retreats as domain

    now = frozen_clock.current
    docs = []
    for n in range(2000):
        start = now + timedelta(days=(n % 40) - 10)  # a quarter of them in the past
        docs.append(
            {
                "_id": ObjectId(),
                "titreCard": f"Retraite {n}",
                "imageCard": "/c.jpg",
                "altImageCard": "c",
                "imageModal": ["/m.jpg"],
                "altImageModal": ["m"],
                "texteModal": "texte " * 50,
                "dates": [
                    {
                        "_id": ObjectId(),
                        "start": start,
                        "end": start + timedelta(days=2),
                        "prixCents": 50000 + n,
                        "places": 10,
                        "adresseRdv": "Mas",
                    }
                ],
                "aVenir": False,
                "isActive": n % 10 != 0,
                "createdAt": now,
                "updatedAt": now,
            }
        )
    get_db()["retreats"].insert_many(docs)
    expected = [str(d["_id"]) for d in docs if d["isActive"] and d["dates"][0]["start"] > now]

    calls = {"list_public": 0}
    original = retreats_data.RetreatRepository.list_public

    def counting(self, when):
        calls["list_public"] += 1
        return original(self, when)

    def forbidden(*_args, **_kwargs):
        raise AssertionError("no per-retreat query on the public list")

    monkeypatch.setattr(retreats_data.RetreatRepository, "list_public", counting)
    monkeypatch.setattr(retreats_data.RetreatRepository, "get", forbidden)
    monkeypatch.setattr(domain, "SeatRepository", forbidden)

    response = api.get("/retreats/public")

    assert response.status == 200
    assert [r["_id"] for r in response.json()] == expected
    assert calls == {"list_public": 1}
    # Unchanged catalogue: the next request reads only the (id, updatedAt) pairs.
    assert [r["_id"] for r in api.get("/retreats/public").json()] == expected
    assert calls == {"list_public": 1}


def test_public_list_follows_every_change_of_the_catalogue(api, admin, frozen_clock):
    first = create(admin, titreCard="Avant", dates=[date_body("2026-12-10T09:00:00Z", "2026-12-12T09:00:00Z")])
    second = create(admin, titreCard="Seconde")
    assert [r["titreCard"] for r in api.get("/retreats/public").json()] == ["Avant", "Seconde"]

    frozen_clock.advance(seconds=1)
    assert admin.patch(f"/retreats/admin/{first['_id']}", json={"titreCard": "Après"}).status == 200
    assert [r["titreCard"] for r in api.get("/retreats/public").json()] == ["Après", "Seconde"]

    frozen_clock.advance(seconds=1)
    assert admin.patch(f"/retreats/admin/{second['_id']}/toggle-active").status == 200
    assert [r["titreCard"] for r in api.get("/retreats/public").json()] == ["Après"]

    frozen_clock.set(datetime(2026, 12, 10, 9, 0, 1, tzinfo=UTC))  # its only date has started
    assert api.get("/retreats/public").json() == []

    frozen_clock.set(datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC))
    assert admin.delete(f"/retreats/admin/{first['_id']}").status == 204
    assert api.get("/retreats/public").json() == []
