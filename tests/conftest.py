"""Shared fixtures: a fresh order database on each backend (a SQLite file, a PostgreSQL
database), the order store seeded in it, and a fixed clock.

Fixtures built on ``order_db`` run every test that uses them twice, ``[sqlite]`` and
``[postgres]``: the store has one implementation and both backends must keep its promises.
A test about one backend only says so with ``@sqlite_only`` or ``@postgres_only``. The
PostgreSQL server is Debian's (tests/support/services.py), one per session, installed when
missing if the tests run as root; otherwise the postgres variants fail, they are not skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from actions.database import DB_PATH_ENV, DB_URL_ENV
from actions.demo_data import open_demo_store
from actions.store import OrderStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)

BACKENDS = ("sqlite", "postgres")
# Direct parametrisation overrides the `backend` fixture: the test runs on that backend alone.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
postgres_only = pytest.mark.parametrize("backend", ["postgres"])


@pytest.fixture
def clock():
    return lambda: NOW


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """One PostgreSQL server for the session; each test gets its own database on it."""
    from tests.support.services import Postgres, ensure_packages

    ensure_packages(("postgresql",))
    # Nothing here needs to survive a crash: skip the disk flushes (fast CREATE/DROP DATABASE).
    unsafe_but_fast = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    server = Postgres(tmp_path_factory.mktemp("postgres"), settings=unsafe_but_fast)
    yield server
    server.stop()
    server.remove()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def order_db(backend, request, tmp_path) -> Iterator[Path | str]:
    """Where a fresh, empty order database is: a SQLite file's path or a PostgreSQL URL."""
    if backend == "sqlite":
        yield tmp_path / "orders.db"
        return
    server = request.getfixturevalue("postgres_server")
    name = server.new_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def store(order_db, clock) -> OrderStore:
    return open_demo_store(order_db, clock=clock)


@pytest.fixture
def db_env(order_db, monkeypatch):
    """Point the action server's store at a fresh database for one test, as a deployment
    does: ``ORDER_DB_PATH`` for SQLite, ``ORDER_DB_URL`` for PostgreSQL."""
    from actions import service

    if isinstance(order_db, Path):
        monkeypatch.delenv(DB_URL_ENV, raising=False)
        monkeypatch.setenv(DB_PATH_ENV, str(order_db))
    else:
        monkeypatch.setenv(DB_URL_ENV, order_db)
    service._service_for.cache_clear()
    yield order_db
    service._service_for.cache_clear()
