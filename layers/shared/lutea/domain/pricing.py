"""The price of a date block's seats (integer cents), shared by bookings and waiting-list offers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lutea.wire import euros_to_cents

if TYPE_CHECKING:
    from lutea.data.documents import DateBlockDoc, RetreatDoc


def unit_price_cents(retreat: RetreatDoc, block: DateBlockDoc) -> int:
    """The block's price; older blocks kept euros in ``prix``, older retreats a top-level ``prix``
    (the original's fallback chain: block price, then the retreat's, then 0)."""
    if block.get("prixCents") is not None:
        return int(block["prixCents"])
    if block.get("prix") is not None:
        return euros_to_cents(block["prix"])
    if retreat.get("prix") is not None:
        return euros_to_cents(retreat["prix"])
    return 0
