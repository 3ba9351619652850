"""The analytics SQL database: MySQL/MariaDB through pymysql when ``MYSQL_HOST`` is set, else
SQLite at ``ANALYTICS_SQLITE_PATH``. One connection per container, reused across invocations.

Queries are written once, with ``?`` placeholders, and run on both: the MySQL side converts
them to pymysql's ``%s`` here and nowhere else. Parameters are always bound, never formatted.
Datetimes are stored as naive UTC with whole seconds (MySQL ``DATETIME``; SQLite text), and read
back as aware UTC with ``as_datetime``.

Availability: every network wait is bounded (connect, read and write timeouts: a server that
accepts and never answers fails in ``READ_TIMEOUT`` seconds, not minutes); an idle MySQL
connection is pinged before use; any connection failure becomes ``lutea.errors.Unavailable``
(503) and the next call reconnects. Only the analytics code imports this module.

Schema: the versioned files of ``infra/sql`` (``NNN_name.sql``, or per dialect
``NNN_name.mysql.sql`` / ``NNN_name.sqlite.sql``) are applied at the first connection of a
container when some are pending (one cheap query otherwise), and by ``python -m infra.migrate``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lutea.clock import as_utc, now
from lutea.config import Settings, get_settings
from lutea.errors import InvalidInput, Unavailable

CONNECT_TIMEOUT = 2  # seconds; with READ_TIMEOUT, an outage answers 503 well within 3 s
READ_TIMEOUT = 2
WRITE_TIMEOUT = 2
PING_AFTER_IDLE = 30.0  # seconds without use before a MySQL connection is pinged
MIGRATION_LOCK = "lutea_analytics_migrations"
UNAVAILABLE_MESSAGE = "Service d'analytics temporairement indisponible"

# The migration files live in the layer, so every deployment ships them (infra/sql links here).
MIGRATION_DIRS = (Path(__file__).resolve().parent / "migrations",)
_MIGRATION_NAME = re.compile(r"^(\d{3,}_[A-Za-z0-9_]+?)(?:\.(mysql|sqlite))?\.sql$")
_DB_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class Result(NamedTuple):
    rowcount: int
    lastrowid: int | None


@lru_cache(maxsize=256)
def _to_pyformat(sql: str) -> str:
    """``?`` placeholders -> pymysql's ``%s`` (a literal ``%`` doubled). Queries keep ``?`` out
    of string literals: values are always parameters."""
    return sql.replace("%", "%%").replace("?", "%s")


def to_db_datetime(value: datetime) -> datetime:
    """Naive UTC, whole seconds: what both backends store identically."""
    return as_utc(value).replace(tzinfo=None, microsecond=0)


def as_datetime(value: Any) -> datetime | None:
    """A stored datetime (a ``datetime`` from pymysql, text from SQLite) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


