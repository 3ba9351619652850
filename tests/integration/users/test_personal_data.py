"""RGPD: a signed-in user downloads what is held about her and deletes her account with her
password; bookings stay anonymised, the rest of her data goes (docs/rgpd.md)."""

from __future__ import annotations

from bson import ObjectId
from lutea.auth import passwords
from lutea.data.mongo import get_db

from tests.support.accounts import admin_session, client_session, sign_in
from tests.support.catalogue import booking_body, insert_retreat

PASSWORD = "Secret!123"


def _user_with_history(make_client):
    """A client with a booking filling a one-seat block, her place on its waiting list, a contact
    consent, and an analytics session started while signed in."""
    client, user = client_session(make_client, email="lea@example.test", password=passwords.hash_password(PASSWORD))
    retreat = insert_retreat(places=1)
    booking = client.post("/bookings", json=booking_body(retreat, nb=1)).json()
    joined = client.post(
        "/bookings/waiting-list",
        json={
            "retreatId": str(retreat["_id"]),
            "dateStart": booking["dateStart"],
            "nbPlaces": 1,
            "email": "lea@example.test",
            "prenom": "Léa",
        },
    )
    assert joined.status == 201, joined.body
    sent = make_client().post(
        "/email/contact",
        json={
            "nom": "Roux",
            "prenom": "Léa",
            "email": "lea@example.test",
            "telephone": "0600000000",
            "message": "Bonjour",
            "rgpd": True,
        },
    )
    assert sent.status == 200, sent.body
    assert client.post("/analytics/session", json={"session_id": "s-lea", "started_at": "2026-12-01T09:00:00Z"}).status == 201
    assert (
        client.post(
            "/analytics/event", json={"session_id": "s-lea", "event_type_code": "page_view", "page_path": "/retraites"}
        ).status
        == 201
    )
    assert (
        make_client().post("/analytics/session", json={"session_id": "s-anon", "started_at": "2026-12-01T09:00:00Z"}).status
        == 201
    )
    return client, user, booking


def _confirm(booking):
    get_db()["bookings"].update_one(
        {"_id": ObjectId(booking["_id"])}, {"$set": {"statut": "CONFIRMED", "statutPaiement": "PAID"}}
    )


def test_export_holds_everything_about_her_and_no_secret(make_client):
    client, _user, booking = _user_with_history(make_client)

    response = client.get("/users/profile/export")

    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="mes-donnees-lutea.json"'
    data = response.json()
    assert set(data) == {"exporteLe", "profil", "reservations", "listeAttente", "consentementsContact", "sessionsAnalytiques"}
    assert data["profil"]["email"] == "lea@example.test" and "password" not in data["profil"]
    assert [b["_id"] for b in data["reservations"]] == [booking["_id"]]
    assert "guestTokenHash" not in data["reservations"][0]
    [entry] = data["listeAttente"]
    assert entry["email"] == "lea@example.test" and entry["statut"] == "WAITING" and "tokenVersion" not in entry
    [consent] = data["consentementsContact"]
    assert consent["consentedAt"] and consent["expiresAt"] > consent["consentedAt"]
    [session] = data["sessionsAnalytiques"]  # the anonymous visit is not hers
    assert session["session_id"] == "s-lea" and [e["page_path"] for e in session["events"]] == ["/retraites"]
    assert "Bonjour" not in response.body  # contact messages are not stored


def test_deletion_needs_her_password_and_refuses_while_a_payment_is_pending(make_client):
    client, user, _booking = _user_with_history(make_client)

    wrong = client.post("/users/profile/delete", json={"currentPassword": "Wrong!123"})
    assert wrong.status == 400 and wrong.json()["details"]["message"] == "Mot de passe actuel incorrect"
    missing = client.post("/users/profile/delete", json={})
    assert missing.status == 400
    pending = client.post("/users/profile/delete", json={"currentPassword": PASSWORD})
    assert pending.status == 409 and "attente de paiement" in pending.json()["message"]
    assert get_db()["users"].find_one({"_id": user["_id"]}) is not None
    assert make_client().post("/users/profile/delete", json={"currentPassword": PASSWORD}).status == 401


