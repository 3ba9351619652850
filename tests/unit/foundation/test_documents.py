"""The stored shapes of lutea.data.documents cover what the domain writes: a key stored but not
declared there would be read untyped (a typo, or a field the types forgot)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import bcrypt
from bson import ObjectId
from lutea.auth import codes, tokens
from lutea.clock import now
from lutea.data.contact_consents import ContactConsentRepository
from lutea.data.documents import (
    BookingDoc,
    ContactConsentDoc,
    DateBlockDoc,
    EmailAttachmentDoc,
    EmailFailureDoc,
    OwedEntryDoc,
    RateLimitCounterDoc,
    RetreatDoc,
    SeatCounterDoc,
    SeatHolderDoc,
    SessionFamilyDoc,
    StripeEventDoc,
    TemporaryUserDoc,
    UserDoc,
    WaitingListEntryDoc,
)
from lutea.data.email_failures import MAX_ATTEMPTS, EmailFailureRepository
from lutea.data.mongo import get_db
from lutea.data.owed import OwedRepository
from lutea.data.payments import ProcessedEventRepository
from lutea.data.rate_limits import RateLimitRepository
from lutea.data.users import TemporaryUserRepository
from lutea.domain import accounts, bookings, contact, owed_effects, retreats, sessions, waiting_list
from lutea.email.failures import record_failure
from lutea.email.service import Attachment, EmailMessage

from infra.import_mapping import map_user
from tests.support.catalogue import START, booking_request, insert_retreat, retreat_draft


def _undeclared(doc: dict[str, Any], shape: Any) -> set[str]:
    return set(doc) - set(shape.__annotations__)


def test_a_created_retreat_and_its_blocks_carry_only_declared_keys():
    block = {
        "start": "2027-03-01T09:00:00.000Z",
        "end": "2027-03-03T09:00:00.000Z",
        "heureArrivee": "10h00",
        "heureDepart": "17h00",
        "prix": 120,
        "places": 8,
        "adresseRdv": "Mas",
    }
    created = retreats.create_retreat(
        retreat_draft(
            {
                "titreCard": "T",
                "imageCard": "/c.jpg",
                "altImageCard": "c",
                "imageModal": ["/m.jpg"],
                "altImageModal": ["m"],
                "texteModal": "t",
                "boutonPdfLabel": "Programme",
                "pdfUrl": "/p.pdf",
                "prestationsIncluses": "Repas",
                "dates": [block],
            }
        )
    )
    stored = get_db()["retreats"].find_one({"_id": created["_id"]})
    assert _undeclared(stored, RetreatDoc) == set()
    assert [_undeclared(b, DateBlockDoc) for b in stored["dates"]] == [set()]


def test_bookings_and_waiting_list_entries_carry_only_declared_keys():
    retreat = insert_retreat(places=2, prestationsIncluses="Repas")
    guest, _ = bookings.create_booking(booking_request(retreat, nb=1, notes="n"), user_id=None)
    manual = bookings.create_manual_booking(booking_request(retreat, nb=1), user_id=None, status="CANCELLED")
    bookings.create_manual_booking(booking_request(retreat, nb=1), user_id=None, status=None)
    waiting_list.join(
        retreat_id=str(retreat["_id"]), date_start=START, seats=1, email="lea@example.test", first_name="Léa", user_id=None
    )
    col = get_db()["bookings"]
    for booking in (guest, manual):
        assert _undeclared(col.find_one({"_id": booking["_id"]}), BookingDoc) == set()
    [entry] = get_db()["waitinglist"].find({})
    assert _undeclared(entry, WaitingListEntryDoc) == set()


def _registration(email: str) -> accounts.Registration:
    return accounts.Registration(
        email=email,
        firstName="Léa",
        lastName="Martin",
        password="Password1!",
        phone="0600000000",
        address="1 rue de la Paix",
        city="Montpellier",
        postalCode="34000",
        country="France",
    )


def test_users_pending_registrations_and_sessions_carry_only_declared_keys():
    db = get_db()
    accounts.register(_registration("lea@example.test"))
    accounts.register(_registration("lea@example.test"))  # a pending one replaced (its email quota)
    pending = db["temporaryusers"].find_one({})
    assert _undeclared(pending, TemporaryUserDoc) == set()

    token = codes.new_link_token()
    TemporaryUserRepository().renew_token(
        pending["_id"], old_hash=pending["verificationToken"], new_hash=codes.hash_link_token(token)
    )
    session = sessions.validate_email(token)  # the account, and a session
    accounts.register(_registration("lea@example.test"))  # a registration attempt on the account
    assert accounts.check_sign_in("lea@example.test", "Password1!") is not None  # lastLogin
    for _ in range(accounts.LOCK_THRESHOLD):
        accounts.check_sign_in("lea@example.test", "wrong")  # lockUntil
    accounts.request_password_reset("lea@example.test")
    user = db["users"].find_one({})
    sessions._send_two_factor_code(user)
    sessions._use_two_factor_code(user, "not a code")
    accounts.ensure_admin("admin@example.test", "Password1!", "Ada", "Lovelace")  # an upsert
    for stored in db["users"].find({}):
        assert _undeclared(stored, UserDoc) == set()
    assert {"lockUntil", "lastLogin", "passwordResetToken", "verificationCode", "registrationNoticesSent"} <= set(
        db["users"].find_one({"email": "lea@example.test"})
    )

    family_id = tokens.decode_refresh(session.refresh_token).family_id
    sessions.refresh(session.refresh_token)  # rotatedAt
    sessions.sign_out(family_id)  # revokedAt
    family = db["refreshfamilies"].find_one({"_id": family_id})
    assert {"rotatedAt", "revokedAt", "endsAt"} <= set(family)
    assert _undeclared(family, SessionFamilyDoc) == set()


def test_stripe_events_carry_only_declared_keys():
    events = ProcessedEventRepository()
    events.insert_claim("evt_1", "payment_intent.succeeded")
    events.mark_failed("evt_1", "RuntimeError")
    failed = get_db()["stripeevents"].find_one({"eventId": "evt_1"})
    events.reclaim("evt_1", stale_before=now())
    events.mark_done("evt_1")
    for stored in (failed, get_db()["stripeevents"].find_one({"eventId": "evt_1"})):
        assert _undeclared(stored, StripeEventDoc) == set()
    assert {"error", "failedAt"} <= set(failed)


def test_seat_counters_and_owed_entries_carry_only_declared_keys():
    retreat = insert_retreat(places=2)
    booking, _ = bookings.create_booking(booking_request(retreat, nb=1), user_id=None)  # a holder
    [counter] = get_db()["seatcounters"].find({})
    assert _undeclared(counter, SeatCounterDoc) == set()
    assert [_undeclared(h, SeatHolderDoc) for h in counter["holders"]] == [set()]

    owed = OwedRepository("bookings")
    owed.owe_once(booking["_id"], "later", owed_effects.owe("booking_email", template="confirmation"))
    owed.owe_once(booking["_id"], "now", owed_effects.owe_now("booking_email", template="confirmation"))
    owed.claim(booking["_id"], "later", lease_until=now() + timedelta(minutes=2))
    owed.reschedule(booking["_id"], "later", next_attempt=now(), error="RuntimeError")
    owed.mark_alerted(booking["_id"], "later")
    stored = get_db()["bookings"].find_one({"_id": booking["_id"]})
    assert {"lastError", "alertedAt"} <= set(stored["owed"]["later"])
    assert {key: _undeclared(entry, OwedEntryDoc) for key, entry in stored["owed"].items()} == {
        "later": set(),
        "now": set(),
    }


def test_email_failures_carry_only_declared_keys():
    with_all = EmailMessage(
        to=("lea@example.test",),
        subject="Votre lien",
        html="<p>s3cret</p>",
        text="s3cret",
        kind="password_reset",
        attachments=(Attachment("programme.pdf", b"%PDF-1.4"),),
        reply_to="equipe@example.test",
        secret="s3cret",
    )
    record_failure(with_all, "EmailDeliveryError")
    repo = EmailFailureRepository()
    assert repo.claim_due() is None  # not due yet
    [recorded] = repo.list()
    get_db()["emailfailures"].update_one({"_id": recorded["_id"]}, {"$set": {"nextAttemptAt": now()}})
    claimed = repo.claim_due()
    assert claimed is not None
    repo.mark_failed(claimed["_id"], MAX_ATTEMPTS, "RuntimeError")  # abandoned
    [abandoned] = repo.list("abandoned")
    for stored in (recorded, claimed, abandoned):
        assert _undeclared(stored, EmailFailureDoc) == set()
        assert [_undeclared(a, EmailAttachmentDoc) for a in stored["attachments"]] == [set()]
    assert {"replyTo", "needsFreshSecret", "lastError", "nextAttemptAt", "expiresAt"} <= set(abandoned)


def test_contact_consents_and_rate_limit_counters_carry_only_declared_keys():
    contact._record_consent("Lea@Example.test")
    [consent] = get_db()["contactconsents"].find({})
    assert consent["email"] == "lea@example.test"
    assert _undeclared(consent, ContactConsentDoc) == set()
    assert ContactConsentRepository().list_for("lea@example.test") == [consent]

    limits = RateLimitRepository()
    assert [limits.hit("global:203.0.113.9:0", now()) for _ in range(2)] == [1, 2]  # an upsert, then an increment
    [counter] = get_db()["ratelimits"].find({})
    assert _undeclared(counter, RateLimitCounterDoc) == set()


def test_a_user_imported_from_the_original_carries_only_declared_keys():
    original = {
        "_id": ObjectId(),
        "email": " Lea@Example.TEST ",
        "password": bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=4)).decode(),
        "firstName": "Léa",
        "lastName": "Martin",
        "role": "client",
        "isEmailVerified": True,
        "failedLoginAttempts": 2,
        "lockUntil": "2025-03-01T08:00:00.000Z",
        "lastLogin": "2025-02-01T08:00:00.000Z",
        "phone": "0600000000",
        "address": "1 rue de la Paix",
        "city": "Montpellier",
        "postalCode": "34000",
        "country": "France",
        "verificationCode": "123456",  # dropped on the way
        "createdAt": "2025-01-01T08:00:00.000Z",
        "updatedAt": "2025-02-01T08:00:00.000Z",
    }
    mapped = map_user(original)
    assert set(mapped) == set(original) - {"verificationCode"}
    assert _undeclared(dict(mapped), UserDoc) == set()
