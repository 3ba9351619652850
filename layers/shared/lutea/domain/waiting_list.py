"""The waiting list of a full date block, and the offers made from it.

    WAITING --seats free up, first in line whose request fits--> OFFERED (seats held, emailed)
    OFFERED --booked through the offer's link-------------------> BOOKED  (seats go to the booking)
    OFFERED --not taken in time (job)---------------------------> EXPIRED (seats back, next offered)
    WAITING | OFFERED --link "leave the list"-------------------> LEFT    (seats back if held)

Seats: an offer holds its seats on the date block's counter (lutea.data.seats), like a
PENDING booking, marked by ``seatsHeld: true`` on the entry. They are taken by one conditional
update of the counter (never oversold), then the entry moves WAITING -> OFFERED by one
conditional update; if another worker offered that entry first, the seats go straight back.
Every transition that gives seats back has ``seatsHeld: true`` in its filter, so only its
winner releases them, once. Booking through an offer moves the entry OFFERED -> BOOKED (with
the booking's id) and inserts that booking holding the same seats, without touching the
counter: the seats pass from the offer to the booking and are never free in between.

Seats free up when a booking gives them back (lutea.domain.seats.release_seats
calls ``offer_freed_seats``), when an offer expires or is left, and when the admin raises a
block's places. The scheduled job ``run_offers`` expires overdue offers and offers whatever is
free on every block with people waiting, so an offer missed by a crash is made later anyway.

Links: one token per entry, ``<entry id>.<HMAC>``, recomputed from the entry (nothing secret
stored), so that an owed offer email can be sent again after a crash. Joining again with the
same address on the same block bumps ``tokenVersion``: earlier links die.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.config import get_settings
from lutea.data.seats import SeatRepository
from lutea.data.waiting_list import BOOKED, EXPIRED, LEFT, OFFERED, WAITING, WaitingListRepository
from lutea.domain.booking_lookup import MSG_DATE_NOT_FOUND
from lutea.errors import Conflict, InvalidInput, NotFound
from lutea.observability import logger

if TYPE_CHECKING:
    from lutea.data.documents import DateBlockDoc, RetreatDoc, WaitingListEntryDoc

MSG_JOINED = (
    "Votre inscription sur la liste d'attente est enregistrée. Un email de confirmation vous a été envoyé "
    "avec un lien pour la quitter."
)
MSG_LEFT = "Vous avez quitté la liste d'attente."
MSG_NOT_FOUND = "Inscription non trouvée"
MSG_OFFER_GONE = "Cette offre n'est plus valable"
MSG_SEATS_FREE = "Des places sont disponibles pour cette date : réservez-les directement"
MSG_STARTED = "Cette date a déjà commencé"
MSG_RETREAT_NOT_FOUND = "Retraite non trouvée"
MSG_TOO_MANY_PARTICIPANTS = "participants: il ne peut pas y avoir plus de participants que de places offertes"
JOIN_EMAILS_PER_HOUR = 3
OFFER_EMAIL_GRACE = timedelta(minutes=2)  # the request sends it; the job takes what a crash left
MAX_OFFERS_PER_PASS = 50


def _repo() -> WaitingListRepository:
    return WaitingListRepository()


def _seats() -> SeatRepository:
    return SeatRepository()


# --- links ---------------------------------------------------------------------------------


def _mac(entry_id: ObjectId, version: int) -> str:
    key = hashlib.sha256(b"lutea-waiting-list:" + get_settings().jwt_access_secret.encode()).digest()
    digest = hmac.new(key, f"{entry_id}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def entry_token(entry: WaitingListEntryDoc) -> str:
    return f"{entry['_id']}.{_mac(entry['_id'], int(entry.get('tokenVersion') or 0))}"


def _entry_by_token(token: str) -> WaitingListEntryDoc:
    """The entry a link names; 404 for a forged, outdated or unknown one (all alike)."""
    raw_id, _, mac = token.partition(".")
    entry = _repo().get(ObjectId(raw_id)) if ObjectId.is_valid(raw_id) else None
    if entry is None or not hmac.compare_digest(mac, _mac(entry["_id"], int(entry.get("tokenVersion") or 0))):
        raise NotFound(MSG_NOT_FOUND)
    return entry


def _links(entry: WaitingListEntryDoc) -> tuple[str, str]:
    base = get_settings().frontend_url
    token = entry_token(entry)
    return f"{base}/liste-attente/offre?token={token}", f"{base}/liste-attente/quitter?token={token}"


# --- the retreat and its block ---------------------------------------------------------------


def _retreat_and_block(
    retreat_id: ObjectId, *, date_id: ObjectId | None = None, start: Any = None
) -> tuple[RetreatDoc, DateBlockDoc]:
    from lutea.data.retreats import RetreatRepository

    retreat = RetreatRepository().get(retreat_id)
    if retreat is None or retreat.get("isActive") is False:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    # By id, or by the same start instant (as lutea.domain.retreats.find_date_block, which
    # this module can't import: the retreats module offers raised places to the list).
    blocks = retreat.get("dates") or []
    if date_id is not None:
        block = next((b for b in blocks if b.get("_id") == date_id), None)
    else:
        block = next((b for b in blocks if isinstance(b.get("start"), datetime) and as_utc(b["start"]) == as_utc(start)), None)
    if block is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    return retreat, block


def _price_cents(retreat: RetreatDoc, block: DateBlockDoc, seats: int) -> int:
    from lutea.domain.pricing import unit_price_cents

    return unit_price_cents(retreat, block) * seats


def _free(date_id: ObjectId) -> int:
    counter = _seats().get(date_id)
    return 0 if counter is None else max(0, int(counter["places"]) - int(counter["held"]))


# --- joining and leaving -----------------------------------------------------------------------


def join(*, retreat_id: str, date_start: Any, seats: int, email: str, first_name: str, user_id: str | None) -> dict[str, Any]:
    """Put the visitor on the block's list (``POST /bookings/waiting-list``). The answer is the
    same whether the address was already waiting or not (nothing to learn about others); the
    confirmation email with the leave link goes to the address, at most a few per hour."""
    retreat, block = _retreat_and_block(ObjectId(retreat_id), start=date_start)
    if now() >= as_utc(block["start"]):
        raise Conflict(MSG_STARTED)
    if _free(block["_id"]) >= seats:
        raise Conflict(MSG_SEATS_FREE)
    repo = _repo()
    entry = repo.active_for(email, block["_id"])
    created = False
    if entry is None:
        stamp = now()
        entry, created = repo.insert_unless_active(
            {
                "_id": ObjectId(),
                "retreatId": retreat["_id"],
                "dateId": block["_id"],
                "nbPlaces": seats,
                "email": email,
                "prenom": first_name,
                "userId": ObjectId(user_id) if user_id else None,
                "statut": WAITING,
                "seatsHeld": False,
                "tokenVersion": 0,
                "joinEmails": [],
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        )
    if created:
        logger.info("waiting list joined", extra={"entryId": str(entry["_id"]), "nbPlaces": seats})
        if repo.record_join_email(entry["_id"], now() - timedelta(hours=1), JOIN_EMAILS_PER_HOUR):
            _send_joined(entry, retreat, block)
    elif repo.record_join_email(entry["_id"], now() - timedelta(hours=1), JOIN_EMAILS_PER_HOUR):
        # Joining again (the request stays as it was): earlier links die and a fresh one is
        # sent. Only while WAITING and only when that email goes out: anyone may type the
        # address, and the joined email carries no booking link, so killing links past the
        # cap, or an offer's link, would take from the owner what a stranger can't give back.
        if repo.transition(entry["_id"], {"statut": WAITING}, {}, inc={"tokenVersion": 1}) is not None:
            entry = repo.get(entry["_id"]) or entry
        _send_joined(entry, retreat, block)
    offer_freed_seats(block["_id"])  # seats may have freed up meanwhile
    return {"message": MSG_JOINED, "email": email, "nbPlaces": seats}


def leave(token: str) -> dict[str, str]:
    """Leave the list from a link of its emails (``POST /bookings/waiting-list/leave``); an
    offer in progress gives its seats back to the next in line. Leaving twice is fine."""
    _leave(_entry_by_token(token))
    return {"message": MSG_LEFT}


def _leave(entry: WaitingListEntryDoc) -> None:
    repo = _repo()
    before = repo.transition(entry["_id"], {"statut": WAITING}, {"statut": LEFT})
    if before is None:
        before = repo.transition(
            entry["_id"], {"statut": OFFERED, "seatsHeld": True}, {"statut": LEFT, "seatsHeld": False, "offerEmailOwed": False}
        )
        if before is not None:
            _give_back(before)


def entries_of_person(user_id: ObjectId, email: str) -> list[WaitingListEntryDoc]:
    """Every entry of one person (signed in, or under her address): her RGPD export."""
    return _repo().list_for_person(user_id, email)


def forget_person(user_id: ObjectId, email: str) -> int:
    """Her account is erased: she leaves every list she is on (an offer's seats go to the next
    in line), then her entries are deleted. Idempotent. Returns how many were deleted."""
    deleted = 0
    for entry in _repo().list_for_person(user_id, email):
        _leave(entry)
        deleted += int(_repo().delete_ended(entry["_id"]))
    return deleted


# --- offers --------------------------------------------------------------------------------


def offer_freed_seats(date_id: ObjectId) -> int:
    """Offer the free seats of a block to its list, first in line first (skipping requests that
    don't fit). Returns how many offers were made. Safe to run concurrently: seats are taken
    by the counter's conditional update, the entry moved by its own."""
    repo, seats = _repo(), _seats()
    made = 0
    for _ in range(MAX_OFFERS_PER_PASS):
        free = _free(date_id)
        if free <= 0:
            break
        entry = repo.first_fitting(date_id, free)
        if entry is None:
            break
        try:
            retreat, block = _retreat_and_block(entry["retreatId"], date_id=date_id)
        except NotFound:
            break  # retreat hidden or block removed: nothing to offer
        if now() >= as_utc(block["start"]):
            break
        n = int(entry["nbPlaces"])
        if not seats.try_reserve(date_id, n, entry["_id"]):  # the offer is the seats' holder
            continue  # someone took seats meanwhile: look again
        expires = now() + timedelta(hours=get_settings().waiting_list_offer_hours)
        before = repo.transition(
            entry["_id"],
            {"statut": WAITING},
            {"statut": OFFERED, "seatsHeld": True, "offeredAt": now(), "offerExpiresAt": expires, "offerEmailOwed": True},
        )
        if before is None:  # left, or offered by another worker: the seats go back
            seats.release(date_id, n, entry["_id"])
            continue
        made += 1
        logger.info("waiting list offer made", extra={"entryId": str(entry["_id"]), "nbPlaces": n})
        _send_offer(entry["_id"], retreat, block)
    return made


def _give_back(entry: WaitingListEntryDoc) -> None:
    """Called only by the winner of a transition that turned the entry's ``seatsHeld`` off."""
    if not _seats().release(entry["dateId"], int(entry["nbPlaces"]), entry["_id"]):
        logger.warning("no seats held for this offer", extra={"entryId": str(entry["_id"])})
    offer_freed_seats(entry["dateId"])


def offer_details(token: str) -> dict[str, Any]:
    """The offer a link names (``POST /bookings/waiting-list/offer``), in cents."""
    from lutea.refund_policy import policy_text, retreat_policy

    entry = _live_offer(_entry_by_token(token))
    retreat, block = _retreat_and_block(entry["retreatId"], date_id=entry["dateId"])
    return {
        "retreatId": retreat["_id"],
        "retreatName": retreat.get("titreCard") or "",
        "dateStart": block["start"],
        "dateEnd": block["end"],
        "nbPlaces": int(entry["nbPlaces"]),
        "prixTotalCents": _price_cents(retreat, block, int(entry["nbPlaces"])),
        "offerExpiresAt": entry["offerExpiresAt"],
        "policyText": policy_text(retreat_policy(retreat)),
    }


def _live_offer(entry: WaitingListEntryDoc) -> WaitingListEntryDoc:
    if entry["statut"] != OFFERED or not entry.get("seatsHeld") or now() >= as_utc(entry["offerExpiresAt"]):
        raise Conflict(MSG_OFFER_GONE)
    return entry


def claim_offer(
    token: str, *, booking_id: ObjectId, participant_count: int
) -> tuple[WaitingListEntryDoc, RetreatDoc, DateBlockDoc]:
    """Take the offer a link names for booking ``booking_id``: OFFERED -> BOOKED in one
    conditional update (unexpired, still holding its seats), the seats now the booking's.
    Returns ``(entry, retreat, block)``; 409 when the offer is gone, 400 when more participants
    than offered seats. The caller inserts the booking, or calls ``unclaim_offer`` if it can't."""
    entry = _live_offer(_entry_by_token(token))
    if participant_count > int(entry["nbPlaces"]):
        raise InvalidInput([MSG_TOO_MANY_PARTICIPANTS], fields=[{"field": "participants", "rule": "max_length"}])
    retreat, block = _retreat_and_block(entry["retreatId"], date_id=entry["dateId"])
    if now() >= as_utc(block["start"]):
        raise Conflict(MSG_STARTED)
    claimed = _repo().transition_live_offer(
        entry["_id"], at=now(), changes={"statut": BOOKED, "seatsHeld": False, "bookingId": booking_id, "offerEmailOwed": False}
    )
    if claimed is None:
        raise Conflict(MSG_OFFER_GONE)
    # The seats change holder, from the offer to the booking (lutea.data.seats: every held seat
    # is named). Killed in between, the seats are named by neither: the reconciliation gives
    # them back.
    _seats().transfer(entry["dateId"], entry["_id"], booking_id)
    return claimed, retreat, block


def unclaim_offer(entry_id: ObjectId, booking_id: ObjectId) -> None:
    """The booking of a claimed offer was not stored: the offer holds its seats again (until it
    expires or is taken)."""
    entry = _repo().get(entry_id)
    if entry is not None:
        _seats().transfer(entry["dateId"], booking_id, entry_id)
    _repo().transition(
        entry_id, {"statut": BOOKED, "bookingId": booking_id}, {"statut": OFFERED, "seatsHeld": True}, unset=("bookingId",)
    )


# --- the scheduled job -----------------------------------------------------------------------


def expire_offers() -> int:
    """Offers not taken in time: seats back, offered to the next in line."""
    repo = _repo()
    expired = 0
    for oid in repo.overdue_offer_ids(now()):
        before = repo.transition_overdue_offer(
            oid, at=now(), changes={"statut": EXPIRED, "seatsHeld": False, "offerEmailOwed": False}
        )
        if before is not None:
            expired += 1
            _give_back(before)
    return expired


def run_offers() -> dict[str, int]:
    """Scheduled: expire overdue offers, offer whatever is free on every block with people
    waiting (a release whose offer a crash prevented), send offer emails still owed."""
    expired = expire_offers()
    made = 0
    for date_id in _repo().dates_with_waiting():
        try:
            made += offer_freed_seats(date_id)
        except Exception:  # noqa: BLE001 - one block must not stop the others
            logger.exception("waiting list offers failed", extra={"dateId": str(date_id)})
    resent = 0
    for oid in _repo().owed_offer_email_ids(now() - OFFER_EMAIL_GRACE):
        entry = _repo().get(oid)
        if entry is None:
            continue
        try:
            retreat, block = _retreat_and_block(entry["retreatId"], date_id=entry["dateId"])
        except NotFound:
            continue
        _send_offer(oid, retreat, block)
        resent += 1
    result = {"expired": expired, "offered": made, "emailsResent": resent}
    logger.info("waiting list job", extra=result)
    return result


# --- admin ---------------------------------------------------------------------------------


def admin_view(retreat_id: ObjectId) -> list[dict[str, Any]]:
    """Each date block of the retreat with its list, in line order, and its offers."""
    from lutea.data.retreats import RetreatRepository
    from lutea.schemas.waiting_list import entry_out
    from lutea.wire import iso

    retreat = RetreatRepository().get(retreat_id)
    if retreat is None:
        raise NotFound(MSG_RETREAT_NOT_FOUND)
    entries = _repo().list_for_retreat(retreat_id)
    blocks = []
    for block in retreat.get("dates") or []:
        date_id = block.get("_id")
        counter = _seats().get(date_id) if date_id is not None else None
        mine = [e for e in entries if e["dateId"] == date_id]
        position = 0
        shaped = []
        for entry in mine:
            if entry["statut"] == WAITING:
                position += 1
            shaped.append(entry_out(entry, position if entry["statut"] == WAITING else None))
        blocks.append(
            {
                "_id": str(date_id),
                "dateStart": iso(block["start"]) if block.get("start") else None,
                "dateEnd": iso(block["end"]) if block.get("end") else None,
                "places": int(counter["places"]) if counter else int(block.get("places") or 0),
                "placesDisponibles": _free(date_id) if counter and date_id is not None else 0,
                "placesOffertes": sum(int(e["nbPlaces"]) for e in mine if e["statut"] == OFFERED and e.get("seatsHeld")),
                "inscriptions": shaped,
            }
        )
    return blocks


# --- emails --------------------------------------------------------------------------------


def _send_joined(entry: WaitingListEntryDoc, retreat: RetreatDoc, block: DateBlockDoc) -> None:
    from lutea.email.messages import notify, send_waiting_list_joined

    _, leave_link = _links(entry)
    notify(
        send_waiting_list_joined,
        entry["email"],
        retreat_name=retreat.get("titreCard") or "",
        date_start=block["start"],
        date_end=block["end"],
        seats=int(entry["nbPlaces"]),
        offer_hours=get_settings().waiting_list_offer_hours,
        leave_link=leave_link,
        token=entry_token(entry),
    )


def _send_offer(entry_id: ObjectId, retreat: RetreatDoc, block: DateBlockDoc) -> None:
    """The offer email, owed since the offer was made: sent, then marked sent. A failed
    delivery, or a crash before it is sent, leaves it owed for ``run_offers`` (the copy kept
    by notify holds no live link, so the email retries drop it)."""
    from lutea.email.messages import notify, send_waiting_list_offer
    from lutea.refund_policy import policy_text, retreat_policy

    entry = _repo().get(entry_id)
    if entry is None or entry["statut"] != OFFERED or not entry.get("offerEmailOwed"):
        return
    book_link, leave_link = _links(entry)
    sent = notify(
        send_waiting_list_offer,
        entry["email"],
        retreat_name=retreat.get("titreCard") or "",
        date_start=block["start"],
        date_end=block["end"],
        seats=int(entry["nbPlaces"]),
        total_cents=_price_cents(retreat, block, int(entry["nbPlaces"])),
        offer_until=entry["offerExpiresAt"],
        book_link=book_link,
        leave_link=leave_link,
        policy_text=policy_text(retreat_policy(retreat)),
        token=entry_token(entry),
    )
    if sent is None:
        return  # undelivered: its stored copy holds no live link, so it stays owed to run_offers
    _repo().transition(entry_id, {"statut": OFFERED, "offerEmailOwed": True}, {"offerEmailOwed": False})
