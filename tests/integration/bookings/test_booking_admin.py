"""The admin routes of /bookings, with Stripe as the real SDK against the fake server."""

from __future__ import annotations

from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository

from tests.support.accounts import admin_session, client_session
from tests.support.catalogue import START, booking_body
from tests.support.outbox import mails_to, read_outbox


def _held(retreat, block=0):
    return SeatRepository().held(retreat["dates"][block]["_id"])


def _stored(booking):
    return get_db()["bookings"].find_one({"_id": ObjectId(booking["_id"])})


def test_admin_routes_need_an_admin(make_client, retreat):
    client, _ = client_session(make_client)
    anonymous = make_client()
    some = str(ObjectId())
    calls = [
        ("get", "/bookings/admin/all", None),
        ("get", "/bookings/admin/stats", None),
        ("post", "/bookings/admin/cleanup", None),
        ("post", "/bookings/admin/create", booking_body(retreat)),
        ("get", f"/bookings/admin/{some}", None),
        ("patch", f"/bookings/admin/{some}/confirm", {"stripePaymentIntentId": "pi_x"}),
        ("patch", f"/bookings/admin/{some}/cancel", {}),
    ]
    for method, path, body in calls:
        assert getattr(anonymous, method)(path, json=body).status == 401, path
        assert getattr(client, method)(path, json=body).status == 403, path


def test_admin_all_is_populated_newest_first(make_client, make_retreat, frozen_clock):
    admin, _ = admin_session(make_client)
    retreat = make_retreat(prix=95)  # an older retreat that still has a top-level price (euros)
    client, user = client_session(make_client)
    mine = client.post("/bookings", json=booking_body(retreat, nb=1)).json()
    frozen_clock.advance(minutes=1)
    guest = make_client().post("/bookings", json=booking_body(retreat, nb=1)).json()

    res = admin.get("/bookings/admin/all")
    assert res.status == 200
    listed = res.json()
    assert [b["_id"] for b in listed] == [guest["_id"], mine["_id"]]
    assert listed[0]["userId"] is None
    assert listed[1]["userId"] == {
        "_id": str(user["_id"]),
        "firstName": user["firstName"],
        "lastName": user["lastName"],
        "email": user["email"],
    }
    assert listed[0]["retreatId"] == listed[1]["retreatId"] == {"_id": str(retreat["_id"]), "prix": 95}
    assert listed[1]["prixTotal"] == 120 and "prixTotalCents" not in listed[1] and "guestTokenHash" not in listed[0]

    one = admin.get(f"/bookings/admin/{mine['_id']}")
    assert one.status == 200 and one.json() == listed[1]
    assert admin.get(f"/bookings/admin/{ObjectId()}").status == 404
    assert admin.get("/bookings/admin/zzz").json()["details"]["message"] == "ID de booking invalide"

    get_db()["retreats"].delete_one({"_id": retreat["_id"]})
    assert admin.get(f"/bookings/admin/{mine['_id']}").json()["retreatId"] is None


def test_retreat_ref_without_legacy_price_has_only_its_id(make_client, retreat):
    admin, _ = admin_session(make_client)
    booking = make_client().post("/bookings", json=booking_body(retreat, nb=1)).json()
    assert admin.get(f"/bookings/admin/{booking['_id']}").json()["retreatId"] == {"_id": str(retreat["_id"])}


def test_stats_count_by_status_and_revenue_in_euros(make_client, make_retreat):
    admin, _ = admin_session(make_client)
    retreat = make_retreat(prix_cents=10_050, places=20)
    assert admin.get("/bookings/admin/stats").json() == {"total": 0, "pending": 0, "confirmed": 0, "cancelled": 0, "revenue": 0}
    make_client().post("/bookings", json=booking_body(retreat, nb=1))
    admin.post("/bookings/admin/create", json=booking_body(retreat, nb=2))  # CONFIRMED + PAID: 201 €
    admin.post("/bookings/admin/create", json=booking_body(retreat, nb=1, statut="PENDING"))
    cancelled = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=3)).json()
    admin.patch(f"/bookings/admin/{cancelled['_id']}/cancel", json={})

    res = admin.get("/bookings/admin/stats")
    assert res.status == 200
    assert res.json() == {"total": 4, "pending": 2, "confirmed": 1, "cancelled": 1, "revenue": 201}


