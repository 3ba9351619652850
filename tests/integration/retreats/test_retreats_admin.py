"""Admin routes of /retreats: access, create, read, update (with the seat rules), delete,
toggle, reserved places."""

from __future__ import annotations

import pytest
from bson import ObjectId

from tests.integration.retreats.support import (
    DATE_KEYS,
    RETREAT_KEYS,
    count,
    counter,
    create,
    date_body,
    hold,
    retreat_body,
    stored,
)
from tests.support.accounts import client_session

SOME_ID = "64b000000000000000000001"
ADMIN_ROUTES = [
    ("GET", "/retreats/admin", None),
    ("GET", "/retreats/admin/search", None),
    ("GET", f"/retreats/admin/{SOME_ID}", None),
    ("POST", "/retreats/admin", retreat_body()),
    ("PATCH", f"/retreats/admin/{SOME_ID}", {"titreCard": "x"}),
    ("DELETE", f"/retreats/admin/{SOME_ID}", None),
    ("PATCH", f"/retreats/admin/{SOME_ID}/toggle-active", None),
    ("GET", f"/retreats/admin/{SOME_ID}/reserved-places", None),
]


def bad_request_messages(response) -> list[str]:
    assert response.status == 400, response.body
    body = response.json()
    assert body["message"] == "Données invalides"
    assert body["details"]["statusCode"] == 400
    assert body["details"]["error"] == "Bad Request"
    message = body["details"]["message"]
    return message if isinstance(message, list) else [message]


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_a_token(api, method, path, body):
    response = api.request(method, path, json=body)
    assert response.status == 401
    assert response.json()["statusCode"] == 401


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_refuse_a_client(make_client, method, path, body):
    client, _ = client_session(make_client)
    response = client.request(method, path, json=body)
    assert response.status == 403
    assert count("retreats") == 0


def test_a_client_bearer_token_is_refused_too(make_client):
    from tests.support.accounts import make_user, sign_in

    client = sign_in(make_client(origin=None), make_user("client"), bearer=True)
    assert client.post("/retreats/admin", json=retreat_body()).status == 403


# --- create -----------------------------------------------------------------------------------


def test_create_returns_201_with_the_stored_retreat(admin):
    body = retreat_body(
        dates=[
            date_body(heureArrivee="9h", prix=749.99, places=12),
            date_body("2027-05-01T08:00:00+02:00", "2027-05-03T18:00:00+02:00", prix=0, places=1),
        ]
    )

    response = admin.post("/retreats/admin", json=body)

    assert response.status == 201
    created = response.json()
    assert set(created) == RETREAT_KEYS
    assert created["titreCard"] == body["titreCard"]
    assert created["imageCard"] == body["imageCard"]
    assert created["altImageCard"] == body["altImageCard"]
    assert created["imageModal"] == body["imageModal"]
    assert created["altImageModal"] == body["altImageModal"]
    assert created["texteModal"] == body["texteModal"]
    assert created["aVenir"] is False  # defaults
    assert created["isActive"] is True
    assert created["createdAt"] == created["updatedAt"] == "2026-12-01T09:00:00.000Z"
    first, second = created["dates"]
    assert set(first) == DATE_KEYS | {"heureArrivee"}
    assert first["heureArrivee"] == "9h"
    assert first["prix"] == 749.99 and first["places"] == 12
    assert set(second) == DATE_KEYS
    assert second["start"] == "2027-05-01T06:00:00.000Z" and second["end"] == "2027-05-03T16:00:00.000Z"
    assert second["prix"] == 0 and second["places"] == 1
    # Stored: integer cents, aware datetimes, ObjectIds.
    doc = stored(created["_id"])
    assert [d["prixCents"] for d in doc["dates"]] == [74999, 0]
    assert all("prix" not in d for d in doc["dates"])
    assert [str(d["_id"]) for d in doc["dates"]] == [first["_id"], second["_id"]]
    # One seat counter per block.
    for block in created["dates"]:
        seat_counter = counter(block["_id"])
        assert seat_counter["retreatId"] == ObjectId(created["_id"])
        assert seat_counter["places"] == block["places"]
        assert seat_counter["held"] == 0


