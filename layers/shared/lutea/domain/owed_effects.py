"""Owed side effects: what must happen exactly once after a transition (an email, a refund, a
PaymentIntent cancellation) is recorded as owed IN THE SAME UPDATE as the transition, then
done at once by the caller and, should that fail or the function die, by a retry job. A crash
delays an effect; it never loses it, and it never does it twice.

Use it in three steps::

    # 1. once, at import time of the module that owns the effect: its kind and how to do it
    owed_effects.register("booking_email", collection="bookings", perform=_send_booking_email)

    # 2. in the transition: the entries go into the same single-document update
    repo.transition(oid, precondition, changes,
                    owe={"email_cancelled": owed_effects.owe("booking_email", template="cancelled")})

    # 3. right after it (best effort: a failure stays owed for the job)
    owed_effects.settle("bookings", oid)

    # or, on a hot path, without reading the document again: the entry is born claimed by
    # the caller, which does it from the document the transition returned
    email = owed_effects.owe_now("booking_email", template="confirmation")
    before = repo.transition(oid, precondition, changes, owe={"email_confirmation": email})
    owed_effects.perform_now("bookings", {**before, **changes}, "email_confirmation", email)

``perform(doc, key, args)`` receives the document (as claimed), the entry's key and its
``args``. It does the external work and returns; it raises to be retried later. It must be
idempotent at the provider, keyed by ``idempotency_key(collection, doc, key)`` (Stripe and
Resend replay a known key instead of acting twice), because a crash after the provider acted
and before the entry is removed runs it again. When finishing the effect should change the
document too (a refund turns the payment REFUNDED and owes the cancellation email), the
performer calls ``complete(collection, doc_id, key, precondition=..., changes=..., owe=...)``
itself: entry removed, change applied and next entries owed in one update. Otherwise the entry
is removed for it after ``perform`` returns.

Retries: ``retry_owed_effects()`` (scheduled every 5 minutes) runs every due entry of every
registered collection. A failed attempt is retried with growing delays (1 min, 2, 4 ... capped
at 1 hour), forever: money owed back is never given up. From the ``ALERT_AFTER``-th failed
attempt the admin is emailed once per entry, with the kind and the document id (no personal
data), and the metric ``OwedEffectsStuck`` is emitted on every failed attempt past it.

Keys name the effect on its document (``refund_<pi>``, ``email_confirmation``): owing the
same key twice overwrites the entry, which is how a transition that may be replayed stays
single. Keys are plain field names (letters, digits, ``_``, ``-``). A module registering a
kind lists itself in ``KIND_MODULES`` so that the job knows it. Entries are hidden from the
wire (``owed`` is internal, like ``seatsHeld``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from lutea.clock import as_utc, now
from lutea.data.owed import OwedRepository, owed_entry
from lutea.observability import count_metric, logger

if TYPE_CHECKING:
    from lutea.data.documents import OwedEntryDoc

# A claimed entry is hidden this long from other workers (longer than any function runs).
LEASE = timedelta(minutes=2)
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
ALERT_AFTER = 5  # failed attempts before the admin is told
BATCH = 200

# Does one owed entry on the document that owes it (as read from the kind's collection).
Perform = Callable[[Any, str, dict[str, Any]], None]


class _Kind(NamedTuple):
    collection: str
    perform: Perform
    refund: bool


_kinds: dict[str, _Kind] = {}


def register[D: Mapping[str, Any]](
    kind: str, *, collection: str, perform: Callable[[D, str, dict[str, Any]], None], refund: bool = False
) -> None:
    """Declare how an owed effect of ``kind`` on documents of ``collection`` is done;
    ``refund``: it gives money back (its age is reported apart: ``oldest_owed_ages``).
    ``perform`` is handed documents of ``collection`` only: it may declare their type (``D``)."""
    _kinds[kind] = _Kind(collection, perform, refund)


def owe(kind: str, **args: Any) -> OwedEntryDoc:
    """An entry to record in a transition's update (lutea.data.owed.with_owed does it)."""
    if kind not in _kinds:
        _load_kinds()
    if kind not in _kinds:
        raise ValueError(f"unknown owed effect {kind!r}")
    return owed_entry(kind, args)


def owe_now(kind: str, **args: Any) -> OwedEntryDoc:
    """As ``owe``, for an effect the caller does itself right after the transition, from the
    document it already has (``perform_now``): the entry is born claimed, so the job leaves it
    alone unless the caller dies (then the job does it once the claim has lapsed)."""
    owe(kind, **args)  # checks the kind
    return owed_entry(kind, args, claimed_until=now() + LEASE)


def perform_now(collection: str, doc: Mapping[str, Any], key: str, entry: OwedEntryDoc) -> bool:
    """Do entry ``key`` (created by ``owe_now``) on ``doc`` as the caller's transition left it,
    without reading it again: one more write to record it done. False when it failed (it stays
    owed, retried by the job). For kinds that owe nothing in turn (use ``settle`` for those)."""
    return _perform(OwedRepository(collection), collection, doc, key, entry)


def idempotency_key(collection: str, doc_id: Any, key: str) -> str:
    """The provider's idempotency key of one owed entry: stable across retries and crashes."""
    return f"lutea-{collection}-{doc_id}-{key}"


def complete(
    collection: str,
    doc_id: Any,
    key: str,
    *,
    precondition: dict[str, Any] | None = None,
    unless: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    owe: dict[str, OwedEntryDoc] | None = None,
    otherwise_owe: dict[str, OwedEntryDoc] | None = None,
) -> dict | None:
    """Finish entry ``key``: removed, and in the same update ``changes`` applied and ``owe``
    owed if the document matches ``precondition`` (field equalities) and none of the fields
    of ``unless`` holds the value given there, else only ``otherwise_owe`` owed. Returns the
    document as it was before, or None when the entry was already done or the precondition
    failed (lutea.data.owed.OwedRepository.complete)."""
    return OwedRepository(collection).complete(
        doc_id, key, precondition=precondition, unless=unless, changes=changes, owe=owe, otherwise_owe=otherwise_owe
    )


