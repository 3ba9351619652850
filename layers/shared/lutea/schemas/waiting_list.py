"""Request and response models of the waiting list (docs/waiting-list.md)."""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from lutea.schemas.bookings import MAX_PLACES, BillingAddressIn, IsoInstant, Notes, ParticipantIn, Places, Text
from lutea.validation import Email, StrictModel, object_id

# <entry id>.<HMAC-SHA256, base64url without padding>: lutea.domain.waiting_list.entry_token
Token = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$", max_length=68)]


class WaitingListJoinIn(StrictModel):
    """Body of ``POST /bookings/waiting-list``: the date block is named as on ``POST /bookings``
    (the retreat and the block's start)."""

    retreatId: object_id("retraite")  # type: ignore[valid-type]
    dateStart: IsoInstant
    nbPlaces: Places
    email: Email
    prenom: Text


class WaitingListTokenIn(StrictModel):
    token: Token


class OfferBookingIn(StrictModel):
    """Body of ``POST /bookings/waiting-list/offer/book``: who comes and who pays; the retreat,
    the date block, the seats and the price come from the offer."""

    token: Token
    participants: Annotated[list[ParticipantIn], Field(min_length=1, max_length=MAX_PLACES)]
    billingAddress: BillingAddressIn
    notes: Notes | None = None


def entry_out(entry: Mapping[str, Any], position: int | None) -> dict[str, Any]:
    from lutea.wire import iso

    return {
        "_id": str(entry["_id"]),
        "email": entry["email"],
        "prenom": entry.get("prenom", ""),
        "nbPlaces": int(entry["nbPlaces"]),
        "statut": entry["statut"],
        "position": position,
        "userId": str(entry["userId"]) if entry.get("userId") else None,
        "createdAt": iso(entry["createdAt"]),
        "offreEnvoyeeLe": iso(entry["offeredAt"]) if entry.get("offeredAt") else None,
        "offreExpireLe": iso(entry["offerExpiresAt"]) if entry.get("offerExpiresAt") else None,
        "bookingId": str(entry["bookingId"]) if entry.get("bookingId") else None,
    }