def test_create_coming_soon_without_dates_and_optional_fields(admin):
    created = create(admin, dates=[], aVenir=True, isActive=False, boutonPdfLabel="Le programme", pdfUrl="/docs/programme.pdf")
    assert created["dates"] == []
    assert created["aVenir"] is True
    assert created["isActive"] is False
    assert created["boutonPdfLabel"] == "Le programme"
    assert created["pdfUrl"] == "/docs/programme.pdf"
    assert count("seatcounters") == 0


def test_a_date_id_sent_on_create_is_replaced(admin):
    foreign = str(ObjectId())
    created = create(admin, dates=[date_body(_id=foreign)])
    assert created["dates"][0]["_id"] != foreign
    assert counter(foreign) is None


INVALID_BODIES = [
    ("legacy prix", {"prix": 500}, "property prix should not exist"),
    ("legacy places", {"places": 10}, "property places should not exist"),
    ("legacy adresseRdv", {"adresseRdv": "x"}, "property adresseRdv should not exist"),
    ("unknown field", {"foo": 1}, "property foo should not exist"),
    ("unknown date field", {"dates": [date_body(prixCents=100)]}, "property dates.0.prixCents should not exist"),
    ("missing titreCard", {"titreCard": None}, "titreCard"),
    ("empty titreCard", {"titreCard": "   "}, "titreCard"),
    ("titreCard too long", {"titreCard": "x" * 201}, "titreCard"),
    ("texteModal too long", {"texteModal": "x" * 20001}, "texteModal"),
    ("altImageCard too long", {"altImageCard": "x" * 301}, "altImageCard"),
    ("imageCard not a link", {"imageCard": "javascript:alert(1)"}, "imageCard"),
    ("no modal image", {"imageModal": []}, "imageModal"),
    ("7 modal images", {"imageModal": ["/a.jpg"] * 7}, "imageModal"),
    ("empty modal image", {"imageModal": ["/a.jpg", ""]}, "imageModal.1"),
    ("protocol-relative image", {"imageModal": ["//evil.test/a.jpg"]}, "imageModal.0"),
    ("no alt text", {"altImageModal": []}, "altImageModal"),
    ("7 alt texts", {"altImageModal": ["a"] * 7}, "altImageModal"),
    ("pdfUrl not a link", {"pdfUrl": "data:text/html,x"}, "pdfUrl"),
    ("aVenir as a string", {"aVenir": "true"}, "aVenir"),
    (
        "start after end",
        {"dates": [date_body("2027-03-05T00:00:00Z", "2027-03-04T00:00:00Z")]},
        "La date de début doit être antérieure à la date de fin",
    ),
    (
        "start equals end",
        {"dates": [date_body("2027-03-05T00:00:00Z", "2027-03-05T00:00:00.000Z")]},
        "La date de début doit être antérieure à la date de fin",
    ),
    ("start not a date", {"dates": [date_body(start="demain")]}, "dates.0.start"),
    ("negative price", {"dates": [date_body(prix=-1)]}, "dates.0.prix"),
    ("price with 3 decimals", {"dates": [date_body(prix=10.005)]}, "plus de 2 décimales"),
    ("price as a string", {"dates": [date_body(prix="750")]}, "dates.0.prix"),
    ("no places", {"dates": [date_body(places=0)]}, "dates.0.places"),
    ("fractional places", {"dates": [date_body(places=2.5)]}, "dates.0.places"),
    ("missing adresseRdv", {"dates": [{k: v for k, v in date_body().items() if k != "adresseRdv"}]}, "dates.0.adresseRdv"),
    ("malformed date _id", {"dates": [date_body(_id="123")]}, "ID de date invalide"),
    ("same date _id twice", {"dates": [date_body(_id=SOME_ID), date_body(_id=SOME_ID)]}, "_id en double"),
]


