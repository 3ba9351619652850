"""The booking state machine as the payments module drives it (lutea.domain.booking_lifecycle), with an
in-memory payment gateway: transitions move forward only, seats are released exactly once,
the confirmation email goes out exactly once."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from bson import ObjectId
from lutea.data.mongo import get_db
from lutea.data.seats import SeatRepository
from lutea.domain import booking_lifecycle as lifecycle
from lutea.domain import booking_lookup, booking_states
from lutea.domain import bookings as domain
from lutea.errors import Conflict, NotFound

from tests.support.catalogue import booking_request, insert_retreat
from tests.support.outbox import read_outbox


class MemoryGateway:
    def __init__(self) -> None:
        self.cancelled: list[str] = []
        self.refunded: list[str] = []
        self.intents: dict[str, dict] = {}
        self.fail = False

    def cancel_payment_intent(self, pi_id: str) -> dict:
        if self.fail:
            raise RuntimeError("stripe down")
        self.cancelled.append(pi_id)
        return {"id": pi_id, "status": "canceled"}

    def refund(self, pi_id: str, amount_cents: int | None = None) -> dict:
        self.refunded.append(pi_id)
        return {"id": "re_1", "status": "succeeded", "payment_intent": pi_id}

    def retrieve_payment_intent(self, pi_id: str) -> dict:
        if pi_id not in self.intents:
            raise NotFound("Paiement non trouvé")
        return self.intents[pi_id]


@pytest.fixture
def memory_gateway():
    from lutea.payments import gateway

    fake = MemoryGateway()
    gateway.set_gateway(fake)
    yield fake
    gateway.set_gateway(None)


@pytest.fixture
def retreat():
    return insert_retreat(places=4, prix_cents=10_000)


def _book(retreat, nb=2, user_id=None):
    return domain.create_booking(booking_request(retreat, nb=nb), user_id=user_id)


def _succeeded(booking_id, pi_id, amount, **fields):
    """A succeeded PaymentIntent as the gateway returns it, paying ``amount`` for the booking."""
    return {
        "id": pi_id,
        "status": "succeeded",
        "currency": "eur",
        "amount": amount,
        "amount_received": amount,
        "amount_refunded": 0,
        "metadata": {"bookingId": str(booking_id)},
        **fields,
    }


def _held(retreat):
    return SeatRepository().held(retreat["dates"][0]["_id"])


def _confirmations(outbox_dir):
    return [m for m in read_outbox(outbox_dir) if m.kind == "booking_confirmation"]


def test_confirm_paid_confirms_once_and_emails_once(retreat, outbox_dir, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    lifecycle.attach_payment_intent(bid, "pi_1")

    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_1", 20_000)) == "confirmed"
    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_1", 20_000)) == "already_confirmed"
    stored = booking_lookup.get_booking(bid)
    assert (stored["statut"], stored["statutPaiement"]) == ("CONFIRMED", "PAID")
    assert stored["stripePaymentIntentId"] == "pi_1"
    assert _held(retreat) == 2
    mails = _confirmations(outbox_dir)
    assert len(mails) == 1 and mails[0].attachments()[0][2].startswith(b"%PDF")


def test_confirm_paid_refuses_a_wrong_amount_or_a_second_payment(retreat, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_1", 19_999)) == "needs_refund"
    assert booking_lookup.get_booking(bid)["statut"] == "PENDING"
    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_1", 20_000)) == "confirmed"
    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_2", 20_000)) == "needs_refund"  # paid twice
    assert booking_lookup.get_booking(bid)["stripePaymentIntentId"] == "pi_1"


def test_late_payment_after_expiry_retakes_free_seats(retreat, frozen_clock, outbox_dir, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    lifecycle.attach_payment_intent(bid, "pi_late")
    frozen_clock.advance(minutes=16)
    assert lifecycle.expire_pending_bookings() == 1
    assert memory_gateway.cancelled == ["pi_late"] and _held(retreat) == 0

    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_late", 20_000)) == "confirmed"
    stored = booking_lookup.get_booking(bid)
    assert (stored["statut"], stored["statutPaiement"], stored["seatsHeld"]) == ("CONFIRMED", "PAID", True)
    assert "annulationRaison" not in stored and "annulationDate" not in stored
    assert _held(retreat) == 2 and len(_confirmations(outbox_dir)) == 1


def test_late_payment_when_seats_are_gone_needs_refund(retreat, frozen_clock, outbox_dir, memory_gateway):
    booking, _ = _book(retreat, nb=3)
    bid = str(booking["_id"])
    frozen_clock.advance(minutes=16)
    lifecycle.expire_pending_bookings()
    _book(retreat, nb=2)  # someone else took seats meanwhile: 2 of 4 left, 3 needed

    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_late", 30_000)) == "needs_refund"
    assert booking_lookup.get_booking(bid)["statut"] == "CANCELLED"
    assert _held(retreat) == 2 and _confirmations(outbox_dir) == []
    assert lifecycle.mark_refunded(bid) is True
    assert booking_lookup.get_booking(bid)["statutPaiement"] == "REFUNDED" and _held(retreat) == 2
    assert lifecycle.confirm_paid(bid, _succeeded(bid, "pi_late", 30_000)) == "needs_refund"  # a replay: never revived


def test_payment_failure_cancels_once_and_never_after_payment(retreat, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    lifecycle.attach_payment_intent(bid, "pi_new")
    assert lifecycle.cancel_for_payment_failure(bid, "pi_old") is False  # an older attempt: ignored
    assert lifecycle.cancel_for_payment_failure(bid, "pi_new") is True
    assert lifecycle.cancel_for_payment_failure(bid, "pi_new") is False
    stored = booking_lookup.get_booking(bid)
    assert (stored["statut"], stored["statutPaiement"]) == ("CANCELLED", "FAILED") and _held(retreat) == 0

    paid, _ = _book(retreat)
    assert lifecycle.confirm_paid(str(paid["_id"]), _succeeded(str(paid["_id"]), "pi_p", 20_000)) == "confirmed"
    assert lifecycle.cancel_for_payment_failure(str(paid["_id"])) is False  # a late failure: no step back
    assert booking_lookup.get_booking(str(paid["_id"]))["statut"] == "CONFIRMED" and _held(retreat) == 2


def test_mark_refunded_releases_held_seats_once(retreat, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    lifecycle.confirm_paid(bid, _succeeded(bid, "pi_1", 20_000))
    other, _ = _book(retreat)
    assert _held(retreat) == 4

    assert lifecycle.mark_refunded(bid) is True
    assert lifecycle.mark_refunded(bid) is False
    stored = booking_lookup.get_booking(bid)
    assert (stored["statut"], stored["statutPaiement"], stored["seatsHeld"]) == ("CANCELLED", "REFUNDED", False)
    assert stored["annulationRaison"] == "Paiement remboursé"
    assert _held(retreat) == 2 and booking_lookup.get_booking(str(other["_id"]))["seatsHeld"] is True
    with pytest.raises(NotFound):
        lifecycle.mark_refunded(str(ObjectId()))


def test_payable_booking_and_attach(retreat, frozen_clock, memory_gateway):
    booking, _ = _book(retreat)
    bid = str(booking["_id"])
    assert lifecycle.payable_booking(bid)["_id"] == booking["_id"]
    frozen_clock.advance(minutes=16)
    with pytest.raises(Conflict):
        lifecycle.payable_booking(bid)
    lifecycle.expire_pending_bookings()
    with pytest.raises(Conflict):
        lifecycle.attach_payment_intent(bid, "pi_x")
    for bad in ("nope", str(ObjectId()), {"$ne": None}):
        with pytest.raises(NotFound):
            lifecycle.payable_booking(bad)


def test_expiry_survives_a_gateway_failure(retreat, frozen_clock, memory_gateway):
    booking, _ = _book(retreat)
    lifecycle.attach_payment_intent(str(booking["_id"]), "pi_1")
    memory_gateway.fail = True
    frozen_clock.advance(minutes=17)
    assert lifecycle.expire_pending_bookings() == 1
    assert booking_lookup.get_booking(str(booking["_id"]))["statut"] == "CANCELLED" and _held(retreat) == 0


def test_insert_failure_gives_the_seats_back(retreat, monkeypatch):
    from lutea.data.bookings import BookingRepository

    def broken(self, doc):
        raise RuntimeError("write failed")

    monkeypatch.setattr(BookingRepository, "insert", broken)
    with pytest.raises(RuntimeError):
        _book(retreat, nb=3)
    assert _held(retreat) == 0


def test_check_booking_owner(retreat, frozen_clock):
    user_id = str(ObjectId())
    mine, token = _book(retreat, nb=1, user_id=user_id)
    assert token is None
    domain.check_booking_owner(mine, SimpleNamespace(user_id=user_id), None)
    with pytest.raises(NotFound):
        domain.check_booking_owner(mine, SimpleNamespace(user_id=str(ObjectId())), None)
    with pytest.raises(NotFound):
        domain.check_booking_owner(mine, None, "anything")

    guest, token = _book(retreat, nb=1)
    domain.check_booking_owner(guest, None, token)
    for wrong in (None, "", token + "x", token.upper()):
        with pytest.raises(NotFound):
            domain.check_booking_owner(guest, SimpleNamespace(user_id=user_id), wrong)
    # Valid during the payment window, then only while the booking is still PENDING.
    get_db()["bookings"].update_one({"_id": guest["_id"]}, {"$set": {"statut": "CONFIRMED"}})
    domain.check_booking_owner(booking_lookup.get_booking(guest["_id"]), None, token)
    frozen_clock.advance(minutes=16, seconds=1)
    with pytest.raises(NotFound):
        domain.check_booking_owner(booking_lookup.get_booking(guest["_id"]), None, token)


def test_unit_price_fallbacks():
    assert domain.unit_price_cents({}, {"prixCents": 12_345, "prix": 1}) == 12_345
    assert domain.unit_price_cents({"prix": 3}, {"prix": 99.9}) == 9_990
    assert domain.unit_price_cents({"prix": 80}, {}) == 8_000
    assert domain.unit_price_cents({}, {}) == 0
    assert timedelta(minutes=16) == booking_states.PAYMENT_WINDOW