def test_admin_create_is_confirmed_paid_manual_booking(make_client, make_retreat):
    admin, _ = admin_session(make_client)
    _, user = client_session(make_client)
    retreat = make_retreat(places=4, prix_cents=15_000)
    res = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=3, userId=str(user["_id"]), prixTotal=1))
    assert res.status == 201
    data = res.json()
    assert (data["statut"], data["statutPaiement"], data["isStripeBooking"]) == ("CONFIRMED", "PAID", False)
    assert data["userId"] == str(user["_id"]) and data["isGuest"] is False and "guestToken" not in data
    assert data["prixTotal"] == 450 and data["notes"] == "Créé manuellement par l'admin"
    assert _held(retreat) == 3

    full = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=2))
    assert full.status == 409 and full.json()["message"] == "Seulement 1 places disponibles"
    unknown_user = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=1, userId=str(ObjectId())))
    assert unknown_user.status == 404 and unknown_user.json()["message"] == "Utilisateur non trouvé"
    pending = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=1, statut="PENDING")).json()
    assert (pending["statut"], pending["statutPaiement"], pending["userId"]) == ("PENDING", "PENDING", None)
    assert _held(retreat) == 4
    assert admin.post("/bookings/admin/create", json=booking_body(retreat, statut="DONE")).status == 400


def _stripe_booking(api, retreat, stripe_fake, *, nb=2, succeed=True):
    booking = api.post("/bookings", json=booking_body(retreat, nb=nb)).json()
    pi = stripe_fake.add_payment_intent(amount=round(booking["prixTotal"] * 100), metadata={"bookingId": booking["_id"]})
    if succeed:
        stripe_fake.succeed(pi["id"])
    return booking, pi["id"]


def test_admin_confirm_checks_the_payment_at_stripe(make_client, api, retreat, stripe_fake, outbox_dir):
    admin, _ = admin_session(make_client)
    booking, pi_id = _stripe_booking(api, retreat, stripe_fake)
    unpaid = stripe_fake.add_payment_intent(amount=24_000)["id"]
    wrong_amount = stripe_fake.add_payment_intent(amount=100, status="succeeded")["id"]
    path = f"/bookings/admin/{booking['_id']}/confirm"

    for pi, message in (
        (unpaid, "Le paiement n'a pas abouti pour le montant de la réservation"),
        (wrong_amount, "Le paiement n'a pas abouti pour le montant de la réservation"),
        ("pi_missing", "Paiement non trouvé"),
    ):
        res = admin.patch(path, json={"stripePaymentIntentId": pi})
        assert res.status == 400 and res.json()["details"]["message"] == message
    assert _stored(booking)["statut"] == "PENDING"
    assert admin.patch(path, json={}).status == 400

    res = admin.patch(path, json={"stripePaymentIntentId": pi_id})
    assert res.status == 200
    data = res.json()
    assert (data["statut"], data["statutPaiement"], data["stripePaymentIntentId"]) == ("CONFIRMED", "PAID", pi_id)
    mails = mails_to(outbox_dir, "zoe0@example.test", "booking_confirmation")
    assert len(mails) == 1
    (filename, ctype, content), (_, ics_type, _) = mails[0].attachments()
    assert ics_type == "text/calendar"
    assert ctype == "application/pdf" and content.startswith(b"%PDF") and filename.endswith(f"-12-03-{START.year}.pdf")

    again = admin.patch(path, json={"stripePaymentIntentId": pi_id})
    assert again.status == 400 and again.json()["details"]["message"] == "Le booking n'est pas en attente"
    assert len(mails_to(outbox_dir, "zoe0@example.test", "booking_confirmation")) == 1
    assert _held(retreat) == 2


def test_admin_confirm_refuses_a_payment_of_another_booking(make_client, api, retreat, stripe_fake):
    admin, _ = admin_session(make_client)
    first, pi_first = _stripe_booking(api, retreat, stripe_fake)
    second = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    # Paid for the first booking (its metadata says so), same amount: still not the second's payment.
    pay_first = {"stripePaymentIntentId": pi_first}
    res = admin.patch(f"/bookings/admin/{second['_id']}/confirm", json=pay_first)
    assert res.status == 400
    assert admin.patch(f"/bookings/admin/{first['_id']}/confirm", json=pay_first).status == 200
    res = admin.patch(f"/bookings/admin/{second['_id']}/confirm", json=pay_first)
    assert res.status == 400
    assert res.json()["details"]["message"] == "Ce paiement est déjà associé à une autre réservation"


def test_confirmation_survives_an_email_failure(make_client, api, retreat, stripe_fake, monkeypatch):
    from lutea.email import messages

    def broken(*args, **kwargs):
        raise RuntimeError("smtp down for someone@example.test")

    monkeypatch.setattr(messages, "send_booking_confirmation", broken)
    admin, _ = admin_session(make_client)
    booking, pi_id = _stripe_booking(api, retreat, stripe_fake)
    res = admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": pi_id})
    assert res.status == 200 and res.json()["statut"] == "CONFIRMED"


