"""The windowed tracker store: Rasa gets a short tracker whose state equals the full
history's, the store keeps every event once, and a new session starts a new window."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from addons.tracker_store import WindowedTrackerStore

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 3


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def store(domain: Domain) -> WindowedTrackerStore:
    return WindowedTrackerStore(domain, window_user_turns=WINDOW)


class Broker:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def turn(number: int) -> list[Event]:
    """A realistic turn: the buyer speaks, a form runs or stops, slots change, the bot listens."""
    intent = ["cancel_order", "inform_order_number", "ask_refund", "greet"][number % 4]
    events: list[Event] = [UserUttered(f"message {number}", {"name": intent, "confidence": 1.0})]
    if number == 2:
        events += [ActionExecuted("order_form"), ActiveLoop("order_form"), SlotSet("requested_slot", "order_id")]
    if number % 5 == 0:
        events.append(SlotSet("order_id", f"81000000000000{number:02d}"))
    if number == 4:
        events.append(SlotSet("customer_id", "C1"))
    if number == 17:
        events += [ActionExecuted("order_form"), ActiveLoop(None), SlotSet("requested_slot", None)]
    events.append(ActionExecuted("utter_anything_else" if number % 2 else "action_answer_refund"))
    events.append(ActionExecuted("action_listen"))
    return events


def run(coroutine):
    return asyncio.run(coroutine)


def converse(store: TrackerStore, sender: str, turns: range) -> list[Event]:
    """Drive the store as Rasa's processor does: load, append a turn, save."""
    everything: list[Event] = []
    if not run(store.exists(sender)):
        everything += run(store.create_tracker(sender)).events  # starts with action_listen
    for number in turns:
        tracker = run(store.get_or_create_tracker(sender))
        for event in turn(number):
            tracker.update(event)
            everything.append(event)
        run(store.save(tracker))
    return everything


def full_replay(domain: Domain, sender: str, events: list[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, domain.slots)


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
    """What the policies look at (the last states, max_history 4) is the same."""
    everything = converse(store, "states", range(25))
    window = run(store.retrieve("states"))
    reference = full_replay(domain, "states", everything)
    assert domain.states_for_tracker_history(window)[-5:] == domain.states_for_tracker_history(reference)[-5:]


def test_every_event_is_kept_once_in_order(store, domain):
    everything = converse(store, "full", range(20))
    full = run(store.retrieve_full_tracker("full"))
    assert [event.as_dict() for event in full.events] == [event.as_dict() for event in everything]


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


def test_a_tracker_built_elsewhere_replaces_the_history(store, domain):
    converse(store, "replace", range(8))
    replacement = full_replay(domain, "replace", [ActionExecuted("action_listen"), *turn(0)])
    run(store.save(replacement))
    assert len(run(store.retrieve_full_tracker("replace")).events) == len(replacement.events)


def test_new_events_reach_the_event_broker_once(domain):
    broker = Broker()
    store = WindowedTrackerStore(domain, event_broker=broker, window_user_turns=WINDOW)
    everything = converse(store, "broker", range(15))
    assert [event["event"] for event in broker.published] == [event.type_name for event in everything]


def test_unknown_conversation(store):
    assert run(store.retrieve("nobody")) is None
    assert run(store.retrieve_full_tracker("nobody")) is None
    assert not run(store.exists("nobody"))


def test_the_shipped_endpoints_use_it(domain):
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]
    store = TrackerStore.create(EndpointConfig.from_dict(config), domain)
    assert isinstance(getattr(store, "_tracker_store", store), WindowedTrackerStore)


# Everything deploy/endpoints.scale.yml names; the hosts are in the reserved .invalid domain.
SCALE_ENV = {
    "ACTION_ENDPOINT_URL": "http://actions.invalid:5055/webhook",
    "DB_HOST": "db.invalid",
    "DB_PORT": "5433",
    "DB_NAME": "orders",
    "DB_USER": "rasa",
    "DB_PASSWORD": "secret",
    "REDIS_HOST": "redis.invalid",
    "REDIS_PORT": "6380",
    "REDIS_DB": "2",
}


def test_the_scale_endpoints_use_rasas_sql_store(domain, monkeypatch):
    """`rasa run --endpoints deploy/endpoints.scale.yml` gets Rasa's own SQL store for
    PostgreSQL at the configured address. Rasa connects when it creates the tables, so that
    step is replaced: nothing is reached (Rasa would retry an unreachable host forever)."""
    for name, value in SCALE_ENV.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "deploy" / "endpoints.scale.yml"), "tracker_store")
    with mock.patch.object(SQLTrackerStore.Base.metadata, "create_all") as create_tables:
        store = TrackerStore.create(config, domain)
    assert type(store) is SQLTrackerStore
    url = store.engine.url
    assert (url.drivername, url.host, url.port, url.database, url.username, url.password) == (
        "postgresql",
        "db.invalid",
        5433,
        "orders",
        "rasa",
        "secret",
    )
    create_tables.assert_called_once_with(store.engine)
