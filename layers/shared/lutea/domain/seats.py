"""Seats of a date block as bookings hold them: taking them (one conditional update of the
block's counter, lutea.data.seats), what is left, giving them back, and offering the seats
given back to the block's waiting list.

A PENDING or CONFIRMED booking holds ``nbPlaces`` seats of its date block's counter, marked by
``seatsHeld: true``. Which transition takes or gives back seats, and when, is the lifecycle's
business (lutea.domain.booking_lifecycle): it calls ``release_seats`` only as the winner of the
transition that turned ``seatsHeld`` from true to false, hence once per booking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

from lutea.data.seats import SeatRepository
from lutea.domain.booking_lookup import MSG_DATE_NOT_FOUND
from lutea.errors import Conflict, NotFound
from lutea.observability import logger

if TYPE_CHECKING:
    from lutea.data.documents import BookingDoc


def hold_seats(date_id: ObjectId, seats: int, booking_id: ObjectId) -> bool:
    """Take ``seats`` of the date block's counter for ``booking_id`` in one conditional update.
    True when the booking holds them (now, or since an earlier attempt that died before its
    booking's update), False when too few are free; ``NotFound`` when the block has no counter.

    A block without a counter is not bookable: counters are created with their block (and by the
    import of older data), never here, so a booking racing an admin who removes the block can't
    bring a counter back for a block that no longer exists."""
    repo = SeatRepository()
    if repo.try_reserve(date_id, seats, booking_id):  # the usual case first: one round trip
        return True
    if repo.holds(date_id, booking_id):
        return True
    if repo.get(date_id) is None:
        raise NotFound(MSG_DATE_NOT_FOUND)
    return False


def retry_hold(date_id: ObjectId, seats: int, booking_id: ObjectId) -> bool:
    """One more attempt at taking the seats (after seats were freed): True when taken."""
    return SeatRepository().try_reserve(date_id, seats, booking_id)


def short_of_seats(date_id: ObjectId) -> Conflict:
    """The 409 of a reservation that found too few seats, with what is left."""
    return Conflict(f"Seulement {free_seats(date_id)} places disponibles")


def free_seats(date_id: ObjectId, places_if_new: int = 0) -> int:
    """Seats left on the date block's counter (``places_if_new`` when it has none yet)."""
    counter = SeatRepository().get(date_id)
    if counter is None:
        return max(0, places_if_new)
    return max(0, int(counter["places"]) - int(counter["held"]))


def give_back(date_id: ObjectId, seats: int, booking_id: ObjectId) -> bool:
    """Give back seats taken for ``booking_id`` whose booking does not hold them (a lost race):
    no waiting-list offer. False when nothing was held for it."""
    return SeatRepository().release(date_id, seats, booking_id)


def release_seats(booking: BookingDoc) -> None:
    """Give back the seats of ``booking``: called only by the winner of a transition that
    turned ``seatsHeld`` from true to false, hence once per booking."""
    if not SeatRepository().release(booking["dateId"], int(booking["nbPlaces"]), booking["_id"]):
        # Already given back (a retry after a crash), or never taken: nothing to give.
        logger.warning("no seats held for this booking", extra={"bookingId": str(booking["_id"])})
    offer_to_waiting_list(booking["dateId"])


def offer_to_waiting_list(date_id: ObjectId) -> None:
    """Seats came back on a date block: its waiting list is offered them at once. Never fails
    the operation that freed them; the waiting-list job makes any offer missed here."""
    try:
        from lutea.domain.waiting_list import offer_freed_seats

        offer_freed_seats(date_id)
    except Exception:  # noqa: BLE001 - logged; the scheduled job catches up
        logger.exception("waiting list offer failed", extra={"dateId": str(date_id)})
