"""The import of the original's export (infra/import_original.py) on the test database, with
the sample of tests/fixtures/original (see its README for what each document exercises), then
the imported data used through the real handlers."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository

from infra import import_original
from infra.import_mapping import derived_id
from tests.support.accounts import make_user, sign_in

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "original"
FILES = {"users": SAMPLE / "users.json", "retreats": SAMPLE / "retreats.json", "bookings": SAMPLE / "bookings.json"}
ARGS = ["--users", str(FILES["users"]), "--retreats", str(FILES["retreats"]), "--bookings", str(FILES["bookings"])]

ALICE, ALICE_OLD, ADMIN, BOB, BROKEN_USER = (ObjectId(f"6650a1b2c3d4e5f6a7b8000{i}") for i in range(1, 6))
SPRING, AUTUMN, BROKEN_RETREAT = (ObjectId(f"6650b1b2c3d4e5f6a7b8000{i}") for i in range(1, 4))
SPRING_D1, SPRING_D2 = ObjectId("6650b1b2c3d4e5f6a7b81001"), ObjectId("6650b1b2c3d4e5f6a7b81002")
AUTUMN_D1 = derived_id(AUTUMN, "date", 0)
B = {n: ObjectId(f"6650c1b2c3d4e5f6a7b8000{n}") for n in range(1, 9)}
ALICE_PASSWORD, OTHER_PASSWORD = "Ancien1!MotDePasse", "Autre2@MotDePasse"
COLLECTIONS = ("users", "retreats", "bookings", "seatcounters")
_RECORD_FIELDS = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def import_sample(**kw) -> import_original.ImportReport:
    return import_original.run_import(FILES["users"], FILES["retreats"], FILES["bookings"], **kw)


def snapshot() -> dict[str, list[dict]]:
    db = get_db()
    return {name: list(db[name].find({}).sort("_id", 1)) for name in COLLECTIONS}


def original_line(name: str, doc_id: ObjectId) -> dict:
    for line in FILES[name].read_text(encoding="utf-8").splitlines():
        if str(doc_id) in line.split('"password"')[0]:
            return json.loads(line)
    raise AssertionError(doc_id)


# --- what is written ------------------------------------------------------------------------


def test_users_keep_id_and_bcrypt_hash_lose_codes_and_tokens():
    report = import_sample()

    assert report.written["users"] == {"inserted": 3, "updated": 0, "unchanged": 0, "kept": 0, "conflict": 0}
    users = {u["_id"]: u for u in get_db()["users"].find({})}
    assert set(users) == {ALICE, ADMIN, BOB}
    alice = users[ALICE]
    assert alice == {
        "_id": ALICE,
        "email": "alice.martin@example.test",
        "password": original_line("users", ALICE)["password"],
        "firstName": "Alice",
        "lastName": "Martin",
        "role": "client",
        "isEmailVerified": True,
        "failedLoginAttempts": 0,
        "lastLogin": utc("2026-10-02T18:30:00"),
        "phone": "0612345678",
        "address": "1 rue des Lilas",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
        "createdAt": utc("2025-02-10T09:15:00"),
        "updatedAt": utc("2026-10-02T18:30:00"),
    }
    assert alice["password"].startswith("$2b$12$")
    admin = users[ADMIN]
    assert admin["email"] == "admin@lutea.test" and admin["role"] == "admin"
    assert not {"verificationCode", "verificationCodeExpires", "verificationCodeAttempts", "__v"} & set(admin)
    bob = users[BOB]
    assert (bob["isEmailVerified"], bob["failedLoginAttempts"], bob["lockUntil"]) == (False, 2, utc("2026-06-01T12:15:00"))


def test_retreats_keep_ids_prices_become_cents_legacy_fields_stay():
    import_sample()

    spring = get_db()["retreats"].find_one({"_id": SPRING})
    assert [b["_id"] for b in spring["dates"]] == [SPRING_D1, SPRING_D2]
    assert spring["dates"][0] == {
        "_id": SPRING_D1,
        "start": utc("2027-04-10T08:00:00"),
        "end": utc("2027-04-12T15:00:00"),
        "heureArrivee": "10h00",
        "heureDepart": "17h00",
        "prixCents": 12000,
        "places": 10,
        "adresseRdv": "12 chemin des Oliviers, Lodève",
    }
    assert spring["dates"][1]["prixCents"] == 9990 and "prix" not in spring["dates"][1]
    assert (spring["prix"], spring["places"], spring["adresseRdv"]) == (120, 12, "12 chemin des Oliviers, Lodève")
    assert (spring["isActive"], spring["aVenir"], spring["titreCard"]) == (True, False, "Retraite de printemps")
    assert "__v" not in spring
    autumn = get_db()["retreats"].find_one({"_id": AUTUMN})
    assert autumn["dates"][0]["_id"] == AUTUMN_D1 and autumn["dates"][0]["prixCents"] == 25050
    assert get_db()["retreats"].find_one({"_id": BROKEN_RETREAT}) is None


def test_bookings_are_mapped_and_matched_to_their_date_block():
    import_sample()

    bookings = {b["_id"]: b for b in get_db()["bookings"].find({})}
    assert set(bookings) == {B[n] for n in (1, 2, 3, 4, 5, 6, 8)}
    first = bookings[B[1]]
    assert (first["userId"], first["isGuest"], first["dateId"], first["prixTotalCents"], first["seatsHeld"]) == (
        ALICE,
        False,
        SPRING_D1,
        24000,
        True,
    )
    assert "prixTotal" not in first and "__v" not in first
    assert first["expiresAt"] == utc("2026-11-20T10:00:00") + timedelta(minutes=16)
    assert first["stripePaymentIntentId"] == "pi_sample_0001"
    assert [p["_id"] for p in first["participants"]] == [
        ObjectId("6650c1b2c3d4e5f6a7b80100"),
        ObjectId("6650c1b2c3d4e5f6a7b80101"),
    ]
    guest = bookings[B[2]]
    assert (guest["userId"], guest["isGuest"], guest["statut"], guest["seatsHeld"]) == (None, True, "PENDING", True)
    cancelled = bookings[B[3]]
    assert (cancelled["seatsHeld"], cancelled["statutPaiement"], cancelled["annulationRaison"]) == (
        False,
        "REFUNDED",
        "Empêchement",
    )
    merged = bookings[B[4]]
    assert (merged["userId"], merged["dateId"], merged["prixTotalCents"]) == (ALICE, SPRING_D2, 19980)
    autumn = bookings[B[5]]
    assert autumn["dateId"] == AUTUMN_D1 and autumn["prixTotalCents"] == 25050
    assert autumn["participants"][0]["_id"] == derived_id(B[5], "participant", 0)
    for unmatched in (bookings[B[6]], bookings[B[8]]):
        assert (unmatched["dateId"], unmatched["seatsHeld"], unmatched["statut"]) == (None, False, "CONFIRMED")


def test_seat_counters_hold_the_seats_of_pending_and_confirmed_bookings(api, frozen_clock):
    frozen_clock.set(utc("2026-11-30T10:05:00"))  # the guest's PENDING booking is in its window
    import_sample()

    seats = SeatRepository()
    assert [
        (seats.get(d)["retreatId"], seats.get(d)["places"], seats.get(d)["held"]) for d in (SPRING_D1, SPRING_D2, AUTUMN_D1)
    ] == [(SPRING, 10, 3), (SPRING, 8, 2), (AUTUMN, 6, 1)]

    def free(date: str) -> int:
        response = api.post("/bookings/available-places", json={"retreatId": str(SPRING), "date": date})
        assert response.status == 200
        return response.json()["placesDisponibles"]

    assert free("2027-04-10T08:00:00.000Z") == 7
    assert free("2027-05-15T10:00:00+02:00") == 6
    frozen_clock.advance(minutes=16)  # the PENDING booking's window has closed: its seat is free again
    assert free("2027-04-10T08:00:00.000Z") == 8


def test_counters_refuse_what_the_imported_bookings_already_hold(api, frozen_clock):
    """Through the real booking route: 7 free seats on the first block, 8 asked -> 409."""
    frozen_clock.set(utc("2026-11-30T10:05:00"))
    import_sample()
    body = {
        "retreatId": str(SPRING),
        "dateStart": "2027-04-10T08:00:00.000Z",
        "dateEnd": "2027-04-12T15:00:00.000Z",
        "nbPlaces": 8,
        "participants": [{"prenom": f"P{i}", "nom": "N", "email": f"p{i}@example.test"} for i in range(8)],
        "billingAddress": {
            "address": "1 rue",
            "city": "Nîmes",
            "postalCode": "30000",
            "country": "France",
            "phone": "0611223344",
        },
    }

    response = api.post("/bookings", json=body)

    assert response.status == 409
    assert response.json()["message"] == "Seulement 7 places disponibles"


# --- the migrated users and bookings in use -------------------------------------------------


def test_login_with_the_original_password_then_the_hash_is_argon2(api, frozen_clock):
    import_sample()

    response = api.post("/auth/login", json={"email": "Alice.Martin@example.test", "password": ALICE_PASSWORD})

    assert response.status == 200
    user = response.json()["user"]
    assert (user["_id"], user["email"], user["role"]) == (str(ALICE), "alice.martin@example.test", "client")
    stored = get_db()["users"].find_one({"_id": ALICE})
    assert stored["password"].startswith("$argon2id$")
    assert stored["lastLogin"] == frozen_clock.current
    # The account merged away by the collision no longer signs in, with its own password either.
    assert api.post("/auth/login", json={"email": "alice.martin@example.test", "password": OTHER_PASSWORD}).status == 401


def test_owner_reads_a_migrated_booking_in_euros(make_client, frozen_clock):
    import_sample()
    client = make_client()
    assert client.post("/auth/login", json={"email": "alice.martin@example.test", "password": ALICE_PASSWORD}).status == 200

    response = client.get(f"/bookings/{B[1]}")

    assert response.status == 200
    body = response.json()
    assert (body["_id"], body["userId"], body["retreatId"]) == (str(B[1]), str(ALICE), str(SPRING))
    assert (body["prixTotal"], body["nbPlaces"], body["statut"], body["statutPaiement"]) == (240, 2, "CONFIRMED", "PAID")
    assert body["dateStart"] == "2027-04-10T08:00:00.000Z"
    assert not {"prixTotalCents", "dateId", "seatsHeld", "expiresAt"} & set(body)
    merged = client.get(f"/bookings/{B[4]}")  # booked by the merged account: now Alice's
    assert merged.status == 200 and merged.json()["prixTotal"] == 199.8
    mine = client.get("/bookings/my-bookings").json()
    assert {b["_id"] for b in mine} == {str(B[1]), str(B[4]), str(B[6])}


def test_someone_else_cannot_read_a_migrated_booking(make_client):
    import_sample()
    bob = sign_in(make_client(), get_db()["users"].find_one({"_id": BOB}))

    assert bob.get(f"/bookings/{B[1]}").status == 404
    assert bob.get(f"/bookings/{B[5]}").status == 200


# --- reporting ------------------------------------------------------------------------------


def test_collision_skips_and_unmatched_dates_are_reported_without_addresses_in_logs(caplog):
    out = io.StringIO()

    code = import_original.main(ARGS, out=out, db=get_db())

    assert code == 1  # documents were skipped
    logs = [
        {"message": r.getMessage(), **{k: v for k, v in vars(r).items() if k not in _RECORD_FIELDS}}
        for r in caplog.records
        if r.name == "lutea"
    ]
    collision = [entry for entry in logs if entry["message"] == "email collision"]
    assert [(c["keptId"], c["droppedIds"]) for c in collision] == [(str(ALICE), [str(ALICE_OLD)])]
    assert len(logs) == 6 and all("@" not in json.dumps(entry, default=str) for entry in logs)
    summary = out.getvalue().splitlines()
    assert summary[:5] == [
        "Import from the original",
        "  users     read 5, valid 3, skipped 1, merged by email collision 1 | "
        "inserted 3, updated 0, unchanged 0, kept 0, conflict 0",
        "  retreats  read 3, valid 2, skipped 1 | inserted 2, updated 0, unchanged 0, kept 0, conflict 0",
        "  bookings  read 8, valid 7, skipped 1, unmatched dates 2 | inserted 7, updated 0, unchanged 0, kept 0, conflict 0",
        "  seat counters 3 date blocks, 6 seats held",
    ]
    text = "\n".join(summary)
    assert "the addresses are printed on this terminal only, never logged" in text
    assert f"alice.martin@example.test: kept {ALICE}, merged {ALICE_OLD}" in text
    assert f"booking {B[6]}: retreat {SPRING}, dateStart 2027-04-03T08:00:00.000Z (no date block starts then)" in text
    assert f"booking {B[8]}: retreat {BROKEN_RETREAT}, dateStart 2027-06-01T07:00:00.000Z (retreat not found)" in text
    assert f"users {BROKEN_USER}: password is not a bcrypt hash" in text
    assert f"retreats {BROKEN_RETREAT}: dates[0].places must be a whole number of at least 1" in text
    assert f"bookings {B[7]}: statut is not one of PENDING, CONFIRMED, CANCELLED" in text


def test_without_mongodb_uri_only_a_dry_run_is_allowed(monkeypatch, capfd):
    from lutea import config

    monkeypatch.delenv("MONGODB_URI", raising=False)
    config.reset_settings()

    assert import_original.main(ARGS) == 2
    assert "MONGODB_URI is not set" in capfd.readouterr().err
    out = io.StringIO()
    assert import_original.main([*ARGS, "--dry-run"], out=out) == 1
    assert out.getvalue().startswith("Import from the original — DRY RUN, nothing written\n")
    assert all(get_db()[name].count_documents({}) == 0 for name in COLLECTIONS)


def test_an_unreadable_file_imports_nothing(tmp_path, capfd):
    broken = tmp_path / "bookings.json"
    broken.write_text('[{"_id": {"$oid": "6650c1b2c3d4e5f6a7b80001"}', encoding="utf-8")

    code = import_original.main([*ARGS[:4], "--bookings", str(broken)], db=get_db())

    assert code == 2
    assert "Nothing imported: bookings:" in capfd.readouterr().err
    assert all(get_db()[name].count_documents({}) == 0 for name in COLLECTIONS)


# --- idempotence, dry run, live data ----------------------------------------------------------


def test_a_second_import_changes_nothing():
    import_sample()
    before = snapshot()

    report = import_sample()

    assert snapshot() == before
    assert report.written == {
        "users": {"inserted": 0, "updated": 0, "unchanged": 3, "kept": 0, "conflict": 0},
        "retreats": {"inserted": 0, "updated": 0, "unchanged": 2, "kept": 0, "conflict": 0},
        "bookings": {"inserted": 0, "updated": 0, "unchanged": 7, "kept": 0, "conflict": 0},
    }


def test_a_second_import_keeps_what_changed_here_since(api, frozen_clock):
    """Re-running after go-live does not undo an upgraded password or an expired booking, and
    the counters follow the bookings as they are now."""
    from lutea.domain.booking_lifecycle import expire_pending_bookings

    import_sample()
    assert api.post("/auth/login", json={"email": "alice.martin@example.test", "password": ALICE_PASSWORD}).status == 200
    assert expire_pending_bookings() == 1  # the guest's booking, unpaid since 2026-11-30
    upgraded = get_db()["users"].find_one({"_id": ALICE})["password"]
    assert SeatRepository().get(SPRING_D1)["held"] == 2

    report = import_sample()

    assert get_db()["users"].find_one({"_id": ALICE})["password"] == upgraded
    assert (report.written["users"]["kept"], report.written["users"]["unchanged"]) == (1, 2)
    assert (report.written["bookings"]["kept"], report.written["bookings"]["unchanged"]) == (1, 6)
    expired = get_db()["bookings"].find_one({"_id": B[2]})
    assert (expired["statut"], expired["seatsHeld"]) == ("CANCELLED", False)
    assert SeatRepository().get(SPRING_D1)["held"] == 2


def test_an_email_taken_here_by_another_account_is_a_conflict_not_an_overwrite():
    here = make_user(email="bob.leroy@example.test", firstName="Robert")

    report = import_sample()

    assert report.written["users"]["conflict"] == 1
    assert [(p.where, p.reason) for p in report.conflicts] == [(str(BOB), "email already used by another account here")]
    assert get_db()["users"].find_one({"email": "bob.leroy@example.test"})["_id"] == here["_id"]
    assert get_db()["users"].find_one({"_id": BOB}) is None


def test_dry_run_writes_nothing_and_reports_the_plan():
    report = import_sample(dry_run=True)

    assert all(get_db()[name].count_documents({}) == 0 for name in COLLECTIONS)
    assert report.written == {}
    assert (len(report.plan.users), len(report.plan.retreats), len(report.plan.bookings)) == (3, 2, 7)
    assert report.counters == {
        SPRING_D1: {"places": 10, "held": 3},
        SPRING_D2: {"places": 8, "held": 2},
        AUTUMN_D1: {"places": 6, "held": 1},
    }


def test_bookings_alone_match_the_retreats_already_imported():
    import_original.run_import(retreats=FILES["retreats"])
    assert SeatRepository().get(SPRING_D1)["held"] == 0

    report = import_original.run_import(bookings=FILES["bookings"])

    assert report.written["bookings"]["inserted"] == 7
    assert get_db()["bookings"].find_one({"_id": B[1]})["dateId"] == SPRING_D1
    assert [SeatRepository().get(d)["held"] for d in (SPRING_D1, SPRING_D2, AUTUMN_D1)] == [3, 2, 1]


@pytest.mark.parametrize("dry_run", [False, True])
def test_json_array_and_line_files_give_the_same_plan(tmp_path, dry_run):
    lines = FILES["bookings"].read_text(encoding="utf-8").splitlines()
    as_array = tmp_path / "bookings-array.json"
    as_array.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")

    from_lines = import_original.run_import(FILES["users"], FILES["retreats"], FILES["bookings"], dry_run=True)
    from_array = import_original.run_import(FILES["users"], FILES["retreats"], as_array, dry_run=dry_run)

    assert from_array.plan.bookings == from_lines.plan.bookings
