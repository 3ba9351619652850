"""API1:2023 Broken Object Level Authorisation: every route that takes the id of someone's object
answers 404 to anyone else (the same as a missing id), never 200 and never 500.

The owner's request is made in each test too, so a 404 can't come from a broken setup."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from tests.security.support import assert_error, book, guest_proof, stored
from tests.support.accounts import client_session, sign_in


@pytest.fixture
def alice_and_bob(make_client: Any, retreat: dict[str, Any]):
    """Alice with a booking, Bob with his own (so that Bob is a real customer, not a stranger)."""
    alice, alice_user = client_session(make_client)
    bob, bob_user = client_session(make_client)
    return (alice, alice_user, book(alice, retreat)), (bob, bob_user, book(bob, retreat))


def test_a_booking_is_visible_to_its_owner_only(alice_and_bob: Any, make_client: Any) -> None:
    (alice, _, booking), (bob, _, _) = alice_and_bob
    path = f"/bookings/{booking['_id']}"
    assert alice.get(path).status == 200

    assert_error(bob.get(path), 404, "Booking non trouvé")
    # The same answer as for a booking that does not exist: existence is not revealed.
    assert_error(bob.get(f"/bookings/{ObjectId()}"), 404, "Booking non trouvé")
    assert_error(make_client().get(path), 401)


def test_the_pdf_is_for_its_owner_only(alice_and_bob: Any, make_client: Any) -> None:
    (alice, _, booking), (bob, _, _) = alice_and_bob
    path = f"/bookings/{booking['_id']}/pdf"
    mine = alice.get(path)
    assert mine.status == 200 and mine.content.startswith(b"%PDF")

    refused = bob.get(path)
    assert_error(refused, 404, "Booking non trouvé")
    assert "Content-Disposition" not in refused.headers
    assert_error(make_client().get(path), 401)


def test_bearer_callers_get_the_same_404(alice_and_bob: Any, make_client: Any) -> None:
    (_, _, booking), (_, bob_user, _) = alice_and_bob
    bob_bearer = sign_in(make_client(), bob_user, bearer=True)
    assert_error(bob_bearer.get(f"/bookings/{booking['_id']}"), 404)
    assert_error(bob_bearer.get(f"/bookings/{booking['_id']}/pdf"), 404)


def test_my_bookings_lists_only_mine(alice_and_bob: Any) -> None:
    (alice, _, mine), (_, _, theirs) = alice_and_bob
    listed = alice.get("/bookings/my-bookings")
    assert listed.status == 200
    assert [b["_id"] for b in listed.json()] == [mine["_id"]]
    assert theirs["_id"] not in listed.body


def test_a_guest_booking_is_not_readable_by_a_signed_in_stranger(make_client: Any, retreat: dict) -> None:
    guest_booking = book(make_client(), retreat)
    assert guest_booking["userId"] is None and guest_booking["guestToken"]
    stranger, _ = client_session(make_client)
    # A null owner must not match a caller either.
    assert_error(stranger.get(f"/bookings/{guest_booking['_id']}"), 404)
    assert_error(stranger.get(f"/bookings/{guest_booking['_id']}/pdf"), 404)


def test_the_profile_is_always_the_callers_own(make_client: Any) -> None:
    alice, alice_user = client_session(make_client)
    bob, bob_user = client_session(make_client)
    for client, user in ((alice, alice_user), (bob, bob_user)):
        profile = client.get("/users/profile")
        assert profile.status == 200
        assert profile.json()["_id"] == str(user["_id"]) and profile.json()["email"] == user["email"]
        info = client.get("/auth/user-info")
        assert info.status == 200 and info.json()["_id"] == str(user["_id"])
    # Another user's record by id is the admin's business only.
    assert_error(bob.get(f"/users/{alice_user['_id']}"), 403)
    assert_error(bob.delete(f"/users/{alice_user['_id']}"), 403)
    assert stored("users", alice_user["_id"]) is not None
    # A profile update never reaches another account, whatever the body names.
    assert_error(bob.put("/users/profile", json={"_id": str(alice_user["_id"]), "firstName": "Pirate"}), 400)
    assert_error(bob.put("/users/profile", json={"id": str(alice_user["_id"]), "firstName": "Pirate"}), 400)
    assert bob.put("/users/profile", json={"firstName": "Robert"}).status == 200
    assert stored("users", alice_user["_id"])["firstName"] == alice_user["firstName"]
    assert stored("users", bob_user["_id"])["firstName"] == "Robert"


# --- PaymentIntents ---------------------------------------------------------------------------


@pytest.fixture
def paying(stripe_fake: Any, make_client: Any, retreat: dict[str, Any]) -> dict[str, Any]:
    """Alice's booking and two guest bookings, each with its PaymentIntent."""
    alice, alice_user = client_session(make_client)
    bob, _ = client_session(make_client)
    alice_booking = book(alice, retreat)
    guest1 = book(make_client(), retreat, nb=1)
    guest2 = book(make_client(), retreat, nb=1)
    intents = {}
    for name, booking, payer in (("alice", alice_booking, alice), ("guest1", guest1, None), ("guest2", guest2, None)):
        created = (payer or make_client()).post(
            "/stripe/create-payment-intent",
            headers=({} if payer else guest_proof(booking)),
            json={"amount": 1, "currency": "eur", "metadata": {"bookingId": booking["_id"]}},
        )
        assert created.status == 200, created.body
        intents[name] = created.json()["id"]
    return {
        "alice": alice,
        "alice_user": alice_user,
        "bob": bob,
        "alice_booking": alice_booking,
        "guest1": guest1,
        "guest2": guest2,
        "pi": intents,
        "fake": stripe_fake,
    }


