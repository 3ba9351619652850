"""The /users routes: profile, password change, account deletion, admin views."""

from __future__ import annotations

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db

from tests.integration.auth.flows import (
    NEW_PASSWORD,
    PASSWORD,
    PUBLIC_USER_KEYS,
    assert_error,
    assert_public_user,
    user_with_password,
)
from tests.support.accounts import admin_session, client_session, make_user, sign_in


def _signed_in_with_password(make_client, **fields):
    user = user_with_password(email="hugo@example.test", **fields)
    return sign_in(make_client(), user), user


def test_get_profile_shape(make_client):
    client, user = client_session(make_client)

    response = client.get("/users/profile")

    assert response.status == 200
    assert_public_user(response.json(), user)
    assert make_client().get("/users/profile").status == 401


def test_user_json_never_carries_secrets(make_client, outbox_dir):
    secretive = user_with_password(
        "admin",
        email="sec@example.test",
        verificationCode="h",
        verificationCodeExpires=None,
        passwordResetToken="t",
        passwordResetAttempts=2,
        lockUntil=None,
        failedLoginAttempts=3,
        __v=0,
        internalNote="x",
    )
    client = sign_in(make_client(), secretive)

    for path in ("/users/profile", "/auth/user-info", f"/users/{secretive['_id']}"):
        assert set(client.get(path).json()) == PUBLIC_USER_KEYS, path
    listed = client.get("/users").json()
    assert all(set(u) <= PUBLIC_USER_KEYS | {"lastLogin"} for u in listed)
    found = client.get("/users/admin/search-by-email", query={"email": "sec@example.test"}).json()
    assert set(found["user"]) == PUBLIC_USER_KEYS


def test_update_profile_fields(make_client, frozen_clock):
    client, user = client_session(make_client)
    frozen_clock.advance(minutes=5)

    response = client.put("/users/profile", json={"firstName": " Léa ", "city": "Sète", "phone": "0700000000"})

    assert response.status == 200
    body = response.json()
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert_public_user(body, stored)
    assert body["firstName"] == "Léa" and body["city"] == "Sète" and body["phone"] == "0700000000"
    assert body["lastName"] == user["lastName"]
    assert body["updatedAt"] == "2026-12-01T09:05:00.000Z"


@pytest.mark.parametrize(
    "field,value",
    [
        ("role", "admin"),
        ("email", "x@example.test"),
        ("isEmailVerified", False),
        ("failedLoginAttempts", 0),
        ("lockUntil", None),
        ("password", "Abcdef1!"),
    ],
)
def test_update_profile_refuses_other_fields(make_client, field, value):
    client, user = client_session(make_client)

    response = client.put("/users/profile", json={"firstName": "Zoé", field: value})

    assert response.status == 400
    assert response.json()["details"]["message"] == [f"property {field} should not exist"]
    stored = get_db()["users"].find_one({"_id": user["_id"]})
    assert stored["role"] == "client" and stored["firstName"] == user["firstName"]
    assert stored["email"] == user["email"] and stored["isEmailVerified"] is True


def test_client_sending_role_admin_stays_a_client(make_client):
    client, _ = client_session(make_client)

    assert client.put("/users/profile", json={"role": "admin"}).status == 400

    assert client.get("/users/profile").json()["role"] == "client"
    assert client.get("/users").status == 403


def test_password_change_needs_the_current_password(make_client):
    client, _ = _signed_in_with_password(make_client)
    change = {"currentPassword": "Wrong1!pass", "newPassword": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD}

    assert_error(client.put("/users/profile", json=change), 400, "Mot de passe actuel incorrect")
    assert_error(
        client.put("/users/profile", json={"newPassword": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD}),
        400,
        "Le mot de passe actuel est requis",
    )
    assert_error(
        client.put("/users/profile", json={**change, "currentPassword": PASSWORD, "confirmPassword": "Autre3$mdp"}),
        400,
        "Les mots de passe ne correspondent pas",
    )
    weak = client.put(
        "/users/profile", json={**change, "currentPassword": PASSWORD, "newPassword": "faible", "confirmPassword": "faible"}
    )
    assert weak.status == 400 and weak.json()["details"]["fields"][0]["field"] == "newPassword"
    assert make_client().post("/auth/login", json={"email": "hugo@example.test", "password": PASSWORD}).status == 200


def test_password_change_succeeds_with_the_right_current_password(make_client):
    client, _user = _signed_in_with_password(make_client)
    change = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "confirmPassword": NEW_PASSWORD, "city": "Nîmes"}

    response = client.put("/users/profile", json=change)

    assert response.status == 200 and response.json()["city"] == "Nîmes"
    assert "password" not in response.json()
    login = make_client()
    assert login.post("/auth/login", json={"email": "hugo@example.test", "password": PASSWORD}).status == 401
    assert login.post("/auth/login", json={"email": "hugo@example.test", "password": NEW_PASSWORD}).status == 200


