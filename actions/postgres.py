"""PostgreSQL under the order store (``ORDER_DB_URL``): action servers and consoles on several
hosts share one order database.

:class:`PostgresDatabase` offers the part of sqlite-utils' ``Database`` and ``Table`` that the
stores and the schema use (:class:`actions.database.Database`), and turns their ``?`` and
``:name`` placeholders into psycopg2's (:mod:`actions.postgres_sql`), so
:class:`~actions.store.OrderStore` and :class:`~actions.handoff_store.HandoffStore` keep one
set of queries for both backends.
:class:`PostgresBackend` gives each thread its own connection and serialises writes the way
SQLite's ``BEGIN IMMEDIATE`` does (see :meth:`PostgresBackend.write`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple

import psycopg2
import psycopg2.extensions
from sqlite_utils.db import NotFoundError

from actions.database import Database, Params, StoreUnavailable
from actions.postgres_sql import adapt_params, pyformat, quote

# The advisory lock every write transaction takes: one number for "the order store's writes".
WRITE_LOCK = 0x4F52_4445_5253_5431  # "ORDERST1"
# As SQLite's busy timeout: a write that waits longer for the lock is reported, not hung.
LOCK_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
# Errors that mean "the server cannot be reached or refused us right now": try again later.
UNAVAILABLE: tuple[type[Exception], ...] = (psycopg2.OperationalError, psycopg2.InterfaceError)
# Python types of the schema (actions.schema) and their PostgreSQL types.
SQL_TYPES = {str: "text", int: "bigint", float: "double precision", bytes: "bytea"}
SCHEMES = ("postgresql://", "postgres://")


# --- the sqlite-utils surface ---------------------------------------------------------------


class PgColumn(NamedTuple):
    name: str
    type: str


class PostgresDatabase:
    """One psycopg2 connection, offered as sqlite-utils' ``Database`` is."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Params = None) -> Any:
        """Run one statement; the cursor (``rowcount``, ``fetchone``) as sqlite3's."""
        cursor = self.conn.cursor()
        cursor.execute(pyformat(sql), adapt_params(parameters))
        return cursor

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """The rows as dicts, column name to value."""
        cursor = self.execute(sql, params)
        if cursor.description is None:  # a statement without rows
            return iter([])
        names = [column.name for column in cursor.description]
        return iter([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])

    def table(self, table_name: str) -> PostgresTable:
        return PostgresTable(self, table_name)

    __getitem__ = table