class SqlDatabase:
    """A connection to one database, reopened on demand; every call is serialised."""

    dialect: str = ""

    def __init__(self, target: tuple[Any, ...]) -> None:
        self.target = target
        self._conn: Any = None
        self._lock = threading.RLock()
        self._depth = 0  # transaction nesting
        self._last_used = 0.0
        self.migrated = False

    # --- backend specifics -------------------------------------------------------------
    def _open(self) -> Any:
        raise NotImplementedError

    def _is_outage(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        raise NotImplementedError

    def _rows(self, cursor: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _begin(self, conn: Any) -> None:
        raise NotImplementedError

    def _before_use(self, conn: Any) -> None:
        """Hook run before a statement outside a transaction (MySQL: ping when idle)."""

    def adapt(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return to_db_datetime(value)
        return value

    def is_duplicate_key(self, exc: BaseException) -> bool:
        """True when ``exc`` is a primary/unique key violation."""
        raise NotImplementedError

    # --- common ----------------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._open()
            self._last_used = time.monotonic()
        return self._conn

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._depth = 0
            if conn is not None:
                with suppress(Exception):  # closing a broken connection may fail; it is gone anyway
                    conn.close()

    @contextmanager
    def _guard(self) -> Iterator[Any]:
        """Run under the lock; an outage closes the connection and becomes ``Unavailable``."""
        with self._lock:
            try:
                conn = self._connection()
                if self._depth == 0:
                    self._before_use(conn)
                yield conn
                self._last_used = time.monotonic()
            except UnicodeEncodeError as exc:  # e.g. a lone surrogate in a string: the input is at fault
                raise InvalidInput("Données invalides") from exc
            except Exception as exc:
                if self._is_outage(exc):
                    from lutea.observability import logger

                    logger.error(
                        "analytics database unavailable",
                        extra={"dialect": self.dialect, "error": type(exc).__name__, "code": exc.args[0] if exc.args else None},
                    )
                    self.close()
                    raise Unavailable(UNAVAILABLE_MESSAGE) from exc
                raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        with self._guard() as conn:
            cursor = self._run(conn, sql, [self.adapt(p) for p in params])
            try:
                return Result(cursor.rowcount, cursor.lastrowid)
            finally:
                cursor.close()

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._guard() as conn:
            cursor = self._run(conn, sql, [self.adapt(p) for p in params])
            try:
                return self._rows(cursor)
            finally:
                cursor.close()

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    @contextmanager
    def transaction(self) -> Iterator[SqlDatabase]:
        """All statements inside commit together or not at all (nested blocks join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            with self._guard() as conn:
                self._begin(conn)
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                if self._conn is not None:
                    try:
                        self._conn.rollback()
                    except Exception:  # noqa: BLE001 - the connection broke: the server rolls back
                        self.close()
                raise
            self._depth = 0
            with self._guard() as conn:
                conn.commit()


def mysql_options(s: Settings, database: str | None) -> dict[str, Any]:
    """pymysql's connection arguments. With ``mysql_tls``, TLS is required (a server that offers
    none is refused before the password is sent, not silently spoken to in clear) and verified:
    the certificate against the CA bundle, and the host name."""
    import pymysql.cursors

    options: dict[str, Any] = {
        "host": s.mysql_host,
        "port": s.mysql_port,
        "user": s.mysql_user,
        "password": s.mysql_password,
        "database": database,
        "charset": "utf8mb4",
        "autocommit": True,
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "write_timeout": WRITE_TIMEOUT,
        "cursorclass": pymysql.cursors.DictCursor,
        "init_command": "SET time_zone = '+00:00'",
    }
    if s.mysql_tls:
        options.update(ssl_ca=s.mysql_tls_ca or _system_ca_bundle(), ssl_verify_cert=True, ssl_verify_identity=True)
    return options


def _system_ca_bundle() -> str:
    """The CA bundle OpenSSL uses: the Lambda runtime has one, and RDS Proxy presents an Amazon
    certificate that it verifies."""
    import os
    import ssl

    cafile = ssl.get_default_verify_paths().cafile
    if not cafile or not os.path.exists(cafile):
        raise RuntimeError("MYSQL_TLS=verify needs a CA bundle: none found on this system, set MYSQL_TLS_CA")
    return cafile


class MySqlDatabase(SqlDatabase):
    dialect = "mysql"

    def __init__(self, settings: Settings) -> None:
        super().__init__(_target(settings))
        self.settings = settings

    def _connect(self, database: str | None) -> Any:
        import pymysql

        return pymysql.connect(**mysql_options(self.settings, database))

    def _open(self) -> Any:
        import pymysql

        name = self.settings.mysql_database
        if not _DB_NAME.match(name):
            raise RuntimeError("MYSQL_DATABASE must be letters, digits and underscores")
        try:
            return self._connect(name)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] == 1045:  # access denied: a rotated password?
                from lutea.config import refresh_secrets

                refresh_secrets()
            if exc.args[0] != 1049:  # unknown database: create it (first run)
                raise
        conn = self._connect(None)
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.select_db(name)
        return conn

    def _is_outage(self, exc: BaseException) -> bool:
        import pymysql

        return isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError | OSError)

    def is_duplicate_key(self, exc: BaseException) -> bool:
        import pymysql

        return isinstance(exc, pymysql.err.IntegrityError) and bool(exc.args) and exc.args[0] == 1062

    def _before_use(self, conn: Any) -> None:
        if time.monotonic() - self._last_used > PING_AFTER_IDLE:
            conn.ping(reconnect=True)

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        cursor = conn.cursor()
        try:
            cursor.execute(_to_pyformat(sql), tuple(params))
        except BaseException:
            cursor.close()
            raise
        return cursor

    def _rows(self, cursor: Any) -> list[dict[str, Any]]:
        return list(cursor.fetchall())

    def _begin(self, conn: Any) -> None:
        conn.begin()

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        """Server-wide: two containers starting together migrate one after the other."""
        if not self.scalar("SELECT GET_LOCK(?, ?) AS got", (MIGRATION_LOCK, CONNECT_TIMEOUT)):
            raise Unavailable(UNAVAILABLE_MESSAGE)
        try:
            yield
        finally:
            self.execute("SELECT RELEASE_LOCK(?)", (MIGRATION_LOCK,))


class SqliteDatabase(SqlDatabase):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        super().__init__(("sqlite", path))
        self.path = path

    def _open(self) -> Any:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=CONNECT_TIMEOUT, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _is_outage(self, exc: BaseException) -> bool:
        # "database is locked", "unable to open database file", disk I/O errors
        return isinstance(exc, sqlite3.OperationalError) and "no such" not in str(exc)

    def is_duplicate_key(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def adapt(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return to_db_datetime(value).isoformat(sep=" ")
        if isinstance(value, bool):
            return int(value)
        return value

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        return conn.execute(sql, tuple(params))

    def _rows(self, cursor: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in cursor.fetchall()]

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")

    @contextmanager
    def migration_lock(self) -> Iterator[None]:
        yield  # the migration runs in one IMMEDIATE transaction: SQLite serialises writers


# --- the per-container connection -------------------------------------------------------

_lock = threading.Lock()
_db: SqlDatabase | None = None


def _target(settings: Settings) -> tuple[Any, ...]:
    if settings.mysql_host:
        return ("mysql", settings.mysql_host, settings.mysql_port, settings.mysql_user, settings.mysql_database)
    return ("sqlite", settings.sqlite_path)


def connect(settings: Settings | None = None) -> SqlDatabase:
    """A new (lazily opened) database handle for ``settings``, without migrations."""
    settings = settings or get_settings()
    return MySqlDatabase(settings) if settings.mysql_host else SqliteDatabase(settings.sqlite_path)


def get_sql() -> SqlDatabase:
    """The container's analytics database, its schema up to date. Raises ``Unavailable``."""
    global _db
    settings = get_settings()
    if settings.is_production and not settings.mysql_host:
        # A Lambda's SQLite file lives in its container's /tmp: analytics would be scattered and
        # lost. Production answers 503 until MYSQL_HOST (MysqlHost) is configured.
        raise Unavailable(UNAVAILABLE_MESSAGE)
    with _lock:
        # A new password (rotated, re-read) means a new connection too.
        if (
            _db is None
            or _db.target != _target(settings)
            or getattr(getattr(_db, "settings", None), "mysql_password", settings.mysql_password) != settings.mysql_password
        ):
            if _db is not None:
                _db.close()
            _db = connect(settings)
        db = _db
    if not db.migrated:
        apply_migrations(db)
        db.migrated = True
    return db


def reset_sql() -> None:
    """Close and forget the container's connection (tests, configuration changes)."""
    global _db
    with _lock:
        if _db is not None:
            _db.close()
        _db = None


# --- migrations ----------------------------------------------------------------------------


class Migration(NamedTuple):
    version: str
    path: Path


def migrations_dir() -> Path:
    for candidate in MIGRATION_DIRS:
        if candidate.is_dir() and any(candidate.glob("*.sql")):
            return candidate
    raise RuntimeError("no analytics migrations found (infra/sql)")


def migrations_for(dialect: str, directory: Path | None = None) -> list[Migration]:
    """Each version once: its ``.<dialect>.sql`` file if there is one, else its plain ``.sql``."""
    chosen: dict[str, tuple[int, Path]] = {}
    for path in sorted((directory or migrations_dir()).glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            continue
        version, variant = match.groups()
        if variant not in (None, dialect):
            continue
        rank = 1 if variant == dialect else 0
        if version not in chosen or rank > chosen[version][0]:
            chosen[version] = (rank, path)
    return [Migration(v, p) for v, (_, p) in sorted(chosen.items())]


def split_statements(script: str) -> list[str]:
    """A migration file as statements: ``;`` ends one, except inside quotes; ``--`` comments dropped."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(script):
        ch = script[i]
        if quote:
            current.append(ch)
            if ch == quote:
                if script[i + 1 : i + 2] == quote:  # doubled quote inside a literal
                    current.append(script[i + 1])
                    i += 1
                else:
                    quote = None
        elif ch in ("'", '"', "`"):
            quote = ch
            current.append(ch)
        elif ch == "-" and script[i + 1 : i + 2] == "-":
            while i < len(script) and script[i] != "\n":
                i += 1
            continue
        elif ch == ";":
            statement = "".join(current).strip()
            if statement:
                statements.append(statement)
            current = []
        else:
            current.append(ch)
        i += 1
    tail = "".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


_VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(100) NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL)"
)


def applied_versions(db: SqlDatabase) -> set[str]:
    db.execute(_VERSIONS_TABLE)
    return {row["version"] for row in db.fetch_all("SELECT version FROM schema_migrations")}


def apply_migrations(db: SqlDatabase, directory: Path | None = None) -> list[str]:
    """Apply the pending migrations in order, recording each version. Returns those applied.
    On MySQL, DDL commits implicitly: a file that fails half-way is reported and not recorded
    (the files use IF NOT EXISTS / INSERT IGNORE so that a rerun completes it)."""
    pending = [m for m in migrations_for(db.dialect, directory) if m.version not in applied_versions(db)]
    if not pending:
        return []
    from lutea.observability import logger

    applied: list[str] = []
    # The transaction is atomic on SQLite; on MySQL (DDL commits implicitly) it only groups the version rows.
    with db.migration_lock(), db.transaction():  # type: ignore[attr-defined]
        done = applied_versions(db)
        for migration in pending:
            if migration.version in done:
                continue
            for statement in split_statements(migration.path.read_text(encoding="utf-8")):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (migration.version, now()))
            applied.append(migration.version)
    if applied:
        logger.info("analytics migrations applied", extra={"dialect": db.dialect, "versions": applied})
    return applied
