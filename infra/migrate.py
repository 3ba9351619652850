"""Apply the migrations ahead of traffic: the analytics SQL files of infra/sql, then the
MongoDB indexes (lutea.data.indexes, versioned).

    python -m infra.migrate            # both: MySQL (MYSQL_HOST) or the SQLite file, and MONGODB_URI
    python -m infra.migrate --status   # list SQL versions and the applied index version
    python -m infra.migrate --only mongo|sql

The SQL runner (lutea.data.sql.apply_migrations) also runs at the first connection of every
container. The MongoDB indexes run only here (before each deploy, against the stage's
database), in the test rig and in ``make dev``: never on a request. An index conflict (same
name or keys with other options, duplicates under a new unique index) is printed with its
collection and MongoDB's message, and the command exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo.database import Database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from lutea.data import sql  # noqa: E402
from lutea.errors import Unavailable  # noqa: E402


def migrate_mongo(status: bool, db: Database[Any] | None = None) -> int:
    from lutea.config import get_settings
    from lutea.data import indexes
    from lutea.data.mongo import get_db, is_unavailable

    if db is None:
        if not get_settings().mongodb_uri:
            print("MongoDB: no MONGODB_URI (the in-process stand-in gets its indexes at start)")
            return 0
        db = get_db()
    try:
        if status:
            print(f"MongoDB indexes: version {indexes.applied_version(db)} applied, {indexes.VERSION} declared")
            return 0
        report = indexes.migrate_indexes(db)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        print(f"MongoDB: unreachable ({type(exc).__name__})", file=sys.stderr)
        return 2
    for name in report.dropped:
        print(f"MongoDB: dropped unused index {name}")
    for conflict in report.conflicts:
        print(f"MongoDB: index conflict: {conflict}", file=sys.stderr)
    if not report.ok:
        print(f"MongoDB: {len(report.conflicts)} index conflict(s); version {indexes.VERSION} not recorded", file=sys.stderr)
        return 1
    print(f"MongoDB: indexes at version {report.version} ({len(report.created)} checked)")
    return 0


def migrate_sql(status: bool, directory: Path) -> int:
    db = sql.connect()
    where = "MySQL" if db.dialect == "mysql" else f"SQLite {db.target[1]}"
    try:
        if status:
            applied = sql.applied_versions(db)
            for migration in sql.migrations_for(db.dialect, directory):
                state = "applied" if migration.version in applied else "pending"
                print(f"{migration.version:40} {state:8} {migration.path.name}")
            return 0
        done = sql.apply_migrations(db, directory)
    except Unavailable as exc:
        print(f"{where}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"{where}: " + (f"applied {', '.join(done)}" if done else "up to date"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--status", action="store_true", help="list versions without applying anything")
    parser.add_argument("--dir", type=Path, default=sql.MIGRATION_DIRS[0], help="migration files (infra/sql, in the layer)")
    parser.add_argument("--only", choices=("sql", "mongo"), help="one of the two databases")
    args = parser.parse_args(argv)

    codes = []
    if args.only in (None, "sql"):
        codes.append(migrate_sql(args.status, args.dir))
    if args.only in (None, "mongo"):
        codes.append(migrate_mongo(args.status))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
