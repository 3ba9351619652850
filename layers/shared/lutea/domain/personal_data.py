"""What Lutea holds about a person, gathered for her export (RGPD art. 15 and 20) and erased
with her account (art. 17), in one place so that both cover the same stores:

| store | export | on erasure |
|---|---|---|
| ``users`` | the profile (lutea.domain.accounts) | deleted, last |
| ``bookings`` (hers: ``userId``) | every booking | kept for accounting, anonymised |
| ``waitinglist`` (``userId`` or her address) | every entry | she leaves each list, entries deleted |
| ``contactconsents`` (her address) | each consent date | deleted |
| analytics ``Session`` / ``UserEvent`` linked to her | sessions with their events | deleted |
| ``refreshfamilies`` | – (session bookkeeping) | revoked (expire within 7 days) |

Every erasure step is idempotent: a failure half-way (the analytics database down: 503) leaves
the account in place and a retry finishes the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson import ObjectId

from lutea.data.bookings import BookingRepository
from lutea.data.contact_consents import ContactConsentRepository
from lutea.domain import waiting_list

ANONYMOUS = "Anonyme"
WAITING_LIST_FIELDS = (
    "_id",
    "retreatId",
    "dateId",
    "nbPlaces",
    "email",
    "prenom",
    "statut",
    "offeredAt",
    "offerExpiresAt",
    "bookingId",
    "createdAt",
    "updatedAt",
)


def _analytics() -> Any:
    """lutea.domain.analytics, imported on use: the SQL client stays out of the cold start of
    the functions that only seldom export or erase an account."""
    from lutea.domain import analytics

    return analytics


def _picked(doc: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {k: doc[k] for k in fields if k in doc}


def collect(user_id: ObjectId, email: str) -> dict[str, Sequence[Mapping[str, Any]]]:
    """Stored documents about the person (bookings, waiting-list entries, contact consents,
    analytics sessions with their events), as stored; the caller shapes them for the wire."""
    sessions = _analytics().sessions_of_user(str(user_id))
    return {
        "bookings": BookingRepository().list_for_user(user_id),
        "waitingList": [_picked(e, WAITING_LIST_FIELDS) for e in waiting_list.entries_of_person(user_id, email)],
        "contactConsents": [
            {"consentedAt": c["consentedAt"], "expiresAt": c.get("expiresAt")} for c in ContactConsentRepository().list_for(email)
        ],
        "analyticsSessions": sessions,
    }


def erase(user_id: ObjectId, email: str) -> dict[str, int]:
    """Everything but the account itself; the caller deletes the account afterwards."""
    return {
        "analyticsSessions": _analytics().erase_sessions_of_user(str(user_id)),
        "contactConsents": ContactConsentRepository().delete_for(email),
        "waitingList": waiting_list.forget_person(user_id, email),
        "bookingsAnonymised": BookingRepository().anonymise_user_bookings(user_id, placeholder=ANONYMOUS),
    }


__all__ = ["ANONYMOUS", "collect", "erase"]
