"""The windowed SQL tracker store (issue 16): every event in Rasa's `events` table, Rasa
served a short tracker with the full history's state, the window shared through the
database by several Rasa servers, and a read whose size does not grow with the conversation.
Each test runs on SQLite and on a real PostgreSQL server (Debian's, started for the session).
What every windowed store promises (the window's state, every event kept once, a new session,
a tracker built elsewhere, the event broker) is tested on this store too, in test_tracker_store.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from addons.sql_tracker_store import WindowedSQLTrackerStore
from tests.test_tracker_store import WINDOW, converse, dicts, full_replay, run, sql_connection, turn


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(Path(__file__).resolve().parent.parent / "domain"))


@pytest.fixture(params=["sqlite", "postgresql"])
def connection(request, tmp_path) -> dict[str, Any]:
    """Where a test's stores keep their events: a new database for each test."""
    return sql_connection(request, tmp_path, request.param)


def make_store(domain: Domain, connection: dict[str, Any], **kwargs: Any) -> WindowedSQLTrackerStore:
    return WindowedSQLTrackerStore(domain, window_user_turns=WINDOW, **connection, **kwargs)


@pytest.fixture
def store(domain, connection) -> WindowedSQLTrackerStore:
    return make_store(domain, connection)


def test_every_event_is_in_rasas_table(store, domain, connection):
    """Rasa's own SQL store reads the same table: nothing is hidden from its tools. (That the
    windowed store keeps every event once, in order, is in the shared suite.)"""
    everything = converse(store, "full", range(20))
    plain = SQLTrackerStore(domain, **connection)
    assert dicts(run(plain.retrieve_full_tracker("full")).events) == dicts(everything)


def test_the_window_is_shared_by_every_server(domain, connection):
    """Two Rasa servers take turns on one conversation: each reads the window and the state
    at the cut the other one stored."""
    servers = [make_store(domain, connection), make_store(domain, connection)]
    everything: list = run(servers[0].create_tracker("shared")).events
    for number in range(24):
        server = servers[number % 2]
        tracker = run(server.get_or_create_tracker("shared"))
        for event in turn(number):
            tracker.update(event)
            everything.append(event)
        run(server.save(tracker))
        other = run(servers[(number + 1) % 2].retrieve("shared"))
        reference = full_replay(domain, "shared", everything)
        assert other.current_slot_values() == reference.current_slot_values(), number
        assert other.active_loop_name == reference.active_loop_name, number
    assert dicts(run(servers[1].retrieve_full_tracker("shared")).events) == dicts(everything)


def test_a_read_loads_the_same_rows_at_turn_200_as_at_turn_10(store):
    """Constant cost: the rows a read loads stay bounded however long the conversation."""
    loaded: list[int] = []
    original = store._events_from

    def counting(session, sender_id, first_id):
        rows = original(session, sender_id, first_id)
        loaded.append(len(rows))
        return rows

    store._events_from = counting  # type: ignore[method-assign]
    converse(store, "long", range(10))
    loaded.clear()
    run(store.retrieve("long"))
    at_10 = loaded[-1]
    converse(store, "long", range(10, 200))
    loaded.clear()
    run(store.retrieve("long"))
    assert loaded[-1] <= at_10 * 1.5 and loaded[-1] < 60


def test_a_conversation_rasas_own_store_began_continues(domain, connection):
    """Switching an existing deployment to this store: conversations already in the table go on."""
    plain = SQLTrackerStore(domain, **connection)
    everything = converse(plain, "older", range(6))
    store = make_store(domain, connection)
    everything += converse(store, "older", range(6, 15))
    assert dicts(run(store.retrieve_full_tracker("older")).events) == dicts(everything)
    window = run(store.retrieve("older"))
    assert window.current_slot_values() == full_replay(domain, "older", everything).current_slot_values()
