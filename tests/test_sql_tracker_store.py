"""The windowed SQL tracker store (issue 16): every event in Rasa's `events` table, Rasa
served a short tracker with the full history's state, the window shared through the
database by several Rasa servers, and a read whose size does not grow with the conversation.
Each test runs on SQLite and on a real PostgreSQL server (Debian's, started for the session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

from addons.sql_tracker_store import WindowedSQLTrackerStore
from tests.support.services import Postgres, ensure_packages
from tests.test_tracker_store import Broker, converse, dicts, full_replay, run, turn

WINDOW = 3


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(Path(__file__).resolve().parent.parent / "domain"))


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Iterator[Postgres]:
    ensure_packages()
    server = Postgres(tmp_path_factory.mktemp("trackers") / "pg")
    try:
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def connection(request, tmp_path) -> dict[str, Any]:
    """Where a test's stores keep their events: a new database for each test."""
    if request.param == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
    server = request.getfixturevalue("postgres")
    name = server.new_database()
    return {"dialect": "postgresql", "host": "127.0.0.1", "port": server.port, "db": name, "username": "postgres"}


def make_store(domain: Domain, connection: dict[str, Any], **kwargs: Any) -> WindowedSQLTrackerStore:
    return WindowedSQLTrackerStore(domain, window_user_turns=WINDOW, **connection, **kwargs)


@pytest.fixture
def store(domain, connection) -> WindowedSQLTrackerStore:
    return make_store(domain, connection)


def test_window_has_the_state_of_the_whole_history(store, domain):
    sender, everything = "long", []
    for upto in range(1, 31):
        everything += converse(store, sender, range(upto - 1, upto))
        window = run(store.retrieve(sender))
        reference = full_replay(domain, sender, everything)
        assert window.current_slot_values() == reference.current_slot_values(), upto
        assert window.active_loop_name == reference.active_loop_name, upto
        assert window.latest_message.text == reference.latest_message.text
        users = [event for event in window.events if isinstance(event, UserUttered)]
        assert min(upto, WINDOW) <= len(users) <= 2 * WINDOW
    assert len(run(store.retrieve(sender)).events) < len(everything) / 3


def test_recent_dialogue_states_match_the_full_history(store, domain):
    everything = converse(store, "states", range(25))
    window = run(store.retrieve("states"))
    reference = full_replay(domain, "states", everything)
    assert domain.states_for_tracker_history(window)[-5:] == domain.states_for_tracker_history(reference)[-5:]


def test_every_event_is_kept_once_in_order_in_rasas_table(store, domain, connection):
    everything = converse(store, "full", range(20))
    assert dicts(run(store.retrieve_full_tracker("full")).events) == dicts(everything)
    # Rasa's own SQL store reads the same table: nothing is hidden from its tools.
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


def test_saving_the_same_tracker_twice_adds_nothing(store):
    converse(store, "twice", range(10))
    tracker = run(store.retrieve("twice"))
    tracker.update(UserUttered("again", {"name": "greet", "confidence": 1.0}))
    run(store.save(tracker))
    run(store.save(tracker))
    full = run(store.retrieve_full_tracker("twice"))
    assert [event.text for event in full.events if isinstance(event, UserUttered)].count("again") == 1


def test_a_new_session_starts_a_new_window(store, domain):
    converse(store, "sessions", range(12))
    tracker = run(store.retrieve("sessions"))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    run(store.save(tracker))
    converse(store, "sessions", range(100, 102))
    window = run(store.retrieve("sessions"))
    assert isinstance(window.events[0], ActionExecuted) and window.events[0].action_name == "action_session_start"
    assert window.get_slot("customer_id") is None  # slots are not carried over (domain)
    assert len(run(store.retrieve_full_tracker("sessions")).events) > len(window.events)


def test_a_tracker_built_elsewhere_never_replaces_the_history(store, domain):
    everything = converse(store, "elsewhere", range(8))
    stranger = full_replay(domain, "elsewhere", [UserUttered("other", {"name": "greet", "confidence": 1.0})])
    run(store.save(stranger))
    full = run(store.retrieve_full_tracker("elsewhere"))
    assert dicts(full.events)[: len(everything)] == dicts(everything)
    assert full.events[-1] == stranger.events[-1]
    assert run(store.retrieve("elsewhere")).latest_message.text == "other"


def test_a_conversation_rasas_own_store_began_continues(domain, connection):
    """Switching an existing deployment to this store: conversations already in the table go on."""
    plain = SQLTrackerStore(domain, **connection)
    everything = converse(plain, "older", range(6))
    store = make_store(domain, connection)
    everything += converse(store, "older", range(6, 15))
    assert dicts(run(store.retrieve_full_tracker("older")).events) == dicts(everything)
    window = run(store.retrieve("older"))
    assert window.current_slot_values() == full_replay(domain, "older", everything).current_slot_values()


def test_new_events_reach_the_event_broker_once(domain, connection):
    broker = Broker()
    store = make_store(domain, connection, event_broker=broker)
    everything = converse(store, "broker", range(9))
    assert [event["event"] for event in broker.published] == [event.type_name for event in everything]


def test_unknown_conversation(store):
    assert run(store.retrieve("nobody")) is None
