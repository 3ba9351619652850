"""MongoDB indexes as an explicit, versioned migration, run ahead of traffic: ``make migrate``
(infra/migrate.py) before each deploy (README, Deploying; template.yaml says so where the jobs
are), the test rig and ``make dev``. Never on the request path.

    report = migrate_indexes(get_db())
    report.ok          # False when an index could not be created (conflicts listed)

Each repository declares its indexes (``lutea.data.mongo.register_indexes``); this module
creates them all, drops the ones nothing uses any more (``OBSOLETE``), and records the applied
``VERSION`` in the ``migrations`` collection. Creating an index that exists identically does
nothing, so running it again is safe. An index that exists under the same name or keys with
other options, or a unique index that the data violates (duplicates), is a conflict: it is
reported with its collection, its keys and MongoDB's message, the other indexes are still
created, and the report is not ``ok`` (``make migrate`` exits 1: do not deploy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lutea.clock import now
from lutea.data.mongo import index_builders

if TYPE_CHECKING:
    from pymongo.collection import Collection
    from pymongo.database import Database

    from lutea.data.mongo import IndexTarget

# Bump when an index is added, changed or dropped.
VERSION = 4  # 4: the waiting list's and contact consents' indexes, which make migrate had never imported
# 3: one active waiting-list entry per address and date block (unique, partial)
MIGRATIONS = "migrations"

# Indexes of earlier versions that no query uses any more: (collection, index name).
OBSOLETE: tuple[tuple[str, str], ...] = (
    # The admin list sorts (createdAt, _id): replaced by createdAt_-1__id_-1.
    ("bookings", "createdAt_-1"),
    # Replaced by the partial unique index on stripePaymentIntentId.
    ("bookings", "stripePaymentIntentId_1"),
)


@dataclass
class IndexReport:
    version: int = VERSION
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.conflicts


class _RecordingDatabase:
    """Hands the builders collections whose ``create_index`` reports instead of raising."""

    def __init__(self, db: Database[Any], report: IndexReport) -> None:
        self._db = db
        self._report = report

    def __getitem__(self, name: str) -> _RecordingCollection:
        return _RecordingCollection(self._db[name], name, self._report)


class _RecordingCollection:
    def __init__(self, collection: Collection[Any], name: str, report: IndexReport) -> None:
        self._collection = collection
        self._name = name
        self._report = report

    def create_index(self, keys: Any, **options: Any) -> str | None:
        from pymongo.errors import OperationFailure

        try:
            created = self._collection.create_index(keys, **options)
        except OperationFailure as exc:
            details = exc.details or {}
            self._report.conflicts.append(
                f"{self._name} {keys!r} {options or ''}: {details.get('codeName') or exc.code}: {details.get('errmsg') or exc}"
            )
            return None
        self._report.created.append(f"{self._name}.{created}")
        return str(created)


def migrate_indexes(db: Database[Any], builders: list[Callable[[IndexTarget], None]] | None = None) -> IndexReport:
    """Create every declared index, drop the obsolete ones, record the version."""
    report = IndexReport()
    recording = _RecordingDatabase(db, report)
    for collection, name in OBSOLETE:
        if name in (db[collection].index_information() or {}):
            db[collection].drop_index(name)
            report.dropped.append(f"{collection}.{name}")
    for builder in builders if builders is not None else _all_builders():
        builder(recording)
    if report.ok:
        db[MIGRATIONS].update_one({"_id": "indexes"}, {"$set": {"version": VERSION, "appliedAt": now()}}, upsert=True)
    return report


def applied_version(db: Database[Any]) -> int | None:
    doc = db[MIGRATIONS].find_one({"_id": "indexes"})
    return int(doc["version"]) if doc else None


def _all_builders() -> list[Callable[[IndexTarget], None]]:
    # Importing the repositories registers their indexes.
    # Every one of them: make migrate imports nothing else (test_index_migration checks).
    import lutea.data.bookings
    import lutea.data.contact_consents
    import lutea.data.email_failures
    import lutea.data.payments
    import lutea.data.rate_limits
    import lutea.data.retreats
    import lutea.data.seats
    import lutea.data.sessions
    import lutea.data.users
    import lutea.data.waiting_list  # noqa: F401

    return index_builders()


__all__ = ["OBSOLETE", "VERSION", "IndexReport", "applied_version", "migrate_indexes"]
