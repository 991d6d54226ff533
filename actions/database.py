"""The database under the order store: where it is, connections, write transactions, the schema.

One setting chooses the backend. Unset ``ORDER_DB_URL``: a SQLite file (``ORDER_DB_PATH``), in
WAL mode with ``BEGIN IMMEDIATE`` writes, so several action servers on one host share it
(readers never wait, a check-then-insert cannot interleave with another one). A
``postgresql://`` URL in ``ORDER_DB_URL``: PostgreSQL (:mod:`actions.postgres`), so action servers
and consoles on several hosts share it, with writes just as serialised.

Both backends hand the stores the same small part of sqlite-utils' API (:class:`Database`,
:class:`DatabaseTable`), so every query of the stores is written once and runs on either.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import sqlite_utils

from actions import schema

Clock = Callable[[], datetime]
Params = Sequence[Any] | dict[str, Any] | None

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "orders.db"
DB_PATH_ENV = "ORDER_DB_PATH"
# A PostgreSQL URL (postgresql://user:password@host:5432/orders): the store is on that server.
DB_URL_ENV = "ORDER_DB_URL"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_text(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None


def to_datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def default_db_path() -> Path:
    return Path(os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH)


def default_location() -> Path | str:
    """The PostgreSQL URL when ``ORDER_DB_URL`` is set, else the SQLite file."""
    return (os.environ.get(DB_URL_ENV) or "").strip() or default_db_path()


def is_database_url(location: Path | str) -> bool:
    """A URL names a database server; anything else is a SQLite file's path."""
    return isinstance(location, str) and "://" in location


def describe_location(location: Path | str) -> str:
    """What logs and messages may show: the URL without its password (it may hold one)."""
    if not is_database_url(location):
        return str(location)
    parts = urlsplit(str(location))
    if parts.password is None:
        return str(location)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


class StoreUnavailable(RuntimeError):
    """The database cannot be read or written right now (locked, unreachable, read-only, missing)."""


# --- the part of sqlite-utils the stores use: what a backend must offer ----------------------


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...


class Column(Protocol):
    @property
    def name(self) -> str: ...


class DatabaseTable(Protocol):
    """A table, as sqlite-utils' ``Table`` offers it (only what the stores and the schema use)."""

    last_pk: Any

    def exists(self) -> bool: ...

    @property
    def columns(self) -> Sequence[Column]: ...

    @property
    def rows(self) -> Iterable[dict[str, Any]]: ...

    def rows_where(
        self, where: str | None = ..., where_args: Params = ..., *, order_by: str | None = ..., limit: int | None = ...
    ) -> Iterable[dict[str, Any]]: ...

    def count_where(self, where: str | None = ..., where_args: Params = ...) -> int: ...

    def delete_where(self, where: str | None = ..., where_args: Params = ...) -> DatabaseTable: ...

    def get(self, pk_values: str | int) -> dict[str, Any]: ...

    def insert(self, record: dict[str, Any]) -> DatabaseTable: ...

    def insert_all(self, records: Iterable[dict[str, Any]]) -> DatabaseTable: ...

    def update(self, pk_values: str | int, updates: dict[str, Any] | None = ...) -> DatabaseTable: ...

    def upsert(self, record: dict[str, Any], pk: str) -> DatabaseTable: ...

    def create(
        self,
        columns: dict[str, Any],
        pk: str,
        *,
        not_null: Iterable[str] = ...,
        foreign_keys: list[tuple[str, str]] = ...,
        if_not_exists: bool = ...,
    ) -> DatabaseTable: ...

    def create_index(self, columns: list[str], *, unique: bool = ..., if_not_exists: bool = ...) -> Any: ...

    def add_column(self, col_name: str, col_type: Any = ...) -> Any: ...

    def drop(self) -> None: ...


class Database(Protocol):
    """A connection, as sqlite-utils' ``Database`` offers it: ``?`` or ``:name`` placeholders."""

    def table(self, table_name: str) -> DatabaseTable: ...

    def query(self, sql: str, params: Params = ...) -> Iterable[dict[str, Any]]: ...

    def execute(self, sql: str, parameters: Params = ...) -> Cursor: ...


# Fills a new database: (database, now) -> None, inside the transaction that created it.
Seed = Callable[[Database, datetime], None]


class Backend(Protocol):
    """Connections and transactions of one kind of database; errors become StoreUnavailable."""

    # What may go wrong while the schema is made (reported as StoreUnavailable).
    errors: tuple[type[Exception], ...]

    @property
    def db(self) -> Database: ...

    def write(self) -> AbstractContextManager[Database]: ...

    def read(self, fn: Callable[[Database], Any]) -> Any: ...


class SqliteBackend:
    """One SQLite file: a connection per thread, ``BEGIN IMMEDIATE`` writes."""

    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def db(self) -> sqlite_utils.Database:
        """One connection per thread: sqlite3 connections must not cross threads."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), timeout=5, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            # WAL: readers never wait for the writer, so several action servers on one host
            # can share the file. (A read-only file keeps its journal mode.)
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA journal_mode = WAL")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes the write lock first, so check-then-insert is atomic."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                raise StoreUnavailable(str(error)) from error

    def read(self, fn: Callable[[Database], Any]) -> Any:
        try:
            return fn(self.db)
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error


def open_backend(location: Path | str) -> Backend:
    """SQLite for a path, PostgreSQL for a ``postgresql://`` URL."""
    if is_database_url(location):
        from actions.postgres import PostgresBackend  # psycopg2 only when it is used

        return PostgresBackend(str(location))
    return SqliteBackend(Path(location))


class OrderDatabase:
    """The order database under a store, on either backend, with the schema kept up to date.

    ``location`` is a SQLite file's path or a PostgreSQL URL; without one, ``ORDER_DB_URL`` if
    set, else ``ORDER_DB_PATH``. Pass ``location`` to open the same database again."""

    def __init__(self, location: Path | str | None = None, clock: Clock = utc_now, seed: Seed | None = None) -> None:
        self.location: Path | str = location or default_location()
        if not is_database_url(self.location):
            self.location = Path(self.location)
        # The SQLite file, if that is the backend.
        self.path: Path | None = None if is_database_url(self.location) else Path(self.location)
        self.clock = clock
        self.seed = seed
        self._backend = open_backend(self.location)
        try:
            self._ensure_schema()
        except self._backend.errors as error:
            raise StoreUnavailable(str(error)) from error

    def describe(self) -> str:
        """Where the database is, fit for a log (no password)."""
        return describe_location(self.location)

    # --- connection handling -------------------------------------------------------------

    @property
    def db(self) -> Database:
        """This thread's connection."""
        return self._backend.db

    def _write(self) -> AbstractContextManager[Database]:
        """A write transaction that holds the write lock from its start, so check-then-insert
        is atomic across processes (and, on PostgreSQL, across hosts)."""
        return self._backend.write()

    def _read(self, fn: Callable[[Database], Any]) -> Any:
        return self._backend.read(fn)

    # --- schema ------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._read(lambda db: db.table("orders").exists()):
            if self._read(schema.needs_migration):
                with self._write() as db:
                    schema.migrate(db)
            return
        with self._write() as db:
            if db.table("orders").exists():  # another process won the race
                return
            self._create(db)

    def _create(self, db: Database) -> None:
        schema.create_schema(db)
        if self.seed is not None:
            self.seed(db, self.clock())

    def reset(self) -> None:
        """Drop everything and seed again, relative to now."""
        with self._write() as db:
            schema.drop_all(db)
            self._create(db)
