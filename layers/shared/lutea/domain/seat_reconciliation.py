"""The seat reconciliation job: compare every seat counter with the bookings and the retreats,
repair drift in the safe direction, tell the admin what was found, and count it.

Why drift can exist: seats are taken and given back by single-document updates on the counter
and the booking, one after the other. A function killed between the two (timeout, out of
memory, freeze) leaves them disagreeing: seats held for a booking that never got stored, or
that no longer holds them; an admin edit killed between the counter and the retreat leaves a
capacity, a counter or a block the other doesn't know. Each case and its repair:

=============================================  ==============================================
found                                           repair
=============================================  ==============================================
a holder whose booking is missing, holds no     give its seats back (``release``: idempotent)
seats or holds them on another date
a booking holding seats with no holder          name it: seats already counted but unnamed
                                                (a counter from before holders) are adopted;
                                                otherwise taken if free, else reported
                                                (overbooked: the admin decides)
``held`` differing from its holders' seats      set to the holders' sum, once every booking
                                                has been named
a capacity differing from the retreat's block   the retreat's value, if it is not below held
a counter for a block the retreat doesn't have  deleted if it holds nothing
a block without a counter                       created (its bookings are then adopted)
=============================================  ==============================================

Everything younger than ``GRACE`` is left alone (an operation may be in flight; no function
runs that long), and every repair is conditional on the counter as read (its ``updatedAt``),
so a concurrent booking makes it wait for the next run rather than race. Never oversold:
seats are only ever given back when nothing holds them, and taken only if free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from lutea.clock import as_utc, now
from lutea.data.bookings import BookingRepository
from lutea.data.seats import SeatRepository
from lutea.data.waiting_list import WaitingListRepository
from lutea.observability import count_metric, logger

if TYPE_CHECKING:
    from lutea.data.documents import DateBlockDoc, RetreatDoc, SeatCounterDoc

GRACE = timedelta(minutes=5)


@dataclass
class ReconciliationReport:
    released: list[str] = field(default_factory=list)  # stale holders given back
    adopted: list[str] = field(default_factory=list)  # bookings named as holders
    overbooked: list[str] = field(default_factory=list)  # bookings holding seats the counter can't give
    corrected: list[str] = field(default_factory=list)  # held, capacity, counters created or deleted

    def as_counts(self) -> dict[str, int]:
        return {
            "released": len(self.released),
            "adopted": len(self.adopted),
            "overbooked": len(self.overbooked),
            "corrected": len(self.corrected),
        }

    def lines(self) -> list[str]:
        return [*self.released, *self.adopted, *self.overbooked, *self.corrected]


def _old(stamp: Any, cutoff: Any) -> bool:
    return stamp is None or as_utc(stamp) <= cutoff


def reconcile_seats() -> ReconciliationReport:
    """One run over every counter. Returns what it found and did (ids and numbers only)."""
    from lutea.data.retreats import RetreatRepository

    seats, bookings = SeatRepository(), BookingRepository()
    report = ReconciliationReport()
    cutoff = now() - GRACE
    blocks: dict[ObjectId, tuple[RetreatDoc, DateBlockDoc]] = {}
    for retreat in RetreatRepository().list_all():
        for block in retreat.get("dates") or []:
            if block.get("_id") is not None:
                blocks[block["_id"]] = (retreat, block)
    counters = {c["_id"]: c for c in seats.all_counters()}

    for date_id, (retreat, block) in blocks.items():
        if date_id not in counters and _old(retreat.get("updatedAt"), cutoff):
            seats.ensure(retreat_id=retreat["_id"], date_id=date_id, places=int(block.get("places") or 1))
            report.corrected.append(f"counter {date_id}: created for its date block")
            counters[date_id] = seats.get(date_id) or {}

    for date_id, counter in counters.items():
        if not counter:
            continue
        if date_id not in blocks:
            if (
                _old(counter.get("updatedAt"), cutoff)
                and int(counter.get("held") or 0) == 0
                and seats.delete_unheld(date_id, expected_places=int(counter["places"]))
            ):
                report.corrected.append(f"counter {date_id}: deleted (no such date block)")
            continue
        _reconcile_counter(seats, bookings, counter, blocks[date_id][1], cutoff, report)

    counts = report.as_counts()
    for name, value in counts.items():
        if value:
            count_metric(f"SeatReconciliation.{name}", value)
    if sum(counts.values()):
        count_metric("SeatReconciliationRepairs", sum(counts.values()))  # alarmed in template.yaml
    logger.info("seat reconciliation", extra=counts)
    if report.lines():
        _alert(report)
    return report


def _reconcile_counter(
    seats: SeatRepository, bookings: Any, counter: SeatCounterDoc, block: DateBlockDoc, cutoff: Any, report: ReconciliationReport
) -> None:
    date_id = counter["_id"]
    holders = {h["bookingId"]: h for h in counter.get("holders") or []}
    # Seats are held by bookings, and by waiting-list offers (lutea.domain.waiting_list).
    holding = {b["_id"]: b for b in bookings.holding_seats_on(date_id)}
    offers = {o["_id"]: o for o in WaitingListRepository().holding_seats_on(date_id)}

    # 1. Holders whose booking does not hold seats here: their seats are lost; give them back.
    stale = [h for bid, h in holders.items() if bid not in holding and bid not in offers and _old(h.get("at"), cutoff)]
    if stale:
        states = {b["_id"]: b for b in bookings.states_of([h["bookingId"] for h in stale])}
        for holder in stale:
            booking = states.get(holder["bookingId"])
            if booking is not None and not _old(booking.get("updatedAt"), cutoff):
                continue  # just changed: maybe a transition in flight
            if seats.release(date_id, int(holder["n"]), holder["bookingId"]):
                report.released.append(
                    f"counter {date_id}: {holder['n']} seat(s) of booking "
                    f"{holder['bookingId']} given back ({'missing' if booking is None else 'not holding'})"
                )
    # 2. Bookings holding seats with no holder: name them.
    unnamed = [b for bid, b in {**holding, **offers}.items() if bid not in holders and _old(b.get("updatedAt"), cutoff)]
    for booking in unnamed:
        current = seats.get(date_id) or {}
        named = sum(int(h["n"]) for h in current.get("holders") or [])
        n = int(booking["nbPlaces"])
        counted = int(current.get("held") or 0) - named >= n
        if seats.adopt_holder(current, booking["_id"], n, already_counted=counted):
            report.adopted.append(
                f"counter {date_id}: {'offer' if booking['_id'] in offers else 'booking'} "
                f"{booking['_id']} named as the holder of {n} seat(s)" + ("" if counted else " (taken)")
            )
        elif not counted:
            report.overbooked.append(
                f"counter {date_id}: booking {booking['_id']} holds {n} seat(s) the counter cannot give (overbooked)"
            )
    # 3. ``held`` must be the sum of the named seats, once everyone holding is named.
    # (Every reservation and release changes both at once: a difference is old data, never an
    # operation in flight.)
    current = seats.get(date_id) or {}
    if not current:
        return
    named = sum(int(h["n"]) for h in current.get("holders") or [])
    named_ids = {h["bookingId"] for h in current.get("holders") or []}
    still_unnamed = [bid for bid in {**holding, **offers} if bid not in named_ids]
    if int(current["held"]) != named and not still_unnamed and seats.set_held(current, named):
        report.corrected.append(f"counter {date_id}: held {current['held']} -> {named} (the seats of its holders)")
        current = seats.get(date_id) or {}
    # 4. The capacity is the retreat's.
    places = int(block.get("places") or 0)
    if current and places and int(current["places"]) != places and seats.restore_places(current, places):
        report.corrected.append(f"counter {date_id}: places {current['places']} -> {places} (the retreat's)")


def _alert(report: ReconciliationReport) -> None:
    from lutea.email.messages import notify, send_admin_alert

    notify(
        send_admin_alert,
        "Réconciliation des places : écarts corrigés",
        "La vérification des compteurs de places a trouvé et traité :\n" + "\n".join(report.lines()),
    )


__all__ = ["GRACE", "ReconciliationReport", "reconcile_seats"]