def test_blank_password_fields_mean_no_password_change(make_client):
    client, _ = _signed_in_with_password(make_client)

    response = client.put(
        "/users/profile", json={"lastName": "Durand", "currentPassword": "", "newPassword": "", "confirmPassword": ""}
    )

    assert response.status == 200 and response.json()["lastName"] == "Durand"
    assert make_client().post("/auth/login", json={"email": "hugo@example.test", "password": PASSWORD}).status == 200


def test_validate_password_answers_201_and_counts_failures(make_client):
    client, user = _signed_in_with_password(make_client)

    right = client.post("/users/validate-password", json={"currentPassword": PASSWORD})
    wrong = client.post("/users/validate-password", json={"currentPassword": "Wrong1!pass"})

    assert right.status == 201 and right.json() == {"isValid": True}
    assert wrong.status == 201 and wrong.json() == {"isValid": False}
    assert get_db()["users"].find_one({"_id": user["_id"]})["failedLoginAttempts"] == 1
    for _ in range(3):
        client.post("/users/validate-password", json={"currentPassword": "Wrong1!pass"})
    # Locked like a sign-in: a stolen session can't be used to guess the password.
    assert client.post("/users/validate-password", json={"currentPassword": PASSWORD}).json() == {"isValid": False}
    assert client.post("/users/validate-password", json={}).status == 400
    assert make_client().post("/users/validate-password", json={"currentPassword": PASSWORD}).status == 401


def test_delete_own_account_keeps_bookings_and_ends_sessions(make_client):
    client, user = client_session(make_client)
    other_session = sign_in(make_client(), user)
    booking_id = (
        get_db()["bookings"]
        .insert_one(
            {"userId": user["_id"], "statut": "CONFIRMED", "participants": [{"prenom": "A", "nom": "B", "email": "a@b.c"}]}
        )
        .inserted_id
    )

    response = client.delete("/users/profile")

    assert response.status == 200 and response.json() == {"message": "Compte supprimé avec succès"}
    assert all("Max-Age=0" in c for c in response.set_cookies) and len(response.set_cookies) == 2
    assert get_db()["users"].find_one({"_id": user["_id"]}) is None
    booking = get_db()["bookings"].find_one({"_id": booking_id})
    # The history stays, guest-like (API.md), with personal data only as the law requires:
    # no owner, participants anonymised (docs/rgpd.md).
    assert booking["userId"] is None and booking["isGuest"] is True and booking["statut"] == "CONFIRMED"
    assert booking["participants"][0] == {"_id": None, "prenom": "Anonyme", "nom": "Anonyme", "email": ""}
    assert other_session.get("/auth/profile").status == 401
    assert other_session.post("/auth/refresh").status == 401


def test_admin_lists_gets_and_deletes_users(make_client):
    admin, admin_doc = admin_session(make_client)
    target = make_user(email="ines@example.test")
    target_session = sign_in(make_client(), target)

    listed = admin.get("/users")
    assert listed.status == 200
    by_id = {u["_id"]: u for u in listed.json()}
    assert set(by_id) == {str(admin_doc["_id"]), str(target["_id"])}
    assert_public_user(by_id[str(target["_id"])], target)

    one = admin.get(f"/users/{target['_id']}")
    assert one.status == 200
    assert_public_user(one.json(), target)

    deleted = admin.delete(f"/users/{target['_id']}")
    assert deleted.status == 200 and deleted.json() == {"message": "Utilisateur supprimé avec succès"}
    assert target_session.get("/auth/profile").status == 401
    assert_error(admin.get(f"/users/{target['_id']}"), 404, "Utilisateur non trouvé")
    assert_error(admin.delete(f"/users/{target['_id']}"), 404, "Utilisateur non trouvé")
    assert_error(admin.get("/users/not-an-id"), 400, "ID d'utilisateur invalide")
    assert_error(admin.delete("/users/123"), 400, "ID d'utilisateur invalide")
    assert admin.get(f"/users/{ObjectId()}").status == 404


def test_admin_routes_refuse_clients_and_strangers_before_validation(make_client):
    client, _ = client_session(make_client)
    for path in ("/users", "/users/not-an-id", "/users/admin/search-by-email"):
        assert client.get(path).status == 403
        assert make_client().get(path).status == 401
    assert client.delete("/users/not-an-id").status == 403


def test_search_by_email_is_exact_and_case_insensitive(make_client):
    admin, _ = admin_session(make_client)
    target = make_user(email="jade.roux@example.test")

    found = admin.get("/users/admin/search-by-email", query={"email": " Jade.Roux@EXAMPLE.test"})
    assert found.status == 200
    assert found.json()["found"] is True
    assert_public_user(found.json()["user"], target)

    for probe in ("jade", "jade.*@example.test", "^jade", "jade.roux@example.tes", '{"$ne": null}'):
        response = admin.get("/users/admin/search-by-email", query={"email": probe})
        assert response.status == 200 and response.json() == {"found": False, "user": None}, probe
    assert_error(admin.get("/users/admin/search-by-email"), 400, "Email requis")
    assert_error(admin.get("/users/admin/search-by-email", query={"email": ""}), 400, "Email requis")