@pytest.mark.parametrize(("case", "change", "expected"), INVALID_BODIES, ids=[c[0] for c in INVALID_BODIES])
def test_create_rejects_invalid_bodies_and_writes_nothing(admin, case, change, expected):
    body = retreat_body(**change)
    body = {k: v for k, v in body.items() if v is not None}

    response = admin.post("/retreats/admin", json=body)

    messages = bad_request_messages(response)
    assert any(expected in m for m in messages), messages
    assert response.json()["details"]["fields"]
    assert count("retreats") == 0
    assert count("seatcounters") == 0


def test_create_rejects_a_body_that_is_not_json(admin):
    response = admin.post("/retreats/admin", body="{nope", headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert count("retreats") == 0


# --- read ---------------------------------------------------------------------------------------


def test_admin_list_has_every_retreat_newest_first(admin, frozen_clock):
    older = create(admin, titreCard="Ancienne", isActive=False)
    frozen_clock.advance(minutes=5)
    newer = create(admin, titreCard="Récente", dates=[date_body("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z")])

    response = admin.get("/retreats/admin")

    assert response.status == 200
    assert response.json() == [newer, older]


def test_admin_get_one(admin):
    created = create(admin, isActive=False)
    assert admin.get(f"/retreats/admin/{created['_id']}").json() == created

    unknown = admin.get(f"/retreats/admin/{ObjectId()}")
    assert unknown.status == 404
    assert unknown.json()["message"] == "Retraite non trouvée"
    assert bad_request_messages(admin.get("/retreats/admin/xyz")) == ["ID de retraite invalide"]


# --- update ---------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(admin, frozen_clock):
    created = create(admin, boutonPdfLabel="Programme", pdfUrl="https://cdn.lutea.test/p.pdf")
    frozen_clock.advance(minutes=10)  # within the access token's 15 minutes

    response = admin.patch(
        f"/retreats/admin/{created['_id']}", json={"titreCard": "Nouveau titre", "pdfUrl": None, "aVenir": True}
    )

    assert response.status == 200
    updated = response.json()
    assert updated["titreCard"] == "Nouveau titre"
    assert updated["aVenir"] is True
    assert "pdfUrl" not in updated  # null removes an optional field
    assert updated["boutonPdfLabel"] == "Programme"
    assert updated["dates"] == created["dates"]
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] == "2026-12-01T09:10:00.000Z"
    assert {k: v for k, v in updated.items() if k not in {"titreCard", "aVenir", "updatedAt"}} == {
        k: v for k, v in created.items() if k not in {"titreCard", "aVenir", "updatedAt", "pdfUrl"}
    }
    assert stored(created["_id"])["titreCard"] == "Nouveau titre"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"prix": 10}, "property prix should not exist"),
        ({"places": 10}, "property places should not exist"),
        ({"adresseRdv": "x"}, "property adresseRdv should not exist"),
        ({"titreCard": None}, "titreCard ne peut pas être null"),
        ({"imageModal": []}, "imageModal"),
        ({"dates": [date_body(places=0)]}, "dates.0.places"),
    ],
)
def test_patch_rejects_invalid_bodies_and_changes_nothing(admin, change, expected):
    created = create(admin)

    response = admin.patch(f"/retreats/admin/{created['_id']}", json=change)

    messages = bad_request_messages(response)
    assert any(expected in m for m in messages), messages
    assert admin.get(f"/retreats/admin/{created['_id']}").json() == created
    assert counter(created["dates"][0]["_id"])["places"] == 10


def test_patch_unknown_or_malformed_id(admin):
    unknown = admin.patch(f"/retreats/admin/{ObjectId()}", json={"titreCard": "x"})
    assert unknown.status == 404
    assert unknown.json()["message"] == "Retraite non trouvée"
    assert bad_request_messages(admin.patch("/retreats/admin/nope", json={"titreCard": "x"})) == ["ID de retraite invalide"]


