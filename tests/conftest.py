"""Shared fixtures: a fresh order store in a temporary file, with a fixed clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actions.demo_data import open_demo_store
from actions.store import OrderStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return lambda: NOW


@pytest.fixture
def store(tmp_path, clock) -> OrderStore:
    return open_demo_store(tmp_path / "orders.db", clock=clock)


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    """Point the action server's store at a fresh database for one test."""
    from actions import service

    path = tmp_path / "actions.db"
    monkeypatch.setenv("ORDER_DB_PATH", str(path))
    service._service_for.cache_clear()
    yield path
    service._service_for.cache_clear()