class PostgresTable:
    """One table, offered as sqlite-utils' ``Table`` is. Every table's key is ``id``."""

    def __init__(self, db: PostgresDatabase, name: str) -> None:
        self.db = db
        self.name = name
        self.last_pk: Any = None

    # --- reading ---------------------------------------------------------------------

    def exists(self) -> bool:
        return bool(
            list(
                self.db.query(
                    "select 1 from information_schema.tables where table_schema = current_schema() and table_name = ?",
                    [self.name],
                )
            )
        )

    @property
    def columns(self) -> list[PgColumn]:
        rows = self.db.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = current_schema() and table_name = ? order by ordinal_position",
            [self.name],
        )
        return [PgColumn(row["column_name"], row["data_type"]) for row in rows]

    @property
    def rows(self) -> Iterator[dict[str, Any]]:
        return self.rows_where()

    def rows_where(
        self,
        where: str | None = None,
        where_args: Params = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        sql = f"select * from {quote(self.name)}"
        if where is not None:
            sql += f" where {where}"
        if order_by is not None:
            sql += f" order by {order_by}"
        if limit is not None:
            sql += f" limit {int(limit)}"
        return self.db.query(sql, where_args)

    def count_where(self, where: str | None = None, where_args: Params = None) -> int:
        sql = f"select count(*) from {quote(self.name)}" + (f" where {where}" if where is not None else "")
        return int(self.db.execute(sql, where_args).fetchone()[0])

    def get(self, pk_values: str | int) -> dict[str, Any]:
        """The row with this id; NotFoundError (sqlite-utils') when there is none."""
        rows = list(self.rows_where("id = ?", [pk_values], limit=1))
        if not rows:
            raise NotFoundError
        self.last_pk = pk_values
        return rows[0]

    # --- writing ---------------------------------------------------------------------

    def insert(self, record: dict[str, Any]) -> PostgresTable:
        """Insert one row; ``last_pk`` is its id (the new one, when the key is generated)."""
        self.last_pk = self._insert(record)
        if _explicit_int_id(record):
            self._follow_ids()
        return self

    def insert_all(self, records: Iterable[dict[str, Any]]) -> PostgresTable:
        explicit = False
        for record in records:
            self.last_pk = self._insert(record)
            explicit = explicit or _explicit_int_id(record)
        if explicit:
            self._follow_ids()
        return self

    def upsert(self, record: dict[str, Any], pk: str) -> PostgresTable:
        """Insert the row, or update the given columns of the row with its key."""
        names = list(record)
        changes = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in names if name != pk)
        action = f"do update set {changes}" if changes else "do nothing"
        self.db.execute(
            f"insert into {quote(self.name)} ({', '.join(map(quote, names))}) "
            f"values ({', '.join('?' for _ in names)}) on conflict ({quote(pk)}) {action}",
            list(record.values()),
        )
        self.last_pk = record[pk]
        return self

    def update(self, pk_values: str | int, updates: dict[str, Any] | None = None) -> PostgresTable:
        """Change these columns of the row with this id; NotFoundError when there is none."""
        if not updates:
            self.get(pk_values)
            return self
        assignments = ", ".join(f"{quote(name)} = ?" for name in updates)
        cursor = self.db.execute(
            f"update {quote(self.name)} set {assignments} where id = ?", [*updates.values(), pk_values]
        )
        if cursor.rowcount == 0:
            raise NotFoundError
        self.last_pk = pk_values
        return self

    def delete_where(self, where: str | None = None, where_args: Params = None) -> PostgresTable:
        where_sql = f" where {where}" if where is not None else ""
        self.db.execute(f"delete from {quote(self.name)}{where_sql}", where_args)
        return self

    def _insert(self, record: dict[str, Any]) -> Any:
        # sqlite-utils gives a rowid key left as None a new value; here the identity column does.
        row = {name: value for name, value in record.items() if name != "id" or value is not None}
        names = ", ".join(map(quote, row))
        values = ", ".join("?" for _ in row)
        sql = f"insert into {quote(self.name)} ({names}) values ({values}) returning id"
        if not row:
            sql = f"insert into {quote(self.name)} default values returning id"
        return self.db.execute(sql, list(row.values())).fetchone()[0]

    def _follow_ids(self) -> None:
        """Rows inserted with their own ids: the identity goes on after the largest, as SQLite's
        rowid does, so the next generated id does not collide."""
        sequence = self.db.execute("select pg_get_serial_sequence(?, 'id')", [quote(self.name)]).fetchone()[0]
        if sequence:
            self.db.execute(f"select setval(?, (select max(id) from {quote(self.name)}))", [sequence])

    # --- schema ------------------------------------------------------------------------

    def create(
        self,
        columns: dict[str, Any],
        pk: str,
        *,
        not_null: Iterable[str] = (),
        foreign_keys: list[tuple[str, str]] | None = None,
        if_not_exists: bool = False,
    ) -> PostgresTable:
        """The table with these columns (Python types); an ``int`` key is an identity column.
        A foreign key names the column and the table whose ``id`` it holds."""
        required = set(not_null)
        definitions = []
        for name, kind in columns.items():
            sql_type = SQL_TYPES[kind]
            if name == pk:
                generated = " generated by default as identity" if kind is int else ""
                definitions.append(f"{quote(name)} {sql_type}{generated} primary key")
            else:
                definitions.append(f"{quote(name)} {sql_type}" + (" not null" if name in required else ""))
        for column, other in foreign_keys or ():
            definitions.append(f"foreign key ({quote(column)}) references {quote(other)} (id)")
        exists = " if not exists" if if_not_exists else ""
        self.db.execute(f"create table{exists} {quote(self.name)} ({', '.join(definitions)})")
        return self

    def create_index(self, columns: list[str], *, unique: bool = False, if_not_exists: bool = False) -> PostgresTable:
        """Named as sqlite-utils names it: idx_<table>_<columns>."""
        name = "idx_{}_{}".format(self.name.replace(" ", "_"), "_".join(columns))
        self.db.execute(
            f"create {'unique ' if unique else ''}index{' if not exists' if if_not_exists else ''} {quote(name)} "
            f"on {quote(self.name)} ({', '.join(map(quote, columns))})"
        )
        return self

    def add_column(self, col_name: str, col_type: Any = str) -> PostgresTable:
        column = f"{quote(col_name)} {SQL_TYPES[col_type]}"
        self.db.execute(f"alter table {quote(self.name)} add column if not exists {column}")
        return self

    def drop(self) -> None:
        self.db.execute(f"drop table {quote(self.name)}")


def _explicit_int_id(record: dict[str, Any]) -> bool:
    return isinstance(record.get("id"), int)


# --- connections and transactions --------------------------------------------------------------


