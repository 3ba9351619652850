"""Request and response models of self-service cancellation (docs/cancellation.md) and of a
retreat's refund policy (``politiqueAnnulation`` on the retreat routes)."""

from typing import Annotated, Self

from pydantic import Field, StrictInt, StringConstraints, model_validator

from lutea.refund_policy import MAX_DAYS, MAX_TIERS
from lutea.validation import OutModel, StrictModel


class TierIn(StrictModel):
    joursAvant: Annotated[StrictInt, Field(ge=0, le=MAX_DAYS)]
    pourcentage: Annotated[StrictInt, Field(ge=0, le=100)]


class CancellationPolicyIn(StrictModel):
    """``{paliers: [{joursAvant, pourcentage}]}``: a cancellation at least ``joursAvant`` days
    before the start is refunded ``pourcentage`` %; the tier with the most days that applies
    wins; none applying means no refund. An empty list means never refunded."""

    paliers: Annotated[list[TierIn], Field(max_length=MAX_TIERS)]

    @model_validator(mode="after")
    def _distinct_days(self) -> Self:
        days = [t.joursAvant for t in self.paliers]
        if len(days) != len(set(days)):
            raise ValueError("deux paliers ne peuvent pas avoir le même nombre de jours")
        return self

    def pairs(self) -> list[tuple[int, int]]:
        return [(t.joursAvant, t.pourcentage) for t in self.paliers]


class SelfCancelIn(StrictModel):
    """Body of ``POST /bookings/:id/cancel`` (optional)."""

    raison: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


# --- responses (documented in the OpenAPI document) ------------------------------------------


class TierOut(OutModel):
    joursAvant: int
    pourcentage: int


class PolicyOut(OutModel):
    paliers: list[TierOut]
    texte: str = Field(description="the policy in words, as printed on the PDF and in the emails")


class CancellationQuoteOut(OutModel):
    bookingId: str
    annulable: bool = Field(description="false when the booking can't be cancelled by its owner now")
    motif: str | None = Field(None, description="why it can't be cancelled, when annulable is false")
    montantPaye: float = Field(description="euros")
    pourcentageRembourse: int
    montantRembourse: float = Field(description="euros, what cancelling now would refund")
    changementLe: str | None = Field(None, description="ISO instant when the percentage drops next")
    politique: PolicyOut
    calculeLe: str = Field(description="the server's clock when the quote was made (ISO)")


class CancellationOut(OutModel):
    """The cancelled booking (as ``GET /bookings/:id``) with what was refunded."""

    id_: str = Field(alias="_id")
    statut: str
    statutPaiement: str
    montantRembourse: float
    pourcentageRembourse: int
    annulationRaison: str | None = None
    annulationDate: str | None = None


def quote_out(result: dict) -> dict:
    """lutea.domain.cancellation.cancellation_quote's result as the wire's CancellationQuoteOut."""
    from lutea.wire import cents_to_euros, iso

    return {
        "bookingId": result["bookingId"],
        "annulable": result["annulable"],
        "motif": result["motif"],
        "montantPaye": cents_to_euros(result["paidCents"]),
        "pourcentageRembourse": result["percent"],
        "montantRembourse": cents_to_euros(result["refundCents"]),
        "changementLe": iso(result["nextChange"]) if result["nextChange"] is not None else None,
        "politique": {**result["policy"].to_doc(), "texte": result["policyText"]},
        "calculeLe": iso(result["at"]),
    }
