"""Admin lists at scale (pages, filters, totals) and the CSV roster of a date block
(docs/admin-lists.md). Without page/limit every list answers as the original did."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from bson import ObjectId

from tests.support.accounts import admin_session, make_user
from tests.support.catalogue import START, booking_body, insert_retreat


@pytest.fixture
def admin(make_client, frozen_clock):
    client, _ = admin_session(make_client)
    return client


def _book(make_client, retreat, frozen_clock, *, nb=1, block=0, **overrides):
    frozen_clock.advance(seconds=1)  # distinct createdAt: a deterministic order
    response = make_client().post("/bookings", json=booking_body(retreat, nb, block=block, **overrides))
    assert response.status == 201, response.body
    return response.json()


def _manual(admin, retreat, frozen_clock, *, nb=1, block=0, **overrides):
    frozen_clock.advance(seconds=1)
    response = admin.post("/bookings/admin/create", json=booking_body(retreat, nb, block=block, **overrides))
    assert response.status == 201, response.body
    return response.json()


# --- bookings ----------------------------------------------------------------------------------


def test_without_page_or_limit_the_bookings_list_is_the_original_array(admin, make_client, frozen_clock):
    retreat = insert_retreat()
    made = [_book(make_client, retreat, frozen_clock) for _ in range(3)]
    listed = admin.get("/bookings/admin/all").json()
    assert isinstance(listed, list) and [b["_id"] for b in listed] == [b["_id"] for b in reversed(made)]


def test_bookings_pages_carry_totals_and_never_overlap(admin, make_client, frozen_clock):
    retreat = insert_retreat(places=20)
    made = [_book(make_client, retreat, frozen_clock) for _ in range(7)]
    newest_first = [b["_id"] for b in reversed(made)]

    pages = [admin.get("/bookings/admin/all", query={"page": n, "limit": 3}).json() for n in (1, 2, 3, 4)]

    assert [p["total"] for p in pages] == [7] * 4 and [p["pages"] for p in pages] == [3] * 4
    assert [p["page"] for p in pages] == [1, 2, 3, 4] and all(p["limit"] == 3 for p in pages)
    assert [b["_id"] for p in pages for b in p["items"]] == newest_first
    assert pages[3]["items"] == []
    default = admin.get("/bookings/admin/all", query={"page": 1}).json()
    assert default["limit"] == 20 and len(default["items"]) == 7
    # Items are shaped (and populated) as in the array.
    assert default["items"][0]["retreatId"] == {"_id": str(retreat["_id"])} and "prixTotalCents" not in default["items"][0]


def test_bookings_filter_by_status_payment_retreat_block_and_period(admin, make_client, frozen_clock):
    one = insert_retreat(extra_blocks=1)
    other = insert_retreat(start=START + timedelta(days=120))
    pending_first_block = _book(make_client, one, frozen_clock)
    paid_second_block = _manual(admin, one, frozen_clock, block=1)
    paid_other = _manual(admin, other, frozen_clock)

    def ids(**query):
        response = admin.get("/bookings/admin/all", query={**query, "limit": 50})
        assert response.status == 200, response.body
        return {b["_id"] for b in response.json()["items"]}

    assert ids(statut="PENDING") == {pending_first_block["_id"]}
    assert ids(statut="CONFIRMED", statutPaiement="PAID") == {paid_second_block["_id"], paid_other["_id"]}
    assert ids(retreatId=str(one["_id"])) == {pending_first_block["_id"], paid_second_block["_id"]}
    assert ids(dateId=str(one["dates"][1]["_id"])) == {paid_second_block["_id"]}
    # Period on the stay: the first block is on 12 March, the second on 11 April, the other on 10 July.
    year = START.year
    assert ids(dateMin=f"{year}-04-01", dateMax=f"{year}-04-30") == {paid_second_block["_id"]}
    assert ids(dateMax=f"{year}-03-12") == {pending_first_block["_id"]}  # a day as dateMax: the whole day
    assert ids(dateMin=f"{year}-07-10T09:00:00.000Z") == {paid_other["_id"]}  # inclusive instant
    assert ids(statut="") == ids()  # an empty filter is no filter
    # Filters apply to the original array too.
    array = admin.get("/bookings/admin/all", query={"statut": "PENDING"}).json()
    assert [b["_id"] for b in array] == [pending_first_block["_id"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"page": "0"}, "page doit être un entier entre 1 et 100000"),
        ({"page": "-1"}, "page doit être un entier entre 1 et 100000"),
        ({"page": "deux"}, "page doit être un entier entre 1 et 100000"),
        ({"limit": "101"}, "limit doit être un entier entre 1 et 100"),
        ({"limit": "1e3"}, "limit doit être un entier entre 1 et 100"),
        ({"statut": "confirmed"}, "statut doit valoir PENDING, CONFIRMED, CANCELLED"),
        ({"statutPaiement": "{$ne:1}"}, "statutPaiement doit valoir PENDING, PAID, FAILED, REFUNDED"),
        ({"retreatId": "123"}, "ID de retraite invalide"),
        ({"dateId": "[$ne]"}, "ID de date invalide"),
        ({"dateMin": "hier"}, "dateMin doit être une date ISO 8601 (AAAA-MM-JJ ou date et heure)"),
        ({"dateMin": "2027-05-01", "dateMax": "2027-04-01"}, "dateMin doit précéder dateMax"),
    ],
)
def test_bad_list_parameters_are_400_with_the_reason(admin, query, message):
    response = admin.get("/bookings/admin/all", query=query)
    assert response.status == 400
    assert response.json()["details"]["message"] == message


def test_list_guards_run_before_parameter_checks(make_client):
    response = make_client().get("/bookings/admin/all", query={"page": "0"})
    assert response.status == 401


# --- users and retreats ------------------------------------------------------------------------


def test_users_list_keeps_its_array_and_pages_with_role_and_period(admin, frozen_clock):
    later = frozen_clock.current + timedelta(days=2)  # the clock: 2026-12-01
    first = make_user()
    second = make_user(createdAt=later)
    third_admin = make_user("admin", createdAt=later)

    array = admin.get("/users").json()
    assert isinstance(array, list) and len(array) == 4  # with the signed-in admin

    clients = admin.get("/users", query={"role": "client", "limit": 1}).json()
    assert clients["total"] == 2 and clients["pages"] == 2
    assert [u["_id"] for u in clients["items"]] == [str(first["_id"])]
    assert "password" not in clients["items"][0]
    recent = admin.get("/users", query={"dateMin": "2026-12-03", "page": 1}).json()
    assert {u["_id"] for u in recent["items"]} == {str(second["_id"]), str(third_admin["_id"])}
    assert admin.get("/users", query={"role": "root"}).status == 400


def test_retreats_admin_list_keeps_its_array_and_pages_with_status_and_period(admin, frozen_clock):
    spring = insert_retreat(title="Printemps")
    frozen_clock.advance(seconds=1)
    summer = insert_retreat(title="Été", start=START + timedelta(days=120))
    frozen_clock.advance(seconds=1)
    hidden = insert_retreat(title="Cachée", isActive=False)

    array = admin.get("/retreats/admin").json()
    assert [r["_id"] for r in array] == [str(hidden["_id"]), str(summer["_id"]), str(spring["_id"])]

    active = admin.get("/retreats/admin", query={"statut": "active", "limit": 10}).json()
    assert active["total"] == 2 and {r["titreCard"] for r in active["items"]} == {"Printemps", "Été"}
    july = admin.get(
        "/retreats/admin", query={"dateMin": f"{START.year}-07-01", "dateMax": f"{START.year}-07-31", "page": 1}
    ).json()
    assert [r["_id"] for r in july["items"]] == [str(summer["_id"])]
    assert admin.get("/retreats/admin", query={"statut": "actif"}).status == 400


# --- roster ------------------------------------------------------------------------------------


def _roster(admin, retreat, block=0):
    return admin.get(f"/bookings/admin/roster/{retreat['_id']}/{retreat['dates'][block]['_id']}")


def _rows(response):
    raw = response.body.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_roster_lists_each_participant_of_the_block_for_french_excel(admin, make_client, frozen_clock):
    retreat = insert_retreat(title="Retraite Équinoxe", extra_blocks=1, prix_cents=54_150)
    paid = _manual(admin, retreat, frozen_clock, nb=2, notes="Végétarien; sans gluten")
    pending = _book(make_client, retreat, frozen_clock)
    _book(make_client, retreat, frozen_clock, block=1)  # another block: not on this roster
    cancelled = _book(make_client, retreat, frozen_clock)
    assert admin.patch(f"/bookings/admin/{cancelled['_id']}/cancel", json={}).status == 200

    response = _roster(admin, retreat)

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="participants-retraite-equinoxe-12-03-{START.year}.csv"' in disposition
    assert f"filename*=UTF-8''participants-retraite-%C3%A9quinoxe-12-03-{START.year}.csv" in disposition
    header, *rows = _rows(response)
    assert header[:6] == ["Réservation", "Statut", "Paiement", "Places", "Montant payé (€)", "Participant"]
    assert [r[0] for r in rows] == [paid["_id"], paid["_id"], pending["_id"]]
    first, second, third = (dict(zip(header, r, strict=True)) for r in rows)
    assert first["Statut"] == "Confirmée" and first["Paiement"] == "Payé" and first["Places"] == "2"
    assert first["Montant payé (€)"] == "1083,00" and second["Montant payé (€)"] == ""
    assert first["Notes"] == "Végétarien; sans gluten"  # the ';' inside is quoted, not a new column
    assert (first["Participant"], second["Participant"]) == ("1/2", "2/2")
    assert second["Prénom"] == "Zoé1" and second["Email"] == "zoe1@example.test"
    assert second["Email de contact"] == "zoe0@example.test"
    assert first["Téléphone"] == "0611223344" and first["Ville"] == "Nîmes"
    assert third["Statut"] == "En attente" and third["Montant payé (€)"] == "0,00"
    assert first["Réservée le"].endswith("10:00")  # 09:00 UTC, in Paris


def test_roster_neutralises_cells_a_spreadsheet_would_run(admin, make_client, frozen_clock):
    retreat = insert_retreat()
    _book(
        make_client,
        retreat,
        frozen_clock,
        participants=[{"prenom": '=HYPERLINK("http://evil")', "nom": "+SUM(A1)", "email": "x@example.test"}],
    )
    header, row = _rows(_roster(admin, retreat))
    person = dict(zip(header, row, strict=True))
    assert person["Prénom"] == '\'=HYPERLINK("http://evil")' and person["Nom"] == "'+SUM(A1)"


def test_roster_of_an_empty_block_is_its_header(admin):
    retreat = insert_retreat()
    assert len(_rows(_roster(admin, retreat))) == 1


def test_roster_refuses_unknown_or_foreign_blocks_and_bad_ids(admin):
    retreat, other = insert_retreat(), insert_retreat()
    foreign = admin.get(f"/bookings/admin/roster/{retreat['_id']}/{other['dates'][0]['_id']}")
    assert foreign.status == 404 and foreign.json()["message"] == "Date de retraite non trouvée"
    missing = admin.get(f"/bookings/admin/roster/{ObjectId()}/{retreat['dates'][0]['_id']}")
    assert missing.status == 404 and missing.json()["message"] == "Retraite non trouvée"
    bad = admin.get(f"/bookings/admin/roster/{retreat['_id']}/pas-un-id")
    assert bad.status == 400 and bad.json()["details"]["message"] == "ID de date invalide"