def test_deletion_anonymises_bookings_and_erases_the_rest(make_client):
    client, user, booking = _user_with_history(make_client)
    other_session = sign_in(make_client(), user)
    _confirm(booking)

    response = client.post("/users/profile/delete", json={"currentPassword": PASSWORD})

    assert response.status == 200 and response.json() == {"message": "Compte supprimé avec succès"}
    assert all("Max-Age=0" in c for c in response.set_cookies)
    db = get_db()
    assert db["users"].find_one({"_id": user["_id"]}) is None
    kept = db["bookings"].find_one({"_id": ObjectId(booking["_id"])})
    assert (kept["statut"], kept["statutPaiement"], kept["prixTotalCents"]) == ("CONFIRMED", "PAID", 12_000)
    assert kept["userId"] is None and kept["isGuest"] is True and kept["anonymisedAt"]
    assert [(p["prenom"], p["nom"], p["email"]) for p in kept["participants"]] == [("Anonyme", "Anonyme", "")]
    assert kept["billingAddress"] == {"address": "Anonyme", "city": "Anonyme", "postalCode": "", "country": "France", "phone": ""}
    assert "notes" not in kept and "guestTokenHash" not in kept
    assert db["waitinglist"].count_documents({}) == 0
    assert db["contactconsents"].count_documents({}) == 0
    admin, _ = admin_session(make_client)
    from lutea.data.analytics import AnalyticsRepository

    repo = AnalyticsRepository()
    assert repo.get_session("s-lea") is None and repo.get_session("s-anon") is not None
    assert repo.count_events() == 0
    assert other_session.get("/auth/profile").status == 401
    assert admin.get(f"/users/{user['_id']}").status == 404


def test_an_offer_held_for_her_goes_to_the_next_in_line(make_client):
    client, _user, booking = _user_with_history(make_client)
    _confirm(booking)
    entry = get_db()["waitinglist"].find_one({})
    # Her place on the list became an offer holding a seat (counted on the block's counter).
    from lutea.data.seats import SeatRepository

    get_db()["seatcounters"].update_one(
        {"_id": entry["dateId"]}, {"$inc": {"places": 1, "held": 1}, "$push": {"holders": {"bookingId": entry["_id"], "n": 1}}}
    )  # named by the offer
    get_db()["waitinglist"].update_one({"_id": entry["_id"]}, {"$set": {"statut": "OFFERED", "seatsHeld": True}})
    held_before = SeatRepository().held(entry["dateId"])

    assert client.post("/users/profile/delete", json={"currentPassword": PASSWORD}).status == 200

    assert SeatRepository().held(entry["dateId"]) == held_before - 1
    assert get_db()["waitinglist"].count_documents({}) == 0


def test_an_admin_account_is_not_deleted_from_its_profile(make_client):
    admin, admin_user = admin_session(make_client, password=passwords.hash_password(PASSWORD))
    response = admin.post("/users/profile/delete", json={"currentPassword": PASSWORD})
    assert response.status == 403
    assert get_db()["users"].find_one({"_id": admin_user["_id"]}) is not None


def test_legacy_delete_route_erases_the_same_way(make_client):
    client, _user, booking = _user_with_history(make_client)
    _confirm(booking)
    assert client.delete("/users/profile").status == 200
    kept = get_db()["bookings"].find_one({"_id": ObjectId(booking["_id"])})
    assert kept["participants"][0]["email"] == "" and get_db()["contactconsents"].count_documents({}) == 0


def test_export_needs_a_session(make_client):
    assert make_client().get("/users/profile/export").status == 401


def test_with_the_analytics_database_down_export_and_deletion_are_503_and_nothing_is_lost(make_client, monkeypatch):
    import socket

    from lutea.data.sql import reset_sql

    from tests.support.mysql import point_at_mysql

    client, user = client_session(make_client, password=passwords.hash_password(PASSWORD))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    point_at_mysql(monkeypatch, "lutea_unreachable", host="127.0.0.1", port=port)
    reset_sql()
    try:
        assert client.get("/users/profile/export").status == 503
        assert client.post("/users/profile/delete", json={"currentPassword": PASSWORD}).status == 503
        assert get_db()["users"].find_one({"_id": user["_id"]}) is not None
        assert client.get("/users/profile").status == 200  # still signed in: she can try again
    finally:
        reset_sql()
