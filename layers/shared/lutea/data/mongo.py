"""The MongoDB database handle, created once per container and reused across invocations.

With ``MONGODB_URI`` set it is a real pymongo client, created during the function's init
(``connect_at_init``) and kept for the life of the container: after an outage or an election
the same client reconnects by itself. Its safety options are set here, in code, and override
the URI's: every write waits for a majority (``w="majority"``, so an acknowledged write
survives a failover), reads go to the primary, retryable reads and writes are on (one retry
after a failover; every write the repositories make is single-document, and the two
``update_many`` calls are idempotent), and every operation, retries included, is bounded by
``timeoutMS`` well under the functions' 15 s. A connection failure, a server-selection or
network timeout, or a write-concern failure is an outage (``is_unavailable``): the API answers
503 with ``Retry-After``.

Indexes are never built here, on the request path: they are a versioned migration
(lutea.data.indexes, run by ``make migrate`` and at deploy time). Repositories declare theirs
with ``register_indexes``.

Without ``MONGODB_URI``, an in-process stand-in (mongomock) shared by every function of the
process. mongomock is not thread-safe (concurrent ``find_one_and_update`` calls oversell a
counter), while MongoDB makes every single-document operation atomic: the stand-in therefore
serialises every operation on one process-wide lock, so that the atomicity the code relies on
holds in both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from lutea.config import get_settings
from lutea.snapstart import on_snapshot

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.collection import Collection
    from pymongo.database import Database

    # The stand-in serves pymongo's API (mongomock mirrors it, the lock wraps each call): the
    # type checker reads its database and collections as pymongo's, so the repositories are
    # checked against the driver that runs in production. At run time they subclass nothing.
    _CollectionBase = Collection[Any]
    _DatabaseBase = Database[Any]

    class IndexedCollection(Protocol):
        def create_index(self, keys: Any, **options: Any) -> str | None: ...

    class IndexTarget(Protocol):
        """What an index builder is handed: collections by name, and their ``create_index``
        (lutea.data.indexes hands a database whose collections report a conflict instead of
        raising it; a pymongo ``Database`` serves the same)."""

        def __getitem__(self, name: str, /) -> IndexedCollection: ...
else:
    _CollectionBase = _DatabaseBase = object

_lock = threading.RLock()
# A collection's document type is its repository's (lutea.data.documents): Database[Any].
_db: Database[Any] | None = None
_db_uri: str | None = None  # the URI _db was opened with: a rotated one (re-read) reconnects
# One Lambda container serves one request at a time: two connections per server are enough
# (README "Connections" has the arithmetic against the cluster's limit).
MAX_POOL_SIZE = 2
_index_builders: list[Callable[[IndexTarget], None]] = []


class _LockedCursor:
    """Wraps a mongomock cursor: chaining is cheap, evaluation happens under the lock."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._cursor, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with _lock:
                result = attr(*args, **kwargs)
            return _LockedCursor(result) if result is self._cursor else result

        return call

    def __iter__(self) -> Iterator[dict]:
        with _lock:
            docs = list(self._cursor)
        return iter(docs)

    def __next__(self) -> dict:
        with _lock:
            return next(self._cursor)


class _LockedCollection(_CollectionBase):
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    @property
    def name(self) -> str:
        name: str = self._collection.name
        return name

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with _lock:
                result = attr(*args, **kwargs)
                if name in ("find", "aggregate"):
                    # mongomock evaluates lazily: materialise while we hold the lock.
                    return _LockedCursor(result) if name == "find" else iter(list(result))
                return result

        return call


class _LockedDatabase(_DatabaseBase):
    def __init__(self, database: Any) -> None:
        self._database = database
        self._collections: dict[str, _LockedCollection] = {}

    def __getitem__(self, name: str) -> _LockedCollection:
        with _lock:
            if name not in self._collections:
                self._collections[name] = _LockedCollection(self._database[name])
            return self._collections[name]

    __getattr__ = __getitem__

    def list_collection_names(self, *args: Any, **kwargs: Any) -> list[str]:
        with _lock:
            names: list[str] = self._database.list_collection_names(*args, **kwargs)
        return names

    # mongomock answers None where a server answers its reply (nothing here reads either).
    def drop_collection(self, name: str) -> None:  # type: ignore[override]
        with _lock:
            self._database.drop_collection(name)


