"""Apply the analytics SQL migrations of infra/sql to the configured database and record them.

    python -m infra.migrate            # MySQL when MYSQL_HOST is set, else the SQLite file
    python -m infra.migrate --status   # list versions, applied or pending

The same runner (lutea.data.sql.apply_migrations) runs at the first connection of every
container, so this command is for deployments that migrate ahead of traffic, and for a look.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from lutea.data import sql  # noqa: E402
from lutea.errors import Unavailable  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--status", action="store_true", help="list versions without applying anything")
    parser.add_argument("--dir", type=Path, default=sql.MIGRATION_DIRS[0], help="migration files (infra/sql, in the layer)")
    args = parser.parse_args(argv)

    db = sql.connect()
    where = "MySQL" if db.dialect == "mysql" else f"SQLite {db.target[1]}"
    try:
        if args.status:
            applied = sql.applied_versions(db)
            for migration in sql.migrations_for(db.dialect, args.dir):
                state = "applied" if migration.version in applied else "pending"
                print(f"{migration.version:40} {state:8} {migration.path.name}")
            return 0
        done = sql.apply_migrations(db, args.dir)
    except Unavailable as exc:
        print(f"{where}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"{where}: " + (f"applied {', '.join(done)}" if done else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
