"""What other modules and the demo seed call: ensure_admin, public_user, UserRepository."""

from __future__ import annotations

from bson import ObjectId
from lutea.auth.passwords import verify_password
from lutea.data.users import UserRepository
from lutea.domain.accounts import ensure_admin, public_user, session_user

from tests.support.accounts import make_user


def test_ensure_admin_creates_then_updates_idempotently():
    first = ensure_admin(" Admin@Lutea.test ", "Password1!", "Ada", "Lovelace")

    assert first["email"] == "admin@lutea.test" and first["role"] == "admin" and first["isEmailVerified"] is True
    assert verify_password(first["password"], "Password1!")
    again = ensure_admin("admin@lutea.test", "Other2@pass", "Ada", "King")
    assert again["_id"] == first["_id"] and again["lastName"] == "King"
    assert verify_password(again["password"], "Other2@pass")
    assert len(UserRepository().list_all()) == 1


def test_ensure_admin_promotes_an_existing_client():
    client = make_user(email="boss@lutea.test")

    promoted = ensure_admin("boss@lutea.test", "Password1!", "B", "C")

    assert promoted["_id"] == client["_id"] and promoted["role"] == "admin"
    assert promoted["phone"] == client["phone"]  # the rest of the profile is kept


def test_repository_lookups():
    a, b = make_user(email="a@x.test"), make_user(email="b@x.test")
    repo = UserRepository()

    assert repo.get(a["_id"])["email"] == "a@x.test"
    assert repo.get(ObjectId()) is None and repo.get("not-an-oid") is None  # type: ignore[arg-type]
    assert set(repo.find_by_ids([a["_id"], b["_id"], ObjectId()])) == {a["_id"], b["_id"]}
    assert repo.find_by_ids([]) == {}
    assert repo.find_by_email(" A@X.TEST ")["_id"] == a["_id"]
    assert repo.find_by_email({"$ne": ""}) is None  # type: ignore[arg-type]
    assert repo.find_by_email("a@x.tes") is None


def test_public_and_session_user_shapes():
    user = make_user(email="c@x.test", verificationCode="h", passwordResetToken="t", lockUntil=None)

    public = public_user(user)
    assert public["_id"] == str(user["_id"]) and "password" not in public
    assert not {"verificationCode", "passwordResetToken", "lockUntil", "failedLoginAttempts"} & set(public)
    assert session_user(user) == {
        "id": str(user["_id"]),
        "_id": str(user["_id"]),
        "email": "c@x.test",
        "firstName": user["firstName"],
        "lastName": user["lastName"],
        "role": "client",
        "isEmailVerified": True,
    }
