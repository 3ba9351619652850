"""Refund policies of self-service cancellation: pure functions, no I/O.

It sits below the domain, beside money and ical, because the wire (the policy's input limits),
the emails, the PDF and the domain all read the same tiers and text, and none of those may
import the domain.

A policy is a list of tiers ``(days_before, percent)``: a cancellation made at least
``days_before`` days before the start of the stay is refunded ``percent`` % of what was paid;
the tier with the most days that still applies wins, and none applying means no refund.
The default (``CANCELLATION_POLICY``, "30:100,14:50"): 100 % until 30 days before, 50 % until
14 days, nothing after. A retreat may carry its own (``politiqueAnnulation``); a booking keeps
the policy in force when it was made, so the terms the customer accepted are the ones applied.

The text printed on the PDF and in the emails is generated here from the same tiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from lutea.clock import as_utc

MAX_TIERS = 10
MAX_DAYS = 730


class Tier(NamedTuple):
    days_before: int
    percent: int


class Policy(NamedTuple):
    """Tiers sorted from the most days before the start to the fewest, at most one per day count."""

    tiers: tuple[Tier, ...]

    def to_doc(self) -> dict[str, Any]:
        """The stored and wire form: ``{paliers: [{joursAvant, pourcentage}]}``."""
        return {"paliers": [{"joursAvant": t.days_before, "pourcentage": t.percent} for t in self.tiers]}


class Quote(NamedTuple):
    """What cancelling now would give back."""

    percent: int
    refund_cents: int
    paid_cents: int
    tier: Tier | None  # the tier that applies (None: past every tier, nothing refunded)
    next_change: datetime | None  # when the percentage drops next (None: it never drops again)


def make_policy(tiers: Iterable[tuple[int, int]]) -> Policy:
    """A policy from ``(days_before, percent)`` pairs; ValueError when a pair is out of range or
    two tiers share a day count."""
    items = [Tier(int(d), int(p)) for d, p in tiers]
    if len(items) > MAX_TIERS:
        raise ValueError(f"au plus {MAX_TIERS} paliers")
    for tier in items:
        if not 0 <= tier.days_before <= MAX_DAYS:
            raise ValueError(f"joursAvant doit être entre 0 et {MAX_DAYS}")
        if not 0 <= tier.percent <= 100:
            raise ValueError("pourcentage doit être entre 0 et 100")
    if len({t.days_before for t in items}) != len(items):
        raise ValueError("deux paliers ne peuvent pas avoir le même nombre de jours")
    return Policy(tuple(sorted(items, key=lambda t: -t.days_before)))


def parse_policy_setting(raw: str) -> Policy:
    """``"30:100,14:50"`` (the ``CANCELLATION_POLICY`` setting) -> Policy; ValueError if malformed."""
    pairs = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        days, sep, percent = part.partition(":")
        if not sep:
            raise ValueError(f"palier {part!r} : attendu jours:pourcentage")
        pairs.append((int(days), int(percent)))
    return make_policy(pairs)


def policy_from_doc(doc: Mapping[str, Any] | None) -> Policy | None:
    """A stored ``{paliers: [...]}`` -> Policy; None when absent or unreadable."""
    if not doc or not isinstance(doc.get("paliers"), list):
        return None
    try:
        return make_policy((int(t["joursAvant"]), int(t["pourcentage"])) for t in doc["paliers"])
    except (KeyError, TypeError, ValueError):
        return None


def quote(policy: Policy, *, start: datetime, at: datetime, paid_cents: int) -> Quote:
    """The refund of a cancellation at instant ``at`` of a stay starting at ``start``: the
    percentage of the first tier (most days first) whose deadline ``start - days_before`` is
    not past, applied to ``paid_cents`` rounded down to the cent. A cancellation exactly at a
    deadline still gets that tier."""
    start, at = as_utc(start), as_utc(at)
    applying: Tier | None = None
    for tier in policy.tiers:
        if at <= start - timedelta(days=tier.days_before):
            applying = tier
            break
    percent = applying.percent if applying else 0
    next_change = None
    if applying is not None:
        lower = [t for t in policy.tiers if t.days_before < applying.days_before]
        if not lower or lower[0].percent != percent:
            next_change = start - timedelta(days=applying.days_before)
    return Quote(
        percent=percent,
        refund_cents=max(0, paid_cents) * percent // 100,
        paid_cents=paid_cents,
        tier=applying,
        next_change=next_change,
    )


def default_policy() -> Policy:
    """The global default (``CANCELLATION_POLICY``)."""
    from lutea.config import get_settings

    return parse_policy_setting(get_settings().cancellation_policy)


def retreat_policy(retreat: Mapping[str, Any] | None) -> Policy:
    """The retreat's own tiers, else the global default."""
    return policy_from_doc((retreat or {}).get("politiqueAnnulation")) or default_policy()


def booking_policy(booking: Mapping[str, Any]) -> Policy:
    """The policy the customer accepted, stored on the booking when it was made; bookings older
    than refund policies get the global default."""
    return policy_from_doc(booking.get("politiqueAnnulation")) or default_policy()


def booking_policy_text(booking: Mapping[str, Any]) -> str:
    """What the PDF, the emails and the quote route print about cancelling this booking."""
    return policy_text(booking_policy(booking))


def _days(n: int) -> str:
    return "le jour même" if n == 0 else f"{n} jour{'s' if n > 1 else ''} avant le début du séjour"


def policy_text(policy: Policy) -> str:
    """The policy in words, one sentence per tier (PDF, emails and the quote route use it)."""
    if not policy.tiers or all(t.percent == 0 for t in policy.tiers):
        return "Conditions d'annulation : aucun remboursement en cas d'annulation."
    parts = []
    for tier in policy.tiers:
        until = "jusqu'au jour même du début du séjour" if tier.days_before == 0 else f"jusqu'à {_days(tier.days_before)}"
        refund = "aucun remboursement" if tier.percent == 0 else f"remboursement de {tier.percent} %"
        parts.append(f"annulation {until} : {refund}")
    last = policy.tiers[-1]
    if last.percent != 0 and last.days_before > 0:
        parts.append("au-delà : aucun remboursement")
    return "Conditions d'annulation : " + " ; ".join(parts) + "."