# Bounds on a real server (milliseconds). ``timeoutMS`` bounds a whole operation: pymongo
# retries a retryable read or write (server selection included) until it expires, so an
# unreachable database answers 503 after about four seconds, and an operation caught by an
# election is retried on the new primary within the same four seconds.
SERVER_SELECTION_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_MS = 2000
OPERATION_TIMEOUT_MS = 4000
# What a client should wait before trying again after an outage (an election takes ~12 s).
RETRY_AFTER_SECONDS = 5

_client: MongoClient[dict[str, Any]] | None = None


def client_options() -> dict[str, Any]:
    """The options of the real client; given in code, they override the URI's."""
    return {
        "tz_aware": True,
        "w": "majority",
        "readPreference": "primary",
        "retryWrites": True,
        "retryReads": True,
        "timeoutMS": OPERATION_TIMEOUT_MS,
        "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
        "connectTimeoutMS": CONNECT_TIMEOUT_MS,
        "maxPoolSize": MAX_POOL_SIZE,
    }


def _connect() -> Database[Any]:
    global _client
    settings = get_settings()
    if settings.mongodb_uri:
        import pymongo

        _client = pymongo.MongoClient(settings.mongodb_uri, appname=settings.service_name, **client_options())
        return _client[settings.mongodb_db]
    import mongomock

    return _LockedDatabase(mongomock.MongoClient(tz_aware=True)[settings.mongodb_db])


def register_indexes(builder: Callable[[IndexTarget], None]) -> Callable[[IndexTarget], None]:
    """Repositories register their index definitions; ``make migrate`` (lutea.data.indexes)
    creates them, never a request."""
    _index_builders.append(builder)
    return builder


def _rotated(uri: str | None) -> bool:
    # Only a real server's URI replaced by another (a rotated password) reopens the client.
    return bool(uri and _db_uri and uri != _db_uri)


def index_builders() -> list[Callable[[IndexTarget], None]]:
    return list(_index_builders)


def get_db() -> Database[Any]:
    global _db, _db_uri
    uri = get_settings().mongodb_uri
    if _db is None or _rotated(uri):
        with _lock:
            if _db is None or _rotated(uri):
                old = _client
                _db, _db_uri = _connect(), uri
                if old is not None and old is not _client:
                    old.close()
    return _db


def close_db() -> None:
    """Close the client (a real one) and forget the handle: the next ``get_db()`` connects anew
    (SnapStart: no connection may outlive the snapshot)."""
    global _db, _db_uri, _client
    with _lock:
        client, _db, _db_uri, _client = _client, None, None, None
    if client is not None:
        client.close()


def _reconnect_after_restore() -> None:
    # A new client, connecting in the background (else the first request connects, and
    # reports); the database being down must not fail the restore.
    with suppress(Exception):
        get_db()


on_snapshot(before=close_db, after=_reconnect_after_restore)


def connect_at_init() -> None:
    """Create the client during the function's init when a real database is configured (the
    client connects in the background; nothing waits for the server here). May raise (e.g. a
    DNS error on a ``mongodb+srv`` URI): the caller logs it, and the first request tries again."""
    if get_settings().mongodb_uri:
        get_db()


def is_unavailable(exc: BaseException) -> bool:
    """True for the errors of a database that is down, unreachable, failing over or too slow:
    connection failures, server-selection and network timeouts, ``timeoutMS`` expiring, a
    write concern not satisfied, a client that could not be configured (SRV lookup)."""
    from pymongo import errors

    if isinstance(exc, errors.ConnectionFailure | errors.WriteConcernError | errors.ExecutionTimeout):
        return True
    if isinstance(exc, errors.ConfigurationError) and "DNS" in str(exc):
        return True
    return isinstance(exc, errors.PyMongoError) and bool(getattr(exc, "timeout", False))


def reset_db() -> None:
    """Drop the cached handle and close the real client (tests switch databases between runs)."""
    close_db()


def half_open_range(start: Any, end: Any) -> dict[str, Any] | None:
    """The filter of a value in ``[start, end)`` (either bound may be None); None with neither."""
    bounds = {op: value for op, value in (("$gte", start), ("$lt", end)) if value is not None}
    return bounds or None


def equalities(precondition: dict[str, Any]) -> dict[str, Any]:
    """A transition's precondition as the domain states it: field equalities only (the state
    it leaves). Any other condition (a comparison, a membership, a negation) is a named method
    of the repository, which owns every query."""
    for field, value in precondition.items():
        if field.startswith("$") or (isinstance(value, dict) and any(str(k).startswith("$") for k in value)):
            raise ValueError(f"precondition on {field!r} is not an equality: name the condition in the repository")
    return precondition
