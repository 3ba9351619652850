"""infra/import_mapping.py as plain functions: reading mongoexport text, mapping each document,
email collisions, seat counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import bcrypt
import pytest
from bson import Decimal128, ObjectId

from infra import import_mapping as m

HASH = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode()
UID, RID, BID = ObjectId("6650a1b2c3d4e5f6a7b80001"), ObjectId("6650b1b2c3d4e5f6a7b80001"), ObjectId("6650c1b2c3d4e5f6a7b80001")
START = datetime(2027, 4, 10, 8, tzinfo=UTC)


def user(**over):
    doc = {
        "_id": UID,
        "email": "a@example.test",
        "password": HASH,
        "firstName": "A",
        "lastName": "B",
        "role": "client",
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
        "updatedAt": datetime(2025, 2, 1, tzinfo=UTC),
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not ...}


def block(**over):
    doc = {
        "_id": ObjectId("6650b1b2c3d4e5f6a7b81001"),
        "start": START,
        "end": START + timedelta(days=2),
        "prix": 120,
        "places": 10,
        "adresseRdv": "Lodève",
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not ...}


def retreat(*blocks, **over):
    doc = {
        "_id": RID,
        "titreCard": "T",
        "imageModal": ["a"],
        "altImageModal": ["b"],
        "dates": list(blocks) if blocks else [block()],
        "createdAt": datetime(2026, 1, 1, tzinfo=UTC),
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not ...}


def booking(**over):
    doc = {
        "_id": BID,
        "userId": UID,
        "retreatId": RID,
        "retreatName": "T",
        "dateStart": START,
        "dateEnd": START + timedelta(days=2),
        "nbPlaces": 2,
        "prixTotal": 240,
        "participants": [{"prenom": "Z", "nom": "L", "email": "z@example.test"}],
        "billingAddress": {"address": "1", "city": "N", "postalCode": "30000", "country": "France", "phone": "06"},
        "statut": "CONFIRMED",
        "statutPaiement": "PAID",
        "createdAt": datetime(2026, 11, 20, 10, tzinfo=UTC),
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not ...}


# --- load_export ------------------------------------------------------------------------------


def test_lines_in_relaxed_and_canonical_extended_json():
    text = (
        '{"_id":{"$oid":"6650a1b2c3d4e5f6a7b80001"},"createdAt":{"$date":"2025-01-01T00:00:00.000Z"},"n":2}\n'
        "\n"
        '{"_id":{"$oid":"6650a1b2c3d4e5f6a7b80002"},"createdAt":{"$date":{"$numberLong":"1735689600000"}},'
        '"n":{"$numberInt":"3"},"p":{"$numberDouble":"99.9"},"d":{"$numberDecimal":"12.30"}}\n'
    )

    docs, problems = m.load_export(text, "users")

    assert problems == []
    assert [d["_id"] for d in docs] == [UID, ObjectId("6650a1b2c3d4e5f6a7b80002")]
    assert docs[0]["createdAt"] == docs[1]["createdAt"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert docs[0]["createdAt"].tzinfo is not None
    assert (docs[1]["n"], docs[1]["p"], docs[1]["d"]) == (3, 99.9, Decimal128("12.30"))


def test_a_bad_line_is_a_problem_the_others_still_count():
    text = '{"_id":{"$oid":"6650a1b2c3d4e5f6a7b80001"}}\n{"_id": {"$oid": "zz"}}\n{broken\n[1]\n'

    docs, problems = m.load_export(text, "users")

    assert [d["_id"] for d in docs] == [UID]
    assert [(p.where, p.reason.split(" (")[0]) for p in problems] == [
        ("line 2", "not Extended JSON"),
        ("line 3", "not Extended JSON"),
        ("line 4", "not a document"),
    ]


def test_a_json_array_file_and_an_unparsable_one():
    docs, problems = m.load_export('\ufeff[{"_id":{"$oid":"6650a1b2c3d4e5f6a7b80001"}}, 3]', "users")
    assert [d["_id"] for d in docs] == [UID] and [(p.where, p.reason) for p in problems] == [("item 2", "not a document")]

    docs, problems = m.load_export('[{"_id": 1},', "users")
    assert docs == [] and [p.where for p in problems] == ["file"]
    assert m.load_export("  \n", "users") == ([], [])


# --- users ------------------------------------------------------------------------------------


def test_user_mapping_keeps_the_hash_drops_codes_and_tokens():
    doc = user(
        email="  Alice@Example.TEST ",
        role="Admin",
        verificationCode="123456",
        passwordResetToken="t",
        passwordResetExpires=datetime(2025, 1, 1, tzinfo=UTC),
        __v=0,
        lastLogin="2025-03-01T08:00:00.000Z",
        phone="06",
        unknownField={"$gt": ""},
    )

    out = m.map_user(doc)

    assert out == {
        "_id": UID,
        "email": "alice@example.test",
        "password": HASH,
        "firstName": "A",
        "lastName": "B",
        "role": "admin",
        "isEmailVerified": False,
        "failedLoginAttempts": 0,
        "lastLogin": datetime(2025, 3, 1, 8, tzinfo=UTC),
        "phone": "06",
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
        "updatedAt": datetime(2025, 2, 1, tzinfo=UTC),
    }


def test_user_timestamps_default_to_the_id_time():
    out = m.map_user(user(createdAt=..., updatedAt=...))
    assert out["createdAt"] == out["updatedAt"] == UID.generation_time


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"_id": "nope"}, "_id is not an ObjectId"),
        ({"email": ...}, "email is missing"),
        ({"email": {"$ne": None}}, "email is not a text"),
        ({"email": "no-at-sign"}, "email is not an address"),
        ({"email": "a b@example.test"}, "email is not an address"),
        ({"password": "plain-text"}, "password is not a bcrypt hash"),
        ({"password": HASH[:-1]}, "password is not a bcrypt hash"),
        ({"role": "superuser"}, "role is neither client nor admin"),
        ({"firstName": " "}, "firstName is empty"),
        ({"lastName": ...}, "lastName is missing"),
        ({"failedLoginAttempts": -1}, "failedLoginAttempts must be a whole number of at least 0"),
        ({"failedLoginAttempts": True}, "failedLoginAttempts is not a number"),
        ({"isEmailVerified": "yes"}, "isEmailVerified is not a boolean"),
        ({"lastLogin": 12}, "lastLogin is not a date"),
    ],
)
def test_invalid_users_say_which_field_never_its_value(over, reason):
    with pytest.raises(m.InvalidDocument) as caught:
        m.map_user(user(**over))
    assert str(caught.value) == reason


def test_collisions_keep_the_most_recently_active_account():
    older, newer, never = (
        ObjectId("6650a1b2c3d4e5f6a7b80002"),
        ObjectId("6650a1b2c3d4e5f6a7b80003"),
        ObjectId("6650a1b2c3d4e5f6a7b80004"),
    )
    users = [
        m.map_user(user(_id=UID, email="Same@x.test", lastLogin=datetime(2025, 5, 1, tzinfo=UTC))),
        m.map_user(user(_id=older, email="same@x.test", lastLogin=datetime(2025, 4, 1, tzinfo=UTC))),
        # No lastLogin: its updatedAt (2025-06-01) is the latest activity.
        m.map_user(user(_id=newer, email="SAME@x.test", updatedAt=datetime(2025, 6, 1, tzinfo=UTC))),
        m.map_user(user(_id=never, email="other@x.test")),
    ]

    kept, collisions = m.resolve_email_collisions(users)

    assert [u["_id"] for u in kept] == [newer, never]
    assert collisions == [m.Collision(email="same@x.test", kept=newer, dropped=(UID, older))]


def test_a_tie_goes_to_the_newest_id():
    other = ObjectId("6650a1b2c3d4e5f6a7b80009")
    kept, collisions = m.resolve_email_collisions([m.map_user(user()), m.map_user(user(_id=other))])
    assert [u["_id"] for u in kept] == [other] and collisions[0].dropped == (UID,)


# --- retreats ---------------------------------------------------------------------------------


def test_block_prices_become_exact_cents_legacy_fields_stay():
    notes: list[str] = []
    doc = retreat(
        block(prix=99.9),
        block(
            _id=...,
            prix=Decimal128("250.50"),
            start=START + timedelta(days=30),
            end=START + timedelta(days=32),
            heureArrivee="10h",
        ),
        prix=120.5,
        places=12,
        adresseRdv="Ici",
        __v=3,
        extra="dropped",
    )

    out = m.map_retreat(doc, notes)

    assert notes == []
    assert [b["prixCents"] for b in out["dates"]] == [9990, 25050]
    assert out["dates"][1]["_id"] == m.derived_id(RID, "date", 1)
    assert out["dates"][1]["heureArrivee"] == "10h"
    assert (out["prix"], out["places"], out["adresseRdv"]) == (120.5, 12, "Ici")
    assert (out["aVenir"], out["isActive"]) == (False, True)
    assert out["updatedAt"] == out["createdAt"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert not {"__v", "extra"} & set(out) and "prix" not in out["dates"][0]


def test_derived_ids_are_stable_and_carry_the_parent_time():
    first, again = m.derived_id(RID, "date", 0), m.derived_id(RID, "date", 0)
    assert first == again != m.derived_id(RID, "date", 1) != m.derived_id(RID, "participant", 0)
    assert first.generation_time == RID.generation_time


def test_a_price_finer_than_a_cent_is_rounded_and_noted():
    notes: list[str] = []
    out = m.map_retreat(retreat(block(prix=10.005)), notes)
    assert out["dates"][0]["prixCents"] == 1001
    assert notes == [f"retreat {RID}: dates[0].prix is not a whole number of cents, rounded to 1001 cents"]


def test_a_block_without_price_or_places_takes_the_retreats():
    out = m.map_retreat(retreat(block(prix=..., places=...), prix=80, places=5))
    assert (out["dates"][0]["prixCents"], out["dates"][0]["places"]) == (8000, 5)


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"dates": [block(places=0)]}, "dates[0].places must be a whole number of at least 1"),
        ({"dates": [block(places=2.5)]}, "dates[0].places must be a whole number of at least 1"),
        ({"dates": [block(prix=-1)]}, "dates[0].prix is negative"),
        ({"dates": [block(prix=float("nan"))]}, "dates[0].prix is not a finite number"),
        ({"dates": [block(prix="120")]}, "dates[0].prix is not a number"),
        ({"dates": [block(prix=...)]}, "dates[0].prix is missing"),
        ({"dates": [block(end=START)]}, "dates[0] starts after it ends"),
        ({"dates": [block(start=None)]}, "dates[0].start is not a date"),
        (
            {"dates": [block(), block(start=START + timedelta(days=9), end=START + timedelta(days=10))]},
            "two date blocks share an _id",
        ),
        ({"dates": "soon"}, "dates is not a list"),
        ({"imageModal": "a.jpg"}, "imageModal is not a list of texts"),
        ({"titreCard": ...}, "titreCard is missing"),
        ({"prix": -3}, "prix is negative"),
    ],
)
def test_invalid_retreats(over, reason):
    with pytest.raises(m.InvalidDocument) as caught:
        m.map_retreat(retreat(**over))
    assert str(caught.value) == reason


# --- bookings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("statut", "held"), [("PENDING", True), ("CONFIRMED", True), ("CANCELLED", False)])
def test_bookings_hold_seats_while_pending_or_confirmed(statut, held):
    date_id = ObjectId()
    out = m.map_booking(booking(statut=statut), date_id)
    assert (out["dateId"], out["seatsHeld"]) == (date_id, held)


def test_booking_mapping():
    out = m.map_booking(
        booking(
            prixTotal=199.8,
            isStripeBooking=False,
            notes="n",
            __v=0,
            participants=[
                {"_id": UID, "prenom": "Z", "nom": "L", "email": "z@x.test"},
                {"prenom": "Y", "nom": "L", "email": "y@x.test"},
            ],
        ),
        None,
    )

    assert out["prixTotalCents"] == 19980 and "prixTotal" not in out
    assert (out["userId"], out["isGuest"], out["isStripeBooking"], out["notes"]) == (UID, False, False, "n")
    assert (out["dateId"], out["seatsHeld"]) == (None, False)
    assert [p["_id"] for p in out["participants"]] == [UID, m.derived_id(BID, "participant", 1)]
    assert out["expiresAt"] == datetime(2026, 11, 20, 10, 16, tzinfo=UTC)
    assert out["updatedAt"] == out["createdAt"] and "__v" not in out


def test_a_guest_booking_and_an_explicit_isguest():
    assert m.map_booking(booking(userId=..., isGuest=...), None)["isGuest"] is True
    assert m.map_booking(booking(userId=None), None)["userId"] is None
    assert m.map_booking(booking(isGuest=True), None)["isGuest"] is True  # as stored
    assert m.map_booking(booking(userId=str(UID)), None)["userId"] == UID


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"nbPlaces": 0}, "nbPlaces must be a whole number of at least 1"),
        ({"prixTotal": ...}, "prixTotal is missing"),
        ({"statut": "ANNULEE"}, "statut is not one of PENDING, CONFIRMED, CANCELLED"),
        ({"statutPaiement": "OK"}, "statutPaiement is not one of PENDING, PAID, FAILED, REFUNDED"),
        ({"participants": []}, "participants is missing or empty"),
        ({"participants": [{"prenom": "Z", "nom": "L"}]}, "participants[0].email is missing"),
        ({"billingAddress": "Nîmes"}, "billingAddress is not a document"),
        ({"userId": {"$ne": None}}, "userId is not an ObjectId"),
        ({"retreatId": None}, "retreatId is not an ObjectId"),
    ],
)
def test_invalid_bookings(over, reason):
    with pytest.raises(m.InvalidDocument) as caught:
        m.map_booking(booking(**over), None)
    assert str(caught.value) == reason


# --- the plan ---------------------------------------------------------------------------------


def test_plan_matches_dates_merges_owners_and_counts_seats():
    older = ObjectId("6650a1b2c3d4e5f6a7b80002")
    users = [
        user(lastLogin=datetime(2026, 1, 1, tzinfo=UTC)),
        user(_id=older, email="A@example.test"),
        user(_id=ObjectId(), password="clear"),
    ]
    block_id = block()["_id"]
    bookings = [
        booking(userId=older),
        booking(_id=ObjectId(), statut="PENDING", nbPlaces=3),
        booking(_id=ObjectId(), statut="CANCELLED", nbPlaces=4),
        booking(_id=ObjectId(), dateStart=START + timedelta(hours=1)),
        booking(_id=BID),  # the same _id again
    ]

    plan = m.plan_import(users, [retreat()], bookings)

    assert [u["_id"] for u in plan.users] == [UID]
    assert plan.collisions == [m.Collision("a@example.test", UID, (older,))]
    assert plan.bookings[0]["userId"] == UID and plan.bookings[0]["dateId"] == block_id
    [counter] = plan.counters
    assert {k: v for k, v in counter.items() if k != "holders"} == {"_id": block_id, "retreatId": RID, "places": 10, "held": 5}
    # Every held seat is named by its booking (lutea.data.seats), as bookings name them.
    assert sorted(h["n"] for h in counter["holders"]) == [2, 3]
    assert {h["bookingId"] for h in counter["holders"]} == {b["_id"] for b in plan.bookings if b["seatsHeld"]}
    assert [u.booking_id for u in plan.unmatched] == [bookings[3]["_id"]]
    assert [(p.collection, p.reason) for p in plan.problems] == [
        ("users", "password is not a bcrypt hash"),
        ("bookings", "same _id as an earlier document"),
    ]
    assert plan.read == {"users": 3, "retreats": 1, "bookings": 5}
    assert plan.notes == [f"booking {BID}: owner {older} merged into account {UID} (email collision)"]


def test_plan_matches_bookings_against_stored_retreats_and_notes_overbooking():
    stored = m.map_retreat(retreat(block(places=1)))
    asked: list[ObjectId] = []

    def lookup(rid):
        asked.append(rid)
        return stored

    plan = m.plan_import(bookings=[booking()], stored_retreat=lookup)
    assert asked == [RID] and plan.bookings[0]["dateId"] == stored["dates"][0]["_id"]
    assert plan.counters == []  # the stored retreat's counters are recomputed at write time

    overbooked = m.plan_import(retreats=[retreat(block(places=1))], bookings=[booking()])
    assert overbooked.notes == [f"date block {block()['_id']}: 2 seats held for 1 places (overbooked in the original)"]


def test_a_retreat_reusing_another_retreats_block_id_is_skipped():
    other = ObjectId("6650b1b2c3d4e5f6a7b80002")
    plan = m.plan_import(retreats=[retreat(), retreat(_id=other)])
    assert [r["_id"] for r in plan.retreats] == [RID]
    assert [(p.where, p.reason) for p in plan.problems] == [(str(other), "a date block _id is used by another retreat")]


def test_money_goes_through_decimal_not_float():
    assert m.map_booking(booking(prixTotal=0.1 + 0.2), None)["prixTotalCents"] == 30
    assert m.map_booking(booking(prixTotal=Decimal("19.99")), None)["prixTotalCents"] == 1999
