"""Request and response models of self-service cancellation (docs/cancellation.md) and of a
retreat's refund policy (``politiqueAnnulation`` on the retreat routes)."""

from typing import Annotated, Self

from pydantic import Field, StrictInt, StringConstraints, model_validator

from lutea.refund_policy import MAX_DAYS, MAX_TIERS
from lutea.validation import StrictModel


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


def quote_out(result: dict) -> dict:
    """lutea.domain.cancellation.cancellation_quote's result as the wire's CancellationQuoteOut
    (lutea.schemas.responses)."""
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
