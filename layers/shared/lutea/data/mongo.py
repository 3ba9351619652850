"""The MongoDB database handle, created once per container and reused across invocations.

With ``MONGODB_URI`` set it is a real pymongo client with bounded timeouts. Without it, an
in-process stand-in (mongomock) shared by every function of the process. mongomock is not
thread-safe (concurrent ``find_one_and_update`` calls oversell a counter), while MongoDB makes
every single-document operation atomic: the stand-in therefore serialises every operation on
one process-wide lock, so that the atomicity the code relies on holds in both.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from lutea.config import get_settings

_lock = threading.RLock()
_db: Any = None
_db_uri: str | None = None  # the URI _db was opened with: a rotated one (re-read) reconnects
# One Lambda container serves one request at a time: two connections per server are enough
# (README "Connections" has the arithmetic against the cluster's limit).
MAX_POOL_SIZE = 2
_index_builders: list[Callable[[Any], None]] = []


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


class _LockedCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    @property
    def name(self) -> str:
        return self._collection.name

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


class _LockedDatabase:
    def __init__(self, database: Any) -> None:
        self._database = database
        self._collections: dict[str, _LockedCollection] = {}

    def __getitem__(self, name: str) -> _LockedCollection:
        with _lock:
            if name not in self._collections:
                self._collections[name] = _LockedCollection(self._database[name])
            return self._collections[name]

    __getattr__ = __getitem__

    def list_collection_names(self) -> list[str]:
        with _lock:
            return self._database.list_collection_names()

    def drop_collection(self, name: str) -> None:
        with _lock:
            self._database.drop_collection(name)


def _connect() -> Any:
    settings = get_settings()
    if settings.mongodb_uri:
        import pymongo

        client: Any = pymongo.MongoClient(
            settings.mongodb_uri,
            tz_aware=True,
            serverSelectionTimeoutMS=3000,
            connectTimeoutMS=3000,
            socketTimeoutMS=10000,
            maxPoolSize=MAX_POOL_SIZE,
            appname=settings.service_name,
        )
        return client[settings.mongodb_db]
    import mongomock

    return _LockedDatabase(mongomock.MongoClient(tz_aware=True)[settings.mongodb_db])


def register_indexes(builder: Callable[[Any], None]) -> Callable[[Any], None]:
    """Repositories register their index definitions; they are created once per container."""
    _index_builders.append(builder)
    if _db is not None:
        builder(_db)
    return builder


def _rotated(uri: str | None) -> bool:
    # Only a real server's URI replaced by another (a rotated password) reopens the client.
    return bool(uri and _db_uri and uri != _db_uri)


def get_db() -> Any:
    global _db, _db_uri
    uri = get_settings().mongodb_uri
    if _db is None or _rotated(uri):
        with _lock:
            if _db is None or _rotated(uri):
                old = _db
                db = _connect()
                for builder in _index_builders:
                    builder(db)
                _db, _db_uri = db, uri
                if old is not None and hasattr(getattr(old, "client", None), "close"):
                    old.client.close()
    return _db


def close_db() -> None:
    """Close the client (a real one) and forget the handle: the next ``get_db()`` connects anew
    (SnapStart: no connection may outlive the snapshot)."""
    global _db
    with _lock:
        db, _db = _db, None
    if db is not None and not isinstance(db, _LockedDatabase):
        db.client.close()


def reset_db() -> None:
    """Drop the cached handle (tests switch databases between runs)."""
    global _db, _db_uri
    with _lock:
        _db, _db_uri = None, None
