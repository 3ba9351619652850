"""POST /stripe/create-payment-intent, get-payment-intent and cancel-payment-intent, through the
real handlers and the real Stripe SDK talking to the fake Stripe server."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.conftest import PRICE_CENTS, Payments, insert_retreat
from tests.security.support import without_timestamp
from tests.support.accounts import client_session
from tests.support.catalogue import START


def _pi_posts(payments: Payments) -> list[Any]:
    return payments.fake.requests_to("POST", "/v1/payment_intents")


# --- create-payment-intent -------------------------------------------------------------------


def test_create_prices_the_booking_on_the_server(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=2)
    answer = payments.create_intent(booking)
    assert set(answer) == {"clientSecret", "id"}
    pi = payments.fake.payment_intents[answer["id"]]
    assert answer["clientSecret"] == pi["client_secret"]
    [sent] = _pi_posts(payments)
    assert sent.params["amount"] == str(2 * PRICE_CENTS)
    assert sent.params["currency"] == "eur"
    assert sent.params["metadata"]["bookingId"] == booking.id
    assert sent.params["metadata"]["retreatName"] == "Retraite Équinoxe"
    assert sent.params["metadata"]["sessionDate"] == START.strftime("%Y-%m-%d")
    assert "clientEmail" not in sent.params["metadata"]  # no personal data at Stripe
    assert sent.idempotency_key == f"booking-{booking.id}-pi"
    assert booking.stored()["stripePaymentIntentId"] == answer["id"]


def test_forged_amount_currency_and_metadata_are_ignored(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=1)
    response = payments.make_client().post(
        "/stripe/create-payment-intent",
        json={
            "amount": 1,
            "currency": "usd",
            "metadata": {"bookingId": booking.id, "amount": 1, "retreatName": "Gratuit", "source": "attacker"},
        },
        headers=payments.proof(booking),
    )
    assert response.status == 200, response.body
    [sent] = _pi_posts(payments)
    assert sent.params["amount"] == str(PRICE_CENTS)
    assert sent.params["currency"] == "eur"
    assert sent.params["metadata"]["retreatName"] == "Retraite Équinoxe"
    assert sent.params["metadata"]["source"] == "lutea-booking"
    assert payments.fake.payment_intents[response.json()["id"]]["amount"] == PRICE_CENTS


def test_a_repeat_returns_the_same_payment_intent(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat)
    first = payments.create_intent(booking)
    second = payments.create_intent(booking)
    assert second == first
    assert len(payments.fake.payment_intents) == 1
    assert len(_pi_posts(payments)) == 1


def test_a_retry_after_a_lost_answer_creates_no_second_payment_intent(payments: Payments, retreat: dict) -> None:
    from lutea.payments.gateway import get_gateway

    booking = payments.book(retreat)
    # Stripe created the PaymentIntent but the answer never reached us (nothing stored).
    lost = get_gateway().create_payment_intent(
        booking_id=booking.id,
        amount_cents=2 * PRICE_CENTS,
        currency="eur",
        idempotency_key=f"booking-{booking.id}-pi",
        metadata=_server_metadata(booking),
    )
    answer = payments.create_intent(booking)
    assert answer["id"] == lost["id"]
    assert len(payments.fake.payment_intents) == 1
    assert booking.stored()["stripePaymentIntentId"] == lost["id"]


def _server_metadata(booking: Any) -> dict[str, str]:
    from lutea.domain.payments import payment_metadata

    return payment_metadata(booking.stored())


def test_create_refuses_a_booking_that_is_not_pending(payments: Payments, retreat: dict) -> None:
    from lutea.domain import booking_lifecycle

    booking = payments.book(retreat)
    booking_lifecycle.cancel_for_payment_failure(booking.id)
    response = payments.make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking.id}}, headers=payments.proof(booking)
    )
    assert response.status == 409
    assert response.json()["message"] == "Cette réservation n'est plus en attente de paiement"
    assert payments.fake.payment_intents == {}


def test_create_refuses_an_expired_booking(payments: Payments, retreat: dict, frozen_clock: Any) -> None:
    booking = payments.book(retreat)
    frozen_clock.advance(minutes=17)
    response = payments.make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking.id}}, headers=payments.proof(booking)
    )
    assert response.status == 409
    assert response.json()["message"] == "Cette réservation a expiré, veuillez réserver à nouveau"
    assert payments.fake.payment_intents == {}


def test_create_for_an_unknown_booking_is_404(payments: Payments) -> None:
    response = payments.make_client().post(
        "/stripe/create-payment-intent",
        json={"metadata": {"bookingId": "0123456789abcdef01234567"}},
        headers={"X-Booking-Token": "any-token"},
    )
    assert response.status == 404
    assert response.json()["message"] == "Booking non trouvé"


def test_create_validates_the_booking_id(payments: Payments) -> None:
    for body in (
        {"amount": 100, "currency": "eur"},
        {"metadata": {"bookingId": {"$ne": None}}},
        {"metadata": {"bookingId": "not-an-id"}},
    ):
        # With a proof (a guest token): authentication passes, then the body is validated.
        response = payments.make_client().post(
            "/stripe/create-payment-intent", json=body, headers={"X-Booking-Token": "a-guest-token"}
        )
        assert response.status == 400, body
        assert response.json()["message"] == "Données invalides"
    assert payments.fake.requests == []


def test_stripe_down_is_502_and_nothing_is_stored(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat)
    payments.fake.failures = [500, 500]  # the SDK retries once
    response = payments.make_client().post(
        "/stripe/create-payment-intent", json={"metadata": {"bookingId": booking.id}}, headers=payments.proof(booking)
    )
    assert response.status == 502
    assert response.json()["message"] == "Le service de paiement est indisponible, veuillez réessayer"
    assert "stripePaymentIntentId" not in booking.stored()
    # The retry succeeds, with the same idempotency key.
    assert payments.create_intent(booking)["id"]
    keys = {r.idempotency_key for r in _pi_posts(payments)}
    assert keys == {f"booking-{booking.id}-pi"}


# --- get-payment-intent ------------------------------------------------------------------------


def test_owner_reads_the_public_fields_of_the_payment(payments: Payments, retreat: dict, make_client: Any) -> None:
    owner, _ = client_session(make_client)
    booking = payments.book(retreat, client=owner)
    created = payments.create_intent(booking)
    response = owner.post("/stripe/get-payment-intent", json={"paymentIntentId": created["id"]})
    assert response.status == 200, response.body
    assert response.json() == {
        "id": created["id"],
        "status": "requires_payment_method",
        "amount": 2 * PRICE_CENTS,
        "currency": "eur",
        "client_secret": created["clientSecret"],
    }


def test_guest_reads_with_the_booking_token(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat)
    created = payments.create_intent(booking)
    response = payments.make_client().post(
        "/stripe/get-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": booking.guest_token}
    )
    assert response.status == 200
    assert response.json()["id"] == created["id"]


def test_nobody_else_reads_a_payment(payments: Payments, retreat: dict, make_client: Any) -> None:
    owner, _ = client_session(make_client)
    other, _ = client_session(make_client)
    created = payments.create_intent(payments.book(retreat, client=owner))
    retrievals_before = len(payments.fake.requests_to("GET", "/v1/payment_intents"))
    response = other.post("/stripe/get-payment-intent", json={"paymentIntentId": created["id"]})
    assert response.status == 404
    assert response.json()["message"] == "Paiement non trouvé"
    unknown = other.post("/stripe/get-payment-intent", json={"paymentIntentId": "pi_unknown123"})
    assert unknown.status == 404
    assert unknown.json()["message"] == "Paiement non trouvé"  # existence is not revealed
    wrong_token = payments.make_client().post(
        "/stripe/get-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": "x" * 43}
    )
    assert wrong_token.status == 404
    assert len(payments.fake.requests_to("GET", "/v1/payment_intents")) == retrievals_before


def test_get_without_credentials_is_401_and_a_bad_id_400(payments: Payments) -> None:
    response = payments.make_client().post("/stripe/get-payment-intent", json={"paymentIntentId": "pi_abc"})
    assert response.status == 401
    owner, _ = client_session(payments.make_client)
    for bad in ("abc", "pi_../../v1/refunds", {"$ne": None}, ""):
        response = owner.post("/stripe/get-payment-intent", json={"paymentIntentId": bad})
        assert response.status == 400, bad
    extra = owner.post("/stripe/get-payment-intent", json={"paymentIntentId": "pi_abc", "expand": ["customer"]})
    assert extra.status == 400


# --- cancel-payment-intent ---------------------------------------------------------------------


def test_guest_cancels_with_the_right_token(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat, nb=2)
    created = payments.create_intent(booking)
    assert payments.seats_held(retreat) == 2
    response = payments.make_client().post(
        "/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": booking.guest_token}
    )
    assert response.status == 200, response.body
    assert response.json() == {"success": True, "message": "PaymentIntent annulé avec succès"}
    assert payments.fake.payment_intents[created["id"]]["status"] == "canceled"
    stored = booking.stored()
    assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "FAILED")
    assert payments.seats_held(retreat) == 0
    # Stripe then reports the cancellation, and the customer clicks again: seats released once.
    assert payments.deliver("payment_intent.canceled", payments.fake.payment_intents[created["id"]]).status == 200
    again = payments.make_client().post(
        "/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": booking.guest_token}
    )
    assert again.status == 200
    assert payments.seats_held(retreat) == 0


def test_owner_cancels_with_the_session(payments: Payments, retreat: dict, make_client: Any) -> None:
    owner, _ = client_session(make_client)
    booking = payments.book(retreat, client=owner)
    created = payments.create_intent(booking)
    response = owner.post("/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]})
    assert response.status == 200
    assert response.json()["success"] is True
    assert booking.stored()["statut"] == "CANCELLED"


def test_cancel_by_a_non_owner_is_404_and_changes_nothing(payments: Payments, retreat: dict, make_client: Any) -> None:
    owner, _ = client_session(make_client)
    other, _ = client_session(make_client)
    booking = payments.book(retreat, client=owner)
    created = payments.create_intent(booking)
    response = other.post("/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]})
    assert response.status == 404
    assert response.json()["message"] == "Paiement non trouvé"
    guest_guess = payments.make_client().post(
        "/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": "guessed-token"}
    )
    assert guest_guess.status == 404
    anonymous = payments.make_client().post("/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]})
    assert anonymous.status == 401
    assert payments.fake.requests_to("POST", f"/v1/payment_intents/{created['id']}/cancel") == []
    assert payments.fake.payment_intents[created["id"]]["status"] == "requires_payment_method"
    assert booking.stored()["statut"] == "PENDING"
    assert payments.seats_held(retreat) == 2


def test_a_guest_token_of_another_booking_does_not_cancel(payments: Payments, retreat: dict) -> None:
    mine = payments.book(retreat)
    theirs = payments.book(retreat)
    created = payments.create_intent(theirs)
    response = payments.make_client().post(
        "/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": mine.guest_token}
    )
    assert response.status == 404
    assert theirs.stored()["statut"] == "PENDING"


def test_a_paid_payment_cannot_be_cancelled(payments: Payments, retreat: dict, make_client: Any) -> None:
    owner, _ = client_session(make_client)
    booking = payments.book(retreat, client=owner)
    created = payments.create_intent(booking)
    payments.fake.succeed(created["id"])
    response = owner.post("/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]})
    assert response.status == 409
    assert response.json()["message"] == "Le paiement ne peut pas être annulé dans son état actuel"
    assert booking.stored()["statut"] == "PENDING"
    assert payments.seats_held(retreat) == 2


def test_cancel_when_stripe_is_down_is_502_and_the_booking_stays(payments: Payments, retreat: dict) -> None:
    booking = payments.book(retreat)
    created = payments.create_intent(booking)
    payments.fake.failures = [503, 503]
    response = payments.make_client().post(
        "/stripe/cancel-payment-intent", json={"paymentIntentId": created["id"]}, headers={"X-Booking-Token": booking.guest_token}
    )
    assert response.status == 502
    assert booking.stored()["statut"] == "PENDING"


def test_the_amount_is_exact_in_cents(payments: Payments) -> None:
    small = insert_retreat(places=1, prix_cents=9_950)
    booking = payments.book(small, nb=1)
    created = payments.create_intent(booking)
    assert payments.fake.payment_intents[created["id"]]["amount"] == 9_950


def test_create_needs_the_owner_proof_and_hides_whether_a_booking_exists(
    payments: Payments, retreat: dict, make_client: Any
) -> None:
    """Ids can be guessed: without the guest's token or the owner's session, a booking's client
    secret is never handed out, and "not yours" answers exactly as "does not exist"."""
    guest = payments.book(retreat, nb=1)
    owner, _ = client_session(make_client)
    users = payments.book(retreat, nb=1, client=owner)
    stranger, _ = client_session(make_client)
    path = "/stripe/create-payment-intent"

    def create(client: Any, booking_id: str, token: str | None = None) -> Any:
        headers = {"X-Booking-Token": token} if token else {}
        return client.post(path, json={"metadata": {"bookingId": booking_id}}, headers=headers)

    assert create(make_client(), guest.id).status == 401
    unknown = create(make_client(), "0123456789abcdef01234567", "x" * 43)
    assert unknown.status == 404
    for refused in (
        create(make_client(), guest.id, "x" * 43),
        create(stranger, guest.id),
        create(stranger, users.id),
        create(make_client(), users.id, guest.guest_token),
    ):
        assert refused.status == 404, refused.body
        assert without_timestamp(refused) == without_timestamp(unknown)
    # Not yours and no longer payable: still 404, never the 409 that would tell it exists.
    from lutea.domain import booking_lifecycle

    booking_lifecycle.cancel_for_payment_failure(users.id)
    assert without_timestamp(create(stranger, users.id)) == without_timestamp(unknown)
    assert payments.fake.requests == []
    # The owners pay.
    assert create(make_client(), guest.id, guest.guest_token).status == 200
    assert create(owner, payments.book(retreat, nb=1, client=owner).id).status == 200