def test_double_cancel_releases_seats_once(make_client, api, make_retreat, outbox_dir):
    admin, _ = admin_session(make_client)
    retreat = make_retreat(places=5)
    booking = api.post("/bookings", json=booking_body(retreat, nb=2)).json()
    other = api.post("/bookings", json=booking_body(retreat, nb=3)).json()
    assert _held(retreat) == 5

    first = admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={"raison": "Client malade"})
    assert first.status == 200
    data = first.json()
    assert (data["statut"], data["statutPaiement"]) == ("CANCELLED", "PENDING")
    assert data["annulationRaison"] == "Client malade" and data["annulationDate"].endswith("Z")
    assert _held(retreat) == 3

    second = admin.patch(f"/bookings/admin/{booking['_id']}/cancel")  # no body at all
    assert second.status == 200 and second.json()["annulationRaison"] == "Client malade"
    assert _held(retreat) == 3  # not released twice: the other booking keeps its 3 seats
    assert _stored(other)["seatsHeld"] is True
    assert len(mails_to(outbox_dir, "zoe0@example.test", "booking_cancelled")) == 1

    default = admin.patch(f"/bookings/admin/{other['_id']}/cancel", json={})
    assert default.json()["annulationRaison"] == "Annulation" and _held(retreat) == 0
    assert admin.patch(f"/bookings/admin/{other['_id']}/cancel", json={"oops": 1}).status == 400
    assert (
        admin.patch(
            f"/bookings/admin/{other['_id']}/cancel", body="{not json", headers={"Content-Type": "application/json"}
        ).status
        == 400
    )


def test_cancelling_a_paid_stripe_booking_refunds_it(make_client, api, retreat, stripe_fake, outbox_dir):
    admin, _ = admin_session(make_client)
    booking, pi_id = _stripe_booking(api, retreat, stripe_fake)
    admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": pi_id})

    res = admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={"raison": "Retraite annulée"})
    assert res.status == 200
    assert (res.json()["statut"], res.json()["statutPaiement"]) == ("CANCELLED", "REFUNDED")
    refunds = [r for r in stripe_fake.refunds.values() if r["payment_intent"] == pi_id]
    assert len(refunds) == 1 and refunds[0]["amount"] == 24_000
    assert _held(retreat) == 0
    mails = mails_to(outbox_dir, "zoe0@example.test", "booking_cancelled")
    assert len(mails) == 1 and "remboursé" in mails[0].text

    admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={})
    assert len([r for r in stripe_fake.refunds.values() if r["payment_intent"] == pi_id]) == 1


def test_a_failed_refund_is_completed_by_cancelling_again(make_client, api, retreat, stripe_fake, outbox_dir):
    admin, _ = admin_session(make_client)
    booking, pi_id = _stripe_booking(api, retreat, stripe_fake)
    admin.patch(f"/bookings/admin/{booking['_id']}/confirm", json={"stripePaymentIntentId": pi_id})
    stripe_fake.failures.extend([500, 500, 500])

    # Stripe failing: the cancellation holds, the refund is owed (retried, see the owed-effects tests).
    res = admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={})
    assert res.status == 200
    assert (_stored(booking)["statut"], _stored(booking)["statutPaiement"]) == ("CANCELLED", "PAID")
    assert set(_stored(booking)["owed"]) == {f"refund_{pi_id}"}
    assert "owed" not in res.json()
    assert _held(retreat) == 0
    # Told once refunded: nothing yet beyond the confirmation (and its admin copy).
    assert [m.kind for m in read_outbox(outbox_dir)] == ["booking_confirmation", "booking_confirmation_copy"]
    stripe_fake.failures.clear()

    res = admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={})
    assert res.status == 200 and res.json()["statutPaiement"] == "REFUNDED"
    assert _held(retreat) == 0
    assert [m.kind for m in read_outbox(outbox_dir)] == ["booking_confirmation", "booking_confirmation_copy", "booking_cancelled"]
    assert len(mails_to(outbox_dir, "zoe0@example.test", "booking_cancelled")) == 1


def test_cancelling_a_manual_paid_booking_calls_no_stripe(make_client, retreat, stripe_fake):
    admin, _ = admin_session(make_client)
    booking = admin.post("/bookings/admin/create", json=booking_body(retreat, nb=1)).json()
    res = admin.patch(f"/bookings/admin/{booking['_id']}/cancel", json={})
    assert res.status == 200 and (res.json()["statut"], res.json()["statutPaiement"]) == ("CANCELLED", "PAID")
    assert stripe_fake.requests == []
