"""Import the original backend's MongoDB data (``mongoexport`` files) into this project's collections.

    python -m infra.import_original --users users.json --retreats retreats.json \\
        --bookings bookings.json [--dry-run]

Each option is optional (bookings are matched against the retreats of the export, else those
already imported). Files: one Extended-JSON document per line, or a JSON array
(``mongoexport --jsonArray``). The database is the one of ``MONGODB_URI`` / ``MONGODB_DB``.

How the documents change on the way: infra/import_mapping.py. Here:

- every document is written whole by ONE upsert by ``_id``, so nothing is ever half-written and
  a second run finds everything in place (counted as unchanged);
- a document changed in this system since it was imported (its ``updatedAt`` is later than the
  export's: a password upgraded at sign-in, a booking paid or expired, a retreat edited) is
  left as it is and counted as ``kept``: re-running the import never undoes live changes;
- seat counters are recomputed from the bookings stored once the bookings are written: the
  places of the stored block, the seats of its bookings holding seats;
- ``--dry-run`` reads the database (to match bookings to retreats already imported) but
  writes nothing.

Run it before opening the new API to traffic: counters are recomputed, not adjusted.
Exit status: 0 all imported, 1 some documents skipped, 2 a file or the database could not be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers" / "shared"))

from bson import ObjectId  # noqa: E402
from lutea.clock import now  # noqa: E402
from lutea.config import get_settings  # noqa: E402
from lutea.data import bookings as booking_data  # noqa: E402
from lutea.data import retreats as retreat_data  # noqa: E402
from lutea.data import seats as seat_data  # noqa: E402
from lutea.data import users as user_data  # noqa: E402  (registers the unique email index)
from lutea.data.mongo import get_db  # noqa: E402
from lutea.observability import logger  # noqa: E402
from pymongo.errors import DuplicateKeyError, PyMongoError  # noqa: E402

from infra import import_mapping as migration  # noqa: E402

INSERTED, UPDATED, UNCHANGED, KEPT, CONFLICT = "inserted", "updated", "unchanged", "kept", "conflict"
OUTCOMES = (INSERTED, UPDATED, UNCHANGED, KEPT, CONFLICT)
TARGETS = {
    migration.USERS: user_data.USERS,
    migration.RETREATS: retreat_data.COLLECTION,
    migration.BOOKINGS: booking_data.COLLECTION,
}


@dataclass
class ImportReport:
    plan: migration.ImportPlan
    dry_run: bool
    # collection -> outcome -> count (empty on a dry run)
    written: dict[str, dict[str, int]] = field(default_factory=dict)
    conflicts: list[migration.Problem] = field(default_factory=list)
    # the seat counters as written: dateId -> {places, held}
    counters: dict[ObjectId, dict[str, int]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return len(self.plan.problems) + len(self.conflicts)


class FileUnusable(Exception):
    pass


def read_export(path: Path | None, collection: str) -> tuple[list[dict], list[migration.Problem]]:
    """The documents of one export file and the lines that could not be read."""
    if path is None:
        return [], []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileUnusable(f"{collection}: cannot read {path} ({type(exc).__name__})") from exc
    docs, problems = migration.load_export(text, collection)
    if any(p.where == "file" for p in problems):
        raise FileUnusable(f"{collection}: {path} is neither one document per line nor a JSON array")
    return docs, problems


# --- Writing ---------------------------------------------------------------------------------


def upsert(col: Any, doc: Mapping[str, Any]) -> str:
    """Write ``doc`` whole unless the stored one is newer (changed here since the import).

    One replace by ``_id`` whose filter also requires the stored ``updatedAt`` to be no later
    than the export's: when the stored one is newer the filter fails, the upsert tries to insert
    an existing ``_id`` and the server refuses it. A refusal for an older document is another
    unique key (an email taken by another account of this system)."""
    query = {"_id": doc["_id"], "$or": [{"updatedAt": {"$lte": doc["updatedAt"]}}, {"updatedAt": None}]}
    try:
        result = col.replace_one(query, doc, upsert=True)
    except DuplicateKeyError:
        stored = col.find_one({"_id": doc["_id"]}, {"updatedAt": 1})
        if stored is not None and stored.get("updatedAt") is not None:
            return KEPT
        return CONFLICT
    if result.upserted_id is not None:
        return INSERTED
    return UPDATED if result.modified_count else UNCHANGED


def _write(db: Any, report: ImportReport, collection: str, docs: Sequence[Mapping[str, Any]]) -> None:
    col = db[TARGETS[collection]]
    counts = dict.fromkeys(OUTCOMES, 0)
    for doc in docs:
        outcome = upsert(col, doc)
        counts[outcome] += 1
        if outcome == CONFLICT:
            reason = (
                "email already used by another account here"
                if collection == migration.USERS
                else "a unique key is already used by another document here"
            )
            report.conflicts.append(migration.Problem(collection, str(doc["_id"]), reason))
            logger.warning("import conflict", extra={"collection": collection, "id": str(doc["_id"])})
        elif outcome == KEPT:
            logger.info("newer document kept", extra={"collection": collection, "id": str(doc["_id"])})
    report.written[collection] = counts


def _recount_seats(db: Any, report: ImportReport) -> None:
    """Counters of every block of the retreats touched (the imported ones and those of the
    imported bookings), from the documents as stored now."""
    plan = report.plan
    retreat_ids = list(dict.fromkeys([r["_id"] for r in plan.retreats] + [b["retreatId"] for b in plan.bookings]))
    bookings = db[booking_data.COLLECTION]
    counters = db[seat_data.COLLECTION]
    for retreat_id in retreat_ids:
        retreat = db[retreat_data.COLLECTION].find_one({"_id": retreat_id}, {"dates": 1})
        for block in (retreat or {}).get("dates") or []:
            if block.get("_id") is None or block.get("places") is None:
                continue
            held = sum(
                int(b.get("nbPlaces") or 0) for b in bookings.find({"dateId": block["_id"], "seatsHeld": True}, {"nbPlaces": 1})
            )
            places = int(block["places"])
            counters.update_one(
                {"_id": block["_id"]},
                {"$set": {"retreatId": retreat_id, "places": places, "held": held}, "$setOnInsert": {"createdAt": now()}},
                upsert=True,
            )
            report.counters[block["_id"]] = {"places": places, "held": held}


def run_import(
    users: Path | None = None,
    retreats: Path | None = None,
    bookings: Path | None = None,
    *,
    dry_run: bool = False,
    db: Any = None,
) -> ImportReport:
    """Read, map, and (unless ``dry_run``) write. Raises ``FileUnusable`` before anything is
    written when a file cannot be read at all."""
    exports, unreadable = {}, []
    for name, path in ((migration.USERS, users), (migration.RETREATS, retreats), (migration.BOOKINGS, bookings)):
        exports[name], problems = read_export(path, name)
        unreadable.extend(problems)
    db = db if db is not None else get_db()
    retreat_col = db[retreat_data.COLLECTION]
    plan = migration.plan_import(
        exports[migration.USERS],
        exports[migration.RETREATS],
        exports[migration.BOOKINGS],
        stored_retreat=lambda rid: retreat_col.find_one({"_id": rid}),
    )
    plan.problems[:0] = unreadable
    for problem in unreadable:
        plan.read[problem.collection] += 1  # a line that did not parse was read too
    report = ImportReport(plan=plan, dry_run=dry_run)
    _log_plan(plan)
    if dry_run:
        report.counters = {c["_id"]: {"places": c["places"], "held": c["held"]} for c in plan.counters}
        return report
    _write(db, report, migration.USERS, plan.users)
    _write(db, report, migration.RETREATS, plan.retreats)
    _write(db, report, migration.BOOKINGS, plan.bookings)
    _recount_seats(db, report)
    return report


def _log_plan(plan: migration.ImportPlan) -> None:
    """Structured logs carry ids only: never an address (collisions included)."""
    for problem in plan.problems:
        logger.warning(
            "document skipped", extra={"collection": problem.collection, "where": problem.where, "reason": problem.reason}
        )
    for collision in plan.collisions:
        logger.warning(
            "email collision", extra={"keptId": str(collision.kept), "droppedIds": [str(i) for i in collision.dropped]}
        )
    for item in plan.unmatched:
        logger.warning(
            "booking date matches no block", extra={"bookingId": str(item.booking_id), "retreatId": str(item.retreat_id)}
        )


# --- The summary -----------------------------------------------------------------------------


def print_summary(report: ImportReport, out: TextIO) -> None:
    plan = report.plan
    say = out.write
    say("Import from the original" + (" — DRY RUN, nothing written\n" if report.dry_run else "\n"))
    for collection, docs in (
        (migration.USERS, plan.users),
        (migration.RETREATS, plan.retreats),
        (migration.BOOKINGS, plan.bookings),
    ):
        line = f"  {collection:9} read {plan.read[collection]}, valid {len(docs)}, skipped {plan.skipped(collection)}"
        if collection == migration.USERS:
            line += f", merged by email collision {sum(len(c.dropped) for c in plan.collisions)}"
        if collection == migration.BOOKINGS:
            line += f", unmatched dates {len(plan.unmatched)}"
        if collection in report.written:
            line += " | " + ", ".join(f"{k} {v}" for k, v in report.written[collection].items())
        say(line + "\n")
    held = sum(c["held"] for c in report.counters.values())
    say(f"  seat counters {len(report.counters)} date blocks, {held} seats held\n")
    if plan.collisions:
        say("Email collisions (the addresses are printed on this terminal only, never logged):\n")
        for c in plan.collisions:
            say(f"  {c.email}: kept {c.kept}, merged {', '.join(str(i) for i in c.dropped)}\n")
    if plan.unmatched:
        say("Bookings whose date matches no block (imported without seats):\n")
        for item in plan.unmatched:
            say(f"  {migration.describe_unmatched(item)}\n")
    if plan.problems or report.conflicts:
        say("Skipped documents:\n")
        for p in [*plan.problems, *report.conflicts]:
            say(f"  {p.collection} {p.where}: {p.reason}\n")
    if plan.notes:
        say("Notes:\n")
        for note in plan.notes:
            say(f"  {note}\n")


def main(argv: list[str] | None = None, out: TextIO | None = None, db: Any = None) -> int:
    """``db``: the database to use (tests); by default that of ``MONGODB_URI``, required to
    write (without it the layer falls back to an in-process stand-in that vanishes on exit)."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m infra.import_original", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=Path, help="mongoexport of the original's users collection")
    parser.add_argument("--retreats", type=Path, help="mongoexport of the original's retreats collection")
    parser.add_argument("--bookings", type=Path, help="mongoexport of the original's bookings collection")
    parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    args = parser.parse_args(argv)
    if not (args.users or args.retreats or args.bookings):
        parser.error("give at least one of --users, --retreats, --bookings")
    if db is None and not get_settings().mongodb_uri and not args.dry_run:
        print("MONGODB_URI is not set: nothing would be kept (use --dry-run to only check the files)", file=sys.stderr)
        return 2
    try:
        report = run_import(args.users, args.retreats, args.bookings, dry_run=args.dry_run, db=db)
    except FileUnusable as exc:
        print(f"Nothing imported: {exc}", file=sys.stderr)
        return 2
    except PyMongoError as exc:
        print(
            f"Database error ({type(exc).__name__}); documents written so far are whole, run the import again to finish",
            file=sys.stderr,
        )
        return 2
    print_summary(report, out)
    return 1 if report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