def _pi(client: Any, route: str, pi_id: str, token: str | None = None) -> Any:
    headers = {"X-Booking-Token": token} if token else None
    return client.post(f"/stripe/{route}", json={"paymentIntentId": pi_id}, headers=headers)


def test_get_payment_intent_is_for_the_owner_or_the_guest_proof_only(paying: dict[str, Any], make_client: Any) -> None:
    pi, g1 = paying["pi"], paying["guest1"]
    owner = _pi(paying["alice"], "get-payment-intent", pi["alice"])
    assert owner.status == 200
    assert set(owner.json()) == {"id", "status", "amount", "currency", "client_secret"}
    assert _pi(make_client(), "get-payment-intent", pi["guest1"], g1["guestToken"]).status == 200

    assert_error(_pi(paying["bob"], "get-payment-intent", pi["alice"]), 404, "Paiement non trouvé")
    assert_error(_pi(make_client(), "get-payment-intent", pi["alice"]), 401)
    assert_error(_pi(make_client(), "get-payment-intent", pi["alice"], g1["guestToken"]), 404, "Paiement non trouvé")
    # Guest proof of booking 1 does not open booking 2, with or without a session.
    assert_error(_pi(make_client(), "get-payment-intent", pi["guest2"], g1["guestToken"]), 404, "Paiement non trouvé")
    assert_error(_pi(paying["bob"], "get-payment-intent", pi["guest2"], g1["guestToken"]), 404)
    # A signed-in user gets nothing out of a guest booking without its proof.
    assert_error(_pi(paying["bob"], "get-payment-intent", pi["guest2"]), 404)
    # An unknown PaymentIntent: the same answer.
    assert_error(_pi(paying["bob"], "get-payment-intent", "pi_doesnotexist123"), 404, "Paiement non trouvé")
    assert_error(_pi(make_client(), "get-payment-intent", pi["guest2"], "x" * 43), 404, "Paiement non trouvé")


def test_cancel_payment_intent_by_anyone_else_changes_nothing(paying: dict[str, Any], make_client: Any) -> None:
    pi, g1, fake = paying["pi"], paying["guest1"], paying["fake"]
    attempts = [
        _pi(paying["bob"], "cancel-payment-intent", pi["alice"]),
        _pi(make_client(), "cancel-payment-intent", pi["alice"], g1["guestToken"]),
        _pi(make_client(), "cancel-payment-intent", pi["guest2"], g1["guestToken"]),
        _pi(paying["bob"], "cancel-payment-intent", pi["guest2"]),
    ]
    for response in attempts:
        assert_error(response, 404, "Paiement non trouvé")
    assert_error(_pi(make_client(), "cancel-payment-intent", pi["alice"]), 401)

    assert not [r for r in fake.requests_to("POST", "/v1/payment_intents/") if r.path.endswith("/cancel")]
    for key in ("alice_booking", "guest2"):
        booking = stored("bookings", paying[key]["_id"])
        assert (booking["statut"], booking["statutPaiement"]) == ("PENDING", "PENDING")
    for key in ("alice", "guest2"):
        assert fake.payment_intents[pi[key]]["status"] == "requires_payment_method"

    # The owner and the right guest can.
    assert _pi(paying["alice"], "cancel-payment-intent", pi["alice"]).status == 200
    assert _pi(make_client(), "cancel-payment-intent", pi["guest1"], g1["guestToken"]).status == 200
    assert stored("bookings", paying["alice_booking"]["_id"])["statut"] == "CANCELLED"


def test_the_guest_token_stops_working_once_the_booking_is_over(
    frozen_clock: Any, paying: dict[str, Any], make_client: Any
) -> None:
    pi, g1 = paying["pi"], paying["guest1"]
    assert _pi(make_client(), "get-payment-intent", pi["guest1"], g1["guestToken"]).status == 200
    # Cancelled (by its guest), then past its payment window: the proof is spent.
    assert _pi(make_client(), "cancel-payment-intent", pi["guest1"], g1["guestToken"]).status == 200
    frozen_clock.advance(minutes=17)
    assert_error(_pi(make_client(), "get-payment-intent", pi["guest1"], g1["guestToken"]), 404)


def test_a_hidden_retreat_is_not_served_to_the_public(make_client: Any) -> None:
    """Hiding a retreat takes effect at once, in the list and by id (whatever is cached)."""
    from tests.support.accounts import admin_session
    from tests.support.catalogue import insert_retreat

    shown, hidden = insert_retreat(title="Visible"), insert_retreat(title="Cachée", isActive=False)
    visitor = make_client()
    assert [r["_id"] for r in visitor.get("/retreats/public").json()] == [str(shown["_id"])]
    assert_error(visitor.get(f"/retreats/public/{hidden['_id']}"), 404)

    admin, _ = admin_session(make_client)
    assert admin.patch(f"/retreats/admin/{shown['_id']}/toggle-active").json()["isActive"] is False
    assert visitor.get("/retreats/public").json() == []
    assert_error(visitor.get(f"/retreats/public/{shown['_id']}"), 404)
    assert admin.patch(f"/retreats/admin/{hidden['_id']}/toggle-active").json()["isActive"] is True
    assert [r["_id"] for r in visitor.get("/retreats/public").json()] == [str(hidden["_id"])]
