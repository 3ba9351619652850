"""A repository takes the database it is given: a pymongo ``Database`` (what ``get_db()`` opens
on a real server) refuses truth testing, so "none given" is asked with ``is None``, never
``db or get_db()``. The suite's stand-in is truthy: only a real driver object shows it."""

from __future__ import annotations

from collections.abc import Iterator

import pymongo
import pytest
from bson import ObjectId
from lutea.data.bookings import BookingRepository
from lutea.data.contact_consents import ContactConsentRepository
from lutea.data.email_failures import EmailFailureRepository
from lutea.data.owed import OwedRepository
from lutea.data.payments import ProcessedEventRepository
from lutea.data.rate_limits import RateLimitRepository
from lutea.data.retreats import RetreatRepository
from lutea.data.seats import SeatRepository
from lutea.data.sessions import SessionFamilyRepository
from lutea.data.users import TemporaryUserRepository, UserRepository
from lutea.data.waiting_list import WaitingListRepository
from pymongo.errors import ServerSelectionTimeoutError


@pytest.fixture
def driver_db() -> Iterator[pymongo.database.Database]:
    # Nothing listens on port 1: an operation fails server selection within 50 ms.
    client: pymongo.MongoClient = pymongo.MongoClient("mongodb://127.0.0.1:1", connect=False, serverSelectionTimeoutMS=50)
    try:
        yield client["lutea"]
    finally:
        client.close()


def test_every_repository_takes_a_pymongo_database(driver_db):
    repositories = [
        BookingRepository,
        ContactConsentRepository,
        EmailFailureRepository,
        ProcessedEventRepository,
        RateLimitRepository,
        RetreatRepository,
        SeatRepository,
        SessionFamilyRepository,
        TemporaryUserRepository,
        UserRepository,
        WaitingListRepository,
    ]
    for repository in repositories:
        assert repository(driver_db)._col.database is driver_db
    assert OwedRepository("bookings", driver_db)._col.database is driver_db


def test_a_late_refund_reaches_the_server(driver_db, monkeypatch):
    # As in production: get_db() opens a pymongo Database, and BookingRepository hands it to
    # OwedRepository. The update goes out (and finds no server here) instead of failing on
    # the handle.
    monkeypatch.setattr("lutea.data.bookings.get_db", lambda: driver_db)
    with pytest.raises(ServerSelectionTimeoutError):
        BookingRepository().complete_late_refund(
            ObjectId(), "refund_late", payment_intent_id="pi_1", changes={"statutPaiement": "REFUNDED"}
        )