def connection_url(url: str) -> str:
    """libpq's URL: SQLAlchemy's ``postgresql+psycopg2://`` spelling is accepted too."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.split("+", 1)[0]
    url = f"{scheme}://{rest}"
    if not url.startswith(SCHEMES):
        raise ValueError(f"the order database URL must start with {' or '.join(SCHEMES)}")
    return url


def connection_parameters(url: str) -> dict[str, Any]:
    """The URL's parameters, with a connect timeout and a name in pg_stat_activity unless the
    URL gives its own. A malformed URL is refused without repeating it: it may hold a password."""
    try:
        parameters: dict[str, Any] = psycopg2.extensions.parse_dsn(connection_url(url))
    except psycopg2.ProgrammingError:
        raise ValueError("the order database URL is not a valid PostgreSQL URL") from None
    parameters.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    parameters.setdefault("fallback_application_name", "order-store")
    return parameters


class PostgresBackend:
    """One PostgreSQL database: a connection per thread (psycopg2 connections must not be used
    by two threads at once), reconnected after it was lost; reads in autocommit."""

    errors: tuple[type[Exception], ...] = (psycopg2.Error,)

    def __init__(self, url: str) -> None:
        self._parameters = connection_parameters(url)
        self._local = threading.local()

    @property
    def db(self) -> PostgresDatabase:
        db: PostgresDatabase | None = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) != os.getpid():
            # Inherited through fork(): the socket is the parent's. Keep it open (closing it would
            # end the parent's session) and make this process its own.
            _INHERITED.append(db.conn)
            db = None
        if db is None or db.conn.closed:
            db = self._connect()
        return db

    def _connect(self) -> PostgresDatabase:
        try:
            conn = psycopg2.connect(**self._parameters)
            conn.autocommit = True  # reads are one statement each; writes say BEGIN themselves
            db = PostgresDatabase(conn)
            db.execute(f"set lock_timeout = {LOCK_TIMEOUT_MS}")
        except UNAVAILABLE as error:
            raise StoreUnavailable(str(error).strip()) from error
        self._local.db, self._local.pid, self._local.writing = db, os.getpid(), False
        return db

    def _forget(self) -> None:
        """Drop this thread's connection (lost or broken): the next use reconnects."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with suppress(Exception):
                db.conn.close()

    def _rollback(self, db: PostgresDatabase) -> None:
        try:
            db.execute("rollback")
        except psycopg2.Error:
            self._forget()

    def _begin(self) -> PostgresDatabase:
        """BEGIN and the write lock. A connection found lost (the server restarted, an idle
        connection was cut) is replaced once: nothing was written on it yet."""
        for attempt in (1, 2):
            db = self.db
            try:
                if db.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    db.execute("rollback")  # left open by an error: start clean
                db.execute("begin")
                db.execute("select pg_advisory_xact_lock(?)", [WRITE_LOCK])
                return db
            except UNAVAILABLE as error:
                lost = bool(db.conn.closed)
                self._rollback(db)
                if lost:
                    self._forget()
                if attempt == 2 or not lost:
                    raise StoreUnavailable(str(error).strip()) from error
        raise AssertionError("unreachable")

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction that first takes one advisory lock shared by every writer.

        Writers are serialised as SQLite's ``BEGIN IMMEDIATE`` serialises them, on every host:
        a check-then-insert (one live cancellation request, one open dispute, one handoff
        claim) sees everything committed before it and nothing can slip in between. The
        price is one writer at a time across all hosts; each write is a few short statements,
        so the lock is held for milliseconds. (Per-order locks, or SERIALIZABLE with retries,
        would let writers run side by side, at the cost of a lock key or a retry path in
        every write.) Readers never wait: they read the last committed state."""
        db = self._begin()
        self._local.writing = True
        try:
            yield db
        except BaseException as error:
            self._rollback(db)
            if isinstance(error, UNAVAILABLE):
                if db.conn.closed:
                    self._forget()
                raise StoreUnavailable(str(error).strip()) from error
            raise
        else:
            try:
                db.execute("commit")
            except psycopg2.Error as error:
                self._rollback(db)
                raise StoreUnavailable(str(error).strip()) from error
        finally:
            self._local.writing = False

    def read(self, fn: Callable[[Database], Any]) -> Any:
        """Run the reads; once more on a new connection if the old one was found lost (never
        inside a write: its transaction cannot move to another connection)."""
        for attempt in (1, 2):
            db = self.db
            try:
                return fn(db)
            except UNAVAILABLE as error:
                lost = bool(db.conn.closed)
                if getattr(self._local, "writing", False) or attempt == 2 or not lost:
                    raise StoreUnavailable(str(error).strip()) from error
                self._forget()
        raise AssertionError("unreachable")


# Connections a forked child inherited: kept referenced so that they are never closed there.
_INHERITED: list[Any] = []
