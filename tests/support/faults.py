"""Fault injection for the in-process MongoDB stand-in, whose one lock makes every operation
atomic but never fails, never fails over and never dies between two writes.

    with faulty_database() as db:                          # wraps the stand-in of this test
        db.fail_operation(1, errors.AutoReconnect("primary stepped down"))   # the 1st operation fails
        db.fail_write(2, errors.NetworkTimeout("timed out"), applied=True)    # the 2nd write is applied, then fails
        db.kill_after_write(3)        # the 3rd write is applied, then the function dies (``Killed``)

``Killed`` is a ``BaseException``: the application's ``except Exception`` handlers never see it,
as they would never run in a Lambda killed by its timeout, an out-of-memory or a freeze. Once
killed, every further operation raises ``Killed`` too (``finally`` and ``except BaseException``
blocks can't write after death). ``db.writes`` counts the writes of a run: run an operation once
to learn how many it makes, then walk ``kill_after_write(k)`` for every k (``crash_points``).

``pymongo_errors()`` are the real exception types a replica set raises on an outage or an
election (server selection timeout, lost connection, network timeout, not primary, write
concern failure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

WRITE_METHODS = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_delete",
        "find_one_and_replace",
        "bulk_write",
    }
)
ADMIN_METHODS = frozenset(
    {"create_index", "create_indexes", "drop_index", "drop_indexes", "index_information", "list_indexes", "drop", "name"}
)


class Killed(BaseException):
    """The function died here (timeout, out of memory, frozen): nothing after this point ran."""


def pymongo_errors() -> list[Exception]:
    """One instance of each error a MongoDB replica set raises on an outage or a failover."""
    from pymongo import errors

    return [
        errors.ServerSelectionTimeoutError("No servers found yet, Timeout: 2.0s"),
        errors.AutoReconnect("connection closed"),
        errors.NetworkTimeout("timed out"),
        errors.NotPrimaryError("not primary", {"code": 10107, "errmsg": "not primary"}),
        errors.WriteConcernError(
            "waiting for replication timed out", 64, {"code": 64, "errmsg": "waiting for replication timed out"}
        ),
    ]


class FaultyDatabase:
    """The stand-in database with a programme of failures, counted over every collection."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.operations = 0
        self.writes = 0
        self.write_log: list[tuple[str, str]] = []  # (collection, method) of each write, in order
        self.dead = False
        self._fail_ops: dict[int, Exception] = {}
        self._fail_writes: dict[int, tuple[Exception, bool]] = {}
        self._fail_named: dict[tuple[str, str], tuple[Exception, bool]] = {}
        self._kill_after: int | None = None

    # --- the programme ---------------------------------------------------------------------
    def fail_operation(self, n: int, error: Exception) -> None:
        """The ``n``-th operation (1-based, reads and writes) raises ``error`` without running."""
        self._fail_ops[self.operations + n] = error

    def fail_write(self, n: int, error: Exception, *, applied: bool = False) -> None:
        """The ``n``-th write raises ``error``; with ``applied`` the server applied it first (the
        acknowledgement was lost), as after a network error or a write concern timeout."""
        self._fail_writes[self.writes + n] = (error, applied)

    def fail_next(self, collection: str, method: str, error: Exception, *, applied: bool = False) -> None:
        """The next ``collection.method`` write raises ``error`` (after being applied, with
        ``applied``), whatever writes come before it."""
        self._fail_named[(collection, method)] = (error, applied)

    def kill_after_write(self, n: int) -> None:
        """The ``n``-th write is applied, then the function dies."""
        self._kill_after = self.writes + n

    def heal(self) -> None:
        """Forget the programme and bring the function back (the next invocation)."""
        self._fail_ops.clear()
        self._fail_writes.clear()
        self._fail_named.clear()
        self._kill_after = None
        self.dead = False

    # --- the database ------------------------------------------------------------------------
    def __getitem__(self, name: str) -> FaultyCollection:
        return FaultyCollection(self, name, self._db[name])

    __getattr__ = __getitem__

    def list_collection_names(self) -> list[str]:
        return self._db.list_collection_names()

    def drop_collection(self, name: str) -> None:
        self._db.drop_collection(name)

    def _call(self, collection: str, method: str, call: Callable[[], Any]) -> Any:
        if self.dead:
            raise Killed(f"dead before {collection}.{method}")
        if method in ADMIN_METHODS:
            return call()
        self.operations += 1
        error = self._fail_ops.pop(self.operations, None)
        if error is not None:
            raise error
        if method not in WRITE_METHODS:
            return call()
        self.writes += 1
        self.write_log.append((collection, method))
        failure = self._fail_writes.pop(self.writes, None) or self._fail_named.pop((collection, method), None)
        if failure is not None and not failure[1]:
            raise failure[0]
        result = call()
        if failure is not None:
            raise failure[0]
        if self._kill_after == self.writes:
            self.dead = True
            raise Killed(f"killed after write {self.writes} ({collection}.{method})")
        return result


class FaultyCollection:
    def __init__(self, db: FaultyDatabase, name: str, collection: Any) -> None:
        self._db = db
        self._name = name
        self._collection = collection

    @property
    def name(self) -> str:
        return self._name

    def __getattr__(self, method: str) -> Any:
        attr = getattr(self._collection, method)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._db._call(self._name, method, lambda: attr(*args, **kwargs))

        return call


@contextmanager
def faulty_database() -> Iterator[FaultyDatabase]:
    """Wrap this test's database (the cached handle every repository gets from ``get_db``)."""
    from lutea.data import mongo

    real = mongo.get_db()
    faulty = FaultyDatabase(real)
    mongo._db = faulty
    try:
        yield faulty
    finally:
        mongo._db = real


def crash_points(run: Callable[[], Any], reset: Callable[[], Any]) -> int:
    """How many writes ``run`` makes once the state is ``reset()`` (its crash points are after
    each of them)."""
    reset()
    with faulty_database() as db:
        run()
        return db.writes
