"""The SQLite file under the order store: connections, transactions and the schema.

WAL mode and ``BEGIN IMMEDIATE`` writes let several action servers on one host share the
file: readers never wait, and a check-then-insert cannot interleave with another one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from actions import schema

Clock = Callable[[], datetime]
# Fills a new database: (database, now) -> None, inside the transaction that created it.
Seed = Callable[[sqlite_utils.Database, datetime], None]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "orders.db"
DB_PATH_ENV = "ORDER_DB_PATH"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_text(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None


def to_datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def default_db_path() -> Path:
    return Path(os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH)


class StoreUnavailable(RuntimeError):
    """The database cannot be read or written right now (locked, read-only, missing)."""


class SqliteFile:
    """One SQLite file: a connection per thread, write transactions, the schema kept up to date."""

    def __init__(self, path: Path | str | None = None, clock: Clock = utc_now, seed: Seed | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.clock = clock
        self.seed = seed
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            self._ensure_schema()
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error

    # --- connection handling -------------------------------------------------------------

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
    def _write(self) -> Iterator[sqlite_utils.Database]:
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

    def _read(self, fn: Callable[[sqlite_utils.Database], Any]) -> Any:
        try:
            return fn(self.db)
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error

    # --- schema ------------------------------------------------------------

    def _ensure_schema(self) -> None:
        db = self.db
        if db.table("orders").exists():
            if schema.needs_migration(db):
                with self._write() as db:
                    schema.migrate(db)
            return
        with self._write() as db:
            if db.table("orders").exists():  # another process won the race
                return
            self._create(db)

    def _create(self, db: sqlite_utils.Database) -> None:
        schema.create_schema(db)
        if self.seed is not None:
            self.seed(db, self.clock())

    def reset(self) -> None:
        """Drop everything and seed again, relative to now."""
        with self._write() as db:
            schema.drop_all(db)
            self._create(db)