def test_patch_dates_edits_adds_and_removes_blocks(admin):
    created = create(admin, dates=[date_body(), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    kept, dropped = created["dates"]
    edited = {**kept, "prix": 800.5, "places": 15, "heureDepart": "18h"}
    added = date_body("2027-09-01T09:00:00Z", "2027-09-04T09:00:00Z", places=6)

    response = admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": [edited, added]})

    assert response.status == 200
    first, second = response.json()["dates"]
    assert first == {**kept, "prix": 800.5, "places": 15, "heureDepart": "18h"}
    assert second["_id"] not in {kept["_id"], dropped["_id"]}
    assert second["places"] == 6 and second["prix"] == 750
    assert counter(kept["_id"])["places"] == 15
    assert counter(second["_id"])["places"] == 6 and counter(second["_id"])["held"] == 0
    assert counter(dropped["_id"]) is None
    assert [d["prixCents"] for d in stored(created["_id"])["dates"]] == [80050, 75000]


def test_patch_places_may_go_down_to_the_seats_held(admin):
    created = create(admin)
    block = created["dates"][0]
    hold(block["_id"], 4)

    response = admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": [{**block, "places": 4}]})

    assert response.status == 200
    assert response.json()["dates"][0]["places"] == 4
    assert counter(block["_id"])["places"] == 4


def test_patch_places_below_the_seats_held_is_a_conflict(admin):
    created = create(admin, dates=[date_body(places=20), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    other, block = created["dates"]
    hold(block["_id"], 4)

    response = admin.patch(
        f"/retreats/admin/{created['_id']}",
        json={"titreCard": "Changé", "dates": [{**other, "places": 12}, {**block, "places": 3}]},
    )

    assert response.status == 409
    assert response.json()["message"] == (
        "Impossible de fixer 3 place(s) pour la date du 01/06/2027 : 4 place(s) déjà réservée(s)"
    )
    # Nothing changed: neither the retreat nor any counter.
    assert admin.get(f"/retreats/admin/{created['_id']}").json() == created
    assert counter(other["_id"])["places"] == 20
    assert counter(block["_id"])["places"] == 10
    assert counter(block["_id"])["held"] == 4


def test_removing_a_block_that_holds_seats_is_a_conflict(admin):
    created = create(admin, dates=[date_body(), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    kept, busy = created["dates"]
    hold(busy["_id"], 1)

    response = admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": [kept]})

    assert response.status == 409
    assert response.json()["message"] == "Impossible de supprimer la date du 01/06/2027 : 1 place(s) déjà réservée(s)"
    assert admin.get(f"/retreats/admin/{created['_id']}").json() == created
    assert counter(busy["_id"])["held"] == 1

    # Removing every block (dates: []) is refused the same way.
    assert admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": []}).status == 409
    assert counter(kept["_id"]) is not None


def test_a_block_sent_with_an_unknown_id_is_a_new_block(admin):
    created = create(admin)
    stranger = date_body(_id=SOME_ID)

    response = admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": [created["dates"][0], stranger]})

    assert response.status == 200
    new_block = response.json()["dates"][1]
    assert new_block["_id"] != SOME_ID
    assert counter(SOME_ID) is None
    assert counter(new_block["_id"])["retreatId"] == ObjectId(created["_id"])


def test_patch_gives_a_counter_to_an_older_block_that_has_none(admin):
    from lutea.data.mongo import get_db

    created = create(admin)
    block = created["dates"][0]
    get_db()["seatcounters"].delete_many({})

    response = admin.patch(f"/retreats/admin/{created['_id']}", json={"dates": [{**block, "places": 7}]})

    assert response.status == 200
    assert counter(block["_id"])["places"] == 7
    assert counter(block["_id"])["held"] == 0


# --- delete ---------------------------------------------------------------------------------------


def test_delete_removes_the_retreat_and_its_counters(admin):
    created = create(admin, dates=[date_body(), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    keep = create(admin, titreCard="Autre")

    response = admin.delete(f"/retreats/admin/{created['_id']}")

    assert response.status == 204
    assert response.body == ""
    assert stored(created["_id"]) is None
    assert all(counter(d["_id"]) is None for d in created["dates"])
    assert counter(keep["dates"][0]["_id"]) is not None
    assert admin.get(f"/retreats/admin/{created['_id']}").status == 404


def test_delete_is_refused_while_seats_are_held(admin):
    created = create(admin, dates=[date_body(), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    hold(created["dates"][1]["_id"], 2)

    response = admin.delete(f"/retreats/admin/{created['_id']}")

    assert response.status == 409
    assert response.json()["message"] == ("Impossible de supprimer une retraite qui a des réservations en cours ou confirmées")
    assert stored(created["_id"]) is not None
    assert counter(created["dates"][0]["_id"])["places"] == 10
    assert counter(created["dates"][1]["_id"])["held"] == 2


def test_delete_unknown_or_malformed(admin):
    response = admin.delete(f"/retreats/admin/{ObjectId()}")
    assert response.status == 404
    assert response.json()["message"] == "Retraite non trouvée"
    assert bad_request_messages(admin.delete("/retreats/admin/1234")) == ["ID de retraite invalide"]


# --- toggle ---------------------------------------------------------------------------------------


def test_toggle_active_flips_visibility(admin, api, frozen_clock):
    created = create(admin)
    frozen_clock.advance(minutes=1)

    hidden = admin.patch(f"/retreats/admin/{created['_id']}/toggle-active")
    assert hidden.status == 200
    assert hidden.json() == {**created, "isActive": False, "updatedAt": "2026-12-01T09:01:00.000Z"}
    assert api.get("/retreats/public").json() == []
    assert api.get(f"/retreats/public/{created['_id']}").status == 404

    shown = admin.patch(f"/retreats/admin/{created['_id']}/toggle-active")
    assert shown.json()["isActive"] is True
    assert [r["_id"] for r in api.get("/retreats/public").json()] == [created["_id"]]


def test_toggle_unknown_or_malformed(admin):
    assert admin.patch(f"/retreats/admin/{ObjectId()}/toggle-active").status == 404
    assert bad_request_messages(admin.patch("/retreats/admin/x/toggle-active")) == ["ID de retraite invalide"]


# --- reserved places ------------------------------------------------------------------------------


def test_reserved_places_per_date_and_in_total(admin):
    created = create(admin, dates=[date_body(), date_body("2027-06-01T09:00:00Z", "2027-06-03T09:00:00Z")])
    first, second = created["dates"]
    hold(first["_id"], 3)
    hold(second["_id"], 2)
    hold(second["_id"], 1)
    path = f"/retreats/admin/{created['_id']}/reserved-places"

    assert admin.get(path).json() == {"placesReservees": 6}
    assert admin.get(path, query={"date": "2027-03-01T09:00:00.000Z"}).json() == {"placesReservees": 3}
    # The same instant in another ISO form.
    assert admin.get(path, query={"date": "2027-06-01T11:00:00+02:00"}).json() == {"placesReservees": 3}
    assert admin.get(path, query={"date": "2027-06-01T09:00:01Z"}).json() == {"placesReservees": 0}


def test_reserved_places_errors(admin):
    created = create(admin)
    bad_date = admin.get(f"/retreats/admin/{created['_id']}/reserved-places", query={"date": "hier"})
    assert bad_request_messages(bad_date) == ["Date invalide"]
    assert admin.get(f"/retreats/admin/{ObjectId()}/reserved-places").status == 404
    assert bad_request_messages(admin.get("/retreats/admin/x/reserved-places")) == ["ID de retraite invalide"]


# --- guards before validation, no operators into queries -------------------------------------------


def test_guards_run_before_validation(api, make_client):
    assert api.post("/retreats/admin", json={"prix": 1}).status == 401
    client, _ = client_session(make_client)
    assert client.post("/retreats/admin", json={"prix": 1}).status == 403
    assert client.get("/retreats/admin/not-an-id").status == 403


def test_an_object_where_a_string_is_expected_is_refused(admin):
    response = admin.post("/retreats/admin", json=retreat_body(titreCard={"$gt": ""}))
    assert bad_request_messages(response) == ["titreCard: Input should be a valid string"]
    assert count("retreats") == 0
