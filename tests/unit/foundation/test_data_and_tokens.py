from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from bson import ObjectId
from lutea import wire
from lutea.auth import tokens
from lutea.config import load_settings
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository
from lutea.errors import InvalidInput, NotAuthenticated

from tests.support.concurrency import crashes, run_together


def _hammer(target, threads=50):
    """``target`` run by ``threads`` threads at once; none may crash."""
    crashed = crashes(run_together([target] * threads))
    assert not crashed, crashed[:3]


@pytest.mark.usefixtures("tiny_switch_interval")
def test_counter_never_oversold_under_concurrency():
    col = get_db()["counter_test"]
    for _ in range(10):
        col.delete_many({})
        col.insert_one({"_id": 1, "held": 0})
        _hammer(lambda: col.find_one_and_update({"_id": 1, "held": {"$lte": 4}}, {"$inc": {"held": 1}}))
        assert col.find_one({"_id": 1})["held"] == 5


@pytest.mark.usefixtures("tiny_switch_interval")
def test_seat_repository_reserves_exactly_the_places():
    seats = SeatRepository()
    date_id = ObjectId()
    seats.ensure(retreat_id=ObjectId(), date_id=date_id, places=7)
    results: list[tuple[ObjectId, bool]] = []

    def reserve() -> None:
        booking_id = ObjectId()
        results.append((booking_id, seats.try_reserve(date_id, 2, booking_id)))

    _hammer(reserve)
    holders = [bid for bid, taken in results if taken]
    assert len(holders) == 3 and seats.held(date_id) == 6
    # Each seat named once (in any order: a thread may record its result after a later one).
    assert sorted(h["bookingId"] for h in seats.get(date_id)["holders"]) == sorted(holders)
    assert not seats.set_places(date_id, 5, expected=7)  # below what is held
    assert not seats.set_places(date_id, 6, expected=8)  # not the capacity read: someone changed it
    assert seats.set_places(date_id, 6, expected=7) and not seats.try_reserve(date_id, 1, ObjectId())
    assert not seats.try_reserve(date_id, 2, holders[0])  # a holder never holds twice
    assert seats.holds(date_id, holders[0]) and seats.held(date_id) == 6
    assert seats.release(date_id, 2, holders[0]) and seats.held(date_id) == 4
    assert not seats.release(date_id, 2, holders[0]) and seats.held(date_id) == 4  # released once
    assert not seats.release(date_id, 10, ObjectId()) and seats.held(date_id) == 4


def test_locked_cursor_chains_sort_and_limit():
    col = get_db()["cursor_test"]
    col.insert_many([{"n": i} for i in range(5)])
    assert [d["n"] for d in col.find().sort("n", -1).limit(2)] == [4, 3]


def test_access_and_refresh_tokens_are_not_interchangeable():
    access = tokens.issue_access(user_id="u1", email="a@b.fr", role="client", family_id="f", mfa=False)
    refresh = tokens.issue_refresh(user_id="u1", family_id="f", jti="j")
    assert tokens.decode_access(access).user_id == "u1"
    assert tokens.decode_refresh(refresh).jti == "j"
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(refresh)
    with pytest.raises(NotAuthenticated):
        tokens.decode_refresh(access)


def test_alg_none_and_foreign_keys_are_refused():
    claims = {
        "sub": "u1",
        "email": "a@b.fr",
        "role": "admin",
        "fam": "f",
        "mfa": True,
        "typ": "access",
        "iss": "lutea",
        "iat": int(datetime.now(UTC).timestamp()),
        "exp": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()),
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    forged = jwt.encode(claims, "x" * 40, algorithm="HS256")
    hs512 = jwt.encode(claims, load_settings().jwt_access_secret, algorithm="HS512")
    for token in (unsigned, forged, hs512, "garbage", ""):
        with pytest.raises(NotAuthenticated):
            tokens.decode_access(token)


def test_access_token_expires_after_15_minutes(frozen_clock):
    token = tokens.issue_access(user_id="u1", email="a@b.fr", role="client", family_id="f", mfa=False)
    frozen_clock.advance(minutes=14)
    assert tokens.decode_access(token).user_id == "u1"
    frozen_clock.advance(minutes=2)
    with pytest.raises(NotAuthenticated):
        tokens.decode_access(token)


def test_settings_refuse_short_equal_or_default_secrets_in_production():
    with pytest.raises(RuntimeError, match="32 bytes"):
        load_settings({"JWT_ACCESS_SECRET": "short"})
    with pytest.raises(RuntimeError, match="differ"):
        load_settings({"JWT_ACCESS_SECRET": "k" * 40, "JWT_REFRESH_SECRET": "k" * 40})
    with pytest.raises(RuntimeError, match="production"):
        load_settings({"STAGE": "prod", "MONGODB_URI": "mongodb://x"})
    with pytest.raises(RuntimeError, match="MONGODB_URI is required in Lambda"):
        load_settings({"AWS_LAMBDA_FUNCTION_NAME": "lutea-dev-AuthFunction"})
    s = load_settings({"FRONTEND_URL": "https://a.fr/, https://b.fr", "RATE_LIMIT_PER_MINUTE": "42"})
    assert s.frontend_urls == ("https://a.fr", "https://b.fr") and s.rate_limit_per_minute == 42


def test_wire_formats():
    assert wire.iso(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12-01T00:00:00.000Z"
    assert wire.parse_instant("2026-12-01T01:00:00+01:00") == datetime(2026, 12, 1, tzinfo=UTC)
    assert wire.euros_to_cents(19.99) == 1999 and wire.euros_to_cents("0.1") == 10
    assert wire.cents_to_euros(12000) == 120 and wire.cents_to_euros(1999) == 19.99
    with pytest.raises(InvalidInput, match="ID de retraite invalide"):
        wire.parse_object_id({"$ne": None}, "retraite")
    doc = {"_id": ObjectId("0123456789abcdef01234567"), "password": "h", "nested": [{"password": "x", "a": 1}]}
    assert wire.to_wire(doc, hidden=frozenset({"password"})) == {"_id": "0123456789abcdef01234567", "nested": [{"a": 1}]}


def test_invalid_id_messages_follow_the_original():
    from lutea.validation import StrictModel, object_id, parse

    assert wire.invalid_id_message("retraite") == "ID de retraite invalide"
    assert wire.invalid_id_message("utilisateur") == "ID d'utilisateur invalide"

    class Body(StrictModel):
        retreatId: object_id("retraite")  # type: ignore[valid-type]

    with pytest.raises(InvalidInput) as caught:
        parse(Body, {"retreatId": "nothex"})
    assert caught.value.message == ["ID de retraite invalide"]
    assert caught.value.fields == [{"field": "retreatId", "rule": "value_error"}]
    with pytest.raises(InvalidInput):
        parse(Body, {"retreatId": {"$ne": None}})
