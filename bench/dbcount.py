"""Counting the database round trips of a request: the MongoDB commands it sends.

With ``MONGODB_URI`` (a real server), a pymongo command listener counts every command started
on an application connection (the handshake and the monitors' heartbeats are not command
events). On the in-process stand-in, the public methods of mongomock's Collection are wrapped,
outermost call only, and each is mapped to the one command pymongo would send for it
(``find_one`` -> find, ``find_one_and_update`` -> findAndModify, ``count_documents`` ->
aggregate, ...). A find whose answer exceeds the first batch (101 documents) costs getMore
round trips on a real server; the stand-in does not see them (the routes below stay under it).
Standard library only at import time: the cold-start child imports it."""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

# mongomock Collection method -> the command pymongo sends for it.
COMMAND_OF = {
    "find": "find",
    "find_one": "find",
    "find_raw_batches": "find",
    "find_one_and_update": "findAndModify",
    "find_one_and_replace": "findAndModify",
    "find_one_and_delete": "findAndModify",
    "update_one": "update",
    "update_many": "update",
    "replace_one": "update",
    "insert_one": "insert",
    "insert_many": "insert",
    "delete_one": "delete",
    "delete_many": "delete",
    "count_documents": "aggregate",
    "aggregate": "aggregate",
    "estimated_document_count": "count",
    "distinct": "distinct",
    "create_index": "createIndexes",
    "create_indexes": "createIndexes",
    "drop_index": "dropIndexes",
    "drop_indexes": "dropIndexes",
    "list_indexes": "listIndexes",
    "index_information": "listIndexes",
    "bulk_write": "bulkWrite",
    "drop": "drop",
    "rename": "renameCollection",
}


class CommandCounter:
    """``commands``: (command, collection) of every round trip since the last :meth:`reset`."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.commands = []

    @property
    def total(self) -> int:
        return len(self.commands)

    def count(self, command: str) -> int:
        return sum(1 for name, _ in self.commands if name == command)

    def summary(self) -> str:
        """``find retreats, findAndModify seatcounters x2, ...`` in order of first use."""
        counts = Counter(self.commands)
        seen: list[tuple[str, str]] = []
        for item in self.commands:
            if item not in seen:
                seen.append(item)
        return (
            ", ".join(f"{cmd} {col}" + (f" x{counts[(cmd, col)]}" if counts[(cmd, col)] > 1 else "") for cmd, col in seen)
            or "none"
        )

    def _add(self, command: str, collection: str) -> None:
        with self._lock:
            self.commands.append((command, collection))

    def install(self) -> CommandCounter:
        if os.environ.get("MONGODB_URI", "").strip():
            self._install_listener()
        else:
            self._install_stand_in()
        return self

    def _install_listener(self) -> None:
        import pymongo.monitoring as monitoring

        counter = self

        class _Listener(monitoring.CommandListener):
            def started(self, event: Any) -> None:
                collection = event.command.get(event.command_name)
                counter._add(event.command_name, collection if isinstance(collection, str) else "-")

            def succeeded(self, event: Any) -> None:
                pass

            def failed(self, event: Any) -> None:
                pass

        monitoring.register(_Listener())  # before any client exists: clients pick it up at creation

    def _install_stand_in(self) -> None:
        from mongomock.collection import Collection

        for name, command in COMMAND_OF.items():
            method = vars(Collection).get(name)
            if method is not None and not getattr(method, "_bench_counted", False):
                setattr(Collection, name, self._wrap(method, command))

    def _wrap(self, func: Callable[..., Any], command: str) -> Callable[..., Any]:
        local = self._local
        counter = self

        @functools.wraps(func)
        def counted(collection: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(local, "inside", False):  # mongomock calling itself: one command already
                return func(collection, *args, **kwargs)
            counter._add(command, collection.name)
            local.inside = True
            try:
                return func(collection, *args, **kwargs)
            finally:
                local.inside = False

        counted._bench_counted = True  # type: ignore[attr-defined]
        return counted