def owe_once(collection: str, doc_id: Any, key: str, entry: OwedEntryDoc) -> dict | None:
    """Owe ``entry`` under ``key`` on its own (no transition with it), unless the document
    already owes one under that key: recording twice owes once. The document after, or None
    when it was already owed or there is no such document."""
    return OwedRepository(collection).owe_once(doc_id, key, entry)


def _delay(attempts: int) -> timedelta:
    return min(MAX_DELAY, FIRST_DELAY * int(2 ** max(0, attempts - 1)))


def _run(collection: str, doc_id: Any, key: str) -> bool | None:
    """Claim and do one entry. True: done; False: failed (rescheduled); None: not due/claimed."""
    repo = OwedRepository(collection)
    doc = repo.claim(doc_id, key, lease_until=now() + LEASE)
    if doc is None:
        return None
    return _perform(repo, collection, doc, key, doc["owed"][key])


def _perform(repo: OwedRepository, collection: str, doc: Mapping[str, Any], key: str, entry: OwedEntryDoc) -> bool:
    doc_id = doc["_id"]
    kind = _kinds.get(entry["kind"])
    try:
        if kind is None:
            raise LookupError(f"no performer for {entry['kind']}")
        kind.perform(doc, key, dict(entry.get("args") or {}))
    except Exception as exc:  # noqa: BLE001 - every failure is retried later, none is lost
        attempts = int(entry.get("attempts") or 1)
        repo.reschedule(doc_id, key, next_attempt=now() + _delay(attempts), error=type(exc).__name__)
        logger.warning(
            "owed effect failed; will retry",
            extra={"kind": entry["kind"], "docId": str(doc_id), "attempts": attempts, "error": type(exc).__name__},
        )
        if attempts >= ALERT_AFTER:
            count_metric("OwedEffectsStuck")
            if repo.mark_alerted(doc_id, key):
                _alert(collection, doc_id, entry["kind"], attempts, type(exc).__name__)
        return False
    repo.complete(doc_id, key)
    count_metric("OwedEffectsDone")
    return True


def settle(collection: str, doc_id: Any, *, now_even_if_waiting: bool = False) -> dict[str, int]:
    """Do the due entries of one document now (the caller of a transition); never raises for a
    failed effect (it stays owed). Entries owed by a completed entry are done in the same call.
    ``now_even_if_waiting``: entries waiting for their next attempt are tried now too (an admin
    repeating an operation)."""
    _load_kinds()
    counts = {"done": 0, "failed": 0}
    repo = OwedRepository(collection)
    if now_even_if_waiting:
        repo.make_due(doc_id)
    for _ in range(10):  # follow-up entries; bounded so that a bug cannot loop
        doc = repo.get(doc_id)
        if doc is not None and doc.get("owed") == {}:
            repo.forget_empty(doc_id)
        keys = sorted((doc or {}).get("owed") or {})
        progressed = False
        for key in keys:
            outcome = _run(collection, doc_id, key)
            if outcome is True:
                counts["done"] += 1
                progressed = True
            elif outcome is False:
                counts["failed"] += 1
        if not progressed:
            break
    return counts


def retry_owed_effects() -> dict[str, int]:
    """The scheduled job: every due entry of every registered collection, oldest documents
    first. Returns ``{done, failed}``."""
    _load_kinds()
    counts = {"done": 0, "failed": 0}
    for collection in sorted({k.collection for k in _kinds.values()}):
        for doc in OwedRepository(collection).documents_owing(BATCH):
            settled = settle(collection, doc["_id"])
            counts["done"] += settled["done"]
            counts["failed"] += settled["failed"]
    if any(counts.values()):
        logger.info("owed effects run", extra=counts)
    return counts


def oldest_owed_ages() -> dict[str, int]:
    """Seconds the oldest entry still owed has waited, ``{"refund", "any"}`` (0: none), for the
    alarms of template.yaml: an effect that keeps failing quietly is seen."""
    _load_kinds()
    current = now()
    ages = {"refund": 0, "any": 0}
    for collection in sorted({k.collection for k in _kinds.values()}):
        for doc in OwedRepository(collection).documents_owing(BATCH):
            for entry in (doc.get("owed") or {}).values():
                age = max(0, int((current - as_utc(entry["createdAt"])).total_seconds()))
                ages["any"] = max(ages["any"], age)
                kind = _kinds.get(entry.get("kind", ""))
                if kind is not None and kind.refund:
                    ages["refund"] = max(ages["refund"], age)
    return ages


def _alert(collection: str, doc_id: Any, kind: str, attempts: int, error: str) -> None:
    from lutea.email.messages import notify, send_admin_alert

    notify(
        send_admin_alert,
        "Une opération reste en échec",
        f"L'opération « {kind} » du document {collection}/{doc_id} a échoué {attempts} fois "
        f"(dernière erreur : {error}). Elle est retentée automatiquement ; vérifiez le service concerné.",
    )


# Modules that register kinds: imported before a job runs (its container may not have loaded
# them). A module that registers a new kind adds itself here.
KIND_MODULES = ("lutea.domain.booking_lifecycle", "lutea.domain.cancellation")


def _load_kinds() -> None:
    import importlib

    for name in KIND_MODULES:
        importlib.import_module(name)


__all__ = [
    "ALERT_AFTER",
    "complete",
    "idempotency_key",
    "owe",
    "owe_now",
    "perform_now",
    "register",
    "retry_owed_effects",
    "settle",
]
