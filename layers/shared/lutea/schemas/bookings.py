"""Request models of the /bookings routes (API.md, Bookings).

``POST /bookings`` and ``POST /bookings/admin/create`` accept, and ignore, the fields API.md
lists as derived by the server (the frontend sends some of them); any other unknown field is
rejected, as everywhere else (the original's ``forbidNonWhitelisted``): only the listed fields
are a compatibility concession, and a typo in a real field should still be a visible 400.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, StrictBool, StringConstraints, model_validator

from lutea.booking_status import BookingStatus
from lutea.validation import Email, StrictModel, object_id
from lutea.wire import parse_instant

MAX_PLACES = 20


def _instant(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValueError("must be a valid ISO 8601 date string")
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise ValueError("must be a valid ISO 8601 date string") from exc


# An ISO-8601 string (any form), parsed to an aware UTC datetime. Numbers are refused (the
# original's IsDateString), unlike pydantic's datetime which would take a Unix timestamp.
IsoInstant = Annotated[datetime, BeforeValidator(_instant)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Notes = Annotated[str, StringConstraints(max_length=2000)]
Places = Annotated[int, Field(ge=1, le=MAX_PLACES, strict=True)]


class ParticipantIn(StrictModel):
    prenom: Text
    nom: Text
    email: Email


class BillingAddressIn(StrictModel):
    address: Text
    city: Text
    postalCode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Text
    phone: Phone


class BookingIn(StrictModel):
    """Body of ``POST /bookings``. ``dateEnd`` is validated (the original required it) but the
    stored value comes from the date block, as do the price and the denormalised retreat fields."""

    retreatId: object_id("retraite")  # type: ignore[valid-type]
    dateStart: IsoInstant
    dateEnd: IsoInstant
    nbPlaces: Places
    participants: Annotated[list[ParticipantIn], Field(min_length=1, max_length=MAX_PLACES)]
    billingAddress: BillingAddressIn
    notes: Notes | None = None

    # Ignored if sent (API.md): everything here is derived by the server.
    retreatName: Any = Field(default=None, exclude=True)
    retreatAddress: Any = Field(default=None, exclude=True)
    retreatHeureArrivee: Any = Field(default=None, exclude=True)
    retreatHeureDepart: Any = Field(default=None, exclude=True)
    retreatPrestationsIncluses: Any = Field(default=None, exclude=True)
    statut: Any = Field(default=None, exclude=True)
    statutPaiement: Any = Field(default=None, exclude=True)
    userId: Any = Field(default=None, exclude=True)
    prixTotal: Any = Field(default=None, exclude=True)
    isGuest: Any = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _participants_fit(self) -> Self:
        if len(self.participants) > self.nbPlaces:
            raise ValueError("participants: il ne peut pas y avoir plus de participants que de places")
        return self


class AdminBookingIn(BookingIn):
    """Body of ``POST /bookings/admin/create``: as ``POST /bookings``, plus the account to attach
    the booking to, the initial status (CONFIRMED by default) and, to record a booking for a
    date block that has already started, ``dateCommenceeAutorisee: true`` (refused otherwise)."""

    userId: object_id("utilisateur") | None = None  # type: ignore[valid-type]
    statut: BookingStatus | None = None
    dateCommenceeAutorisee: StrictBool = False


class AvailablePlacesIn(StrictModel):
    retreatId: Annotated[str, StringConstraints(max_length=64)]
    date: IsoInstant


class ConfirmBookingIn(StrictModel):
    stripePaymentIntentId: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class CancelBookingIn(StrictModel):
    raison: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


# --- Responses ---------------------------------------------------------------------------------

# Internal bookkeeping that never leaves the server.
HIDDEN_FIELDS = frozenset(
    {
        "dateId",
        "seatsHeld",
        "guestTokenHash",
        "expiresAt",
        "prixTotalCents",
        "cancellationEmailAt",
        "refundedAt",
        "waitingListEntryId",
        "politiqueAnnulation",
        "holdKeys",
        "retreatPrestationsIncluses",
        "owed",
    }
)


def booking_out(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored booking as API.md's JSON: ids as strings, ISO dates, ``prixTotal`` in euros in
    place of ``prixTotalCents``, internal fields dropped. Works on populated documents too
    (``retreatId`` / ``userId`` as sub-documents)."""
    from lutea.wire import cents_to_euros, to_wire

    shaped: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "prixTotalCents":
            shaped["prixTotal"] = cents_to_euros(int(value))
        elif key == "montantRembourseCents":
            shaped["montantRembourse"] = cents_to_euros(int(value))
        elif key not in HIDDEN_FIELDS:
            shaped[key] = value
    out: dict[str, Any] = to_wire(shaped)
    return out
