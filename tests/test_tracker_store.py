"""The windowed tracker store: Rasa gets a short tracker whose state equals the full
history's, the store keeps every event once, and a new session starts a new window.
Memory is bounded (idle conversations and the least recently used beyond a cap are
dropped), and a tracker the store did not hand out never overwrites the stored history.

The promises both windowed stores make run here once on each (`windowed`): the in-memory
store and the SQL one (addons/sql_tracker_store.py) on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain, SessionConfig
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

from addons.sql_tracker_store import WINDOW_INDEX, WindowedSQLTrackerStore
from addons.tracker_store import WindowedTrackerStore

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 3


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(domain: Domain, clock: FakeClock) -> WindowedTrackerStore:
    return WindowedTrackerStore(domain, window_user_turns=WINDOW, clock=clock)


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


def dicts(events) -> list[dict[str, Any]]:
    return [event.as_dict() for event in events]


# Every windowed store keeps these promises: the in-memory one and the SQL one, on SQLite and
# on a real PostgreSQL server (conftest's, one for the session). What only one of them promises
# stays with it: below for the in-memory store, in test_sql_tracker_store.py for the SQL one.

WINDOWED = ("memory", "sqlite", "postgresql")


def sql_connection(request: pytest.FixtureRequest, tmp_path: Path, dialect: str) -> dict[str, Any]:
    """Where a test's SQL stores keep their events: a new database for each test (a
    PostgreSQL one is dropped after it)."""
    if dialect == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
    server = request.getfixturevalue("postgres_server")
    name = server.new_database()
    request.addfinalizer(lambda: server.drop_database(name))
    return {"dialect": "postgresql", "host": "127.0.0.1", "port": server.port, "db": name, "username": "postgres"}


@pytest.fixture(params=WINDOWED)
def make_windowed(request, domain: Domain, clock: FakeClock, tmp_path: Path) -> Callable[..., TrackerStore]:
    """Makes windowed stores of one kind (keyword arguments go to the store), with the
    window of `WINDOW` user turns; the SQL ones a test makes share one database."""
    if request.param == "memory":
        return lambda **kwargs: WindowedTrackerStore(domain, window_user_turns=WINDOW, clock=clock, **kwargs)
    connection = sql_connection(request, tmp_path, request.param)
    return lambda **kwargs: WindowedSQLTrackerStore(domain, window_user_turns=WINDOW, **connection, **kwargs)


@pytest.fixture
def windowed(make_windowed: Callable[..., TrackerStore]) -> TrackerStore:
    return make_windowed()


def test_window_has_the_state_of_the_whole_history(windowed, domain):
    sender, everything = "long", []
    for upto in range(1, 31):
        everything += converse(windowed, sender, range(upto - 1, upto))
        window = run(windowed.retrieve(sender))
        reference = full_replay(domain, sender, everything)
        assert window.current_slot_values() == reference.current_slot_values(), upto
        assert window.active_loop_name == reference.active_loop_name, upto
        assert window.latest_message.text == reference.latest_message.text
        users = [event for event in window.events if isinstance(event, UserUttered)]
        assert min(upto, WINDOW) <= len(users) <= 2 * WINDOW
    assert len(run(windowed.retrieve(sender)).events) < len(everything) / 3


def test_recent_dialogue_states_match_the_full_history(windowed, domain):
    """What the policies look at (the last states, max_history 4) is the same."""
    everything = converse(windowed, "states", range(25))
    window = run(windowed.retrieve("states"))
    reference = full_replay(domain, "states", everything)
    assert domain.states_for_tracker_history(window)[-5:] == domain.states_for_tracker_history(reference)[-5:]


def test_every_event_is_kept_once_in_order(windowed):
    everything = converse(windowed, "full", range(20))
    full = run(windowed.retrieve_full_tracker("full"))
    assert dicts(full.events) == dicts(everything)


def test_saving_the_same_tracker_twice_adds_nothing(windowed):
    converse(windowed, "twice", range(10))
    tracker = run(windowed.retrieve("twice"))
    tracker.update(UserUttered("again", {"name": "greet", "confidence": 1.0}))
    run(windowed.save(tracker))
    run(windowed.save(tracker))
    full = run(windowed.retrieve_full_tracker("twice"))
    assert [event.text for event in full.events if isinstance(event, UserUttered)].count("again") == 1


def test_a_new_session_starts_a_new_window(windowed):
    converse(windowed, "sessions", range(12))
    tracker = run(windowed.retrieve("sessions"))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    run(windowed.save(tracker))
    converse(windowed, "sessions", range(100, 102))
    window = run(windowed.retrieve("sessions"))
    assert isinstance(window.events[0], ActionExecuted) and window.events[0].action_name == "action_session_start"
    assert window.get_slot("customer_id") is None  # slots are not carried over (domain)
    assert len(run(windowed.retrieve_full_tracker("sessions")).events) > len(window.events)


def test_a_tracker_built_elsewhere_never_replaces_the_history(windowed, domain):
    """The HTTP API's replacement (PUT .../tracker/events): Rasa works on the replacement
    from now on, and the history before it is kept. So is it when the tracker built
    elsewhere is a single message."""
    before = converse(windowed, "replace", range(8))
    replacement = full_replay(domain, "replace", [ActionExecuted("action_listen"), *turn(0)])
    run(windowed.save(replacement))
    full = run(windowed.retrieve_full_tracker("replace"))
    assert dicts(full.events) == dicts(before) + dicts(replacement.events)
    window = run(windowed.retrieve("replace"))
    assert dicts(window.events) == dicts(replacement.events)
    assert window.get_slot("customer_id") is None  # the replacement's state, not the old one

    everything = converse(windowed, "elsewhere", range(8))
    stranger = full_replay(domain, "elsewhere", [UserUttered("other", {"name": "greet", "confidence": 1.0})])
    run(windowed.save(stranger))
    full = run(windowed.retrieve_full_tracker("elsewhere"))
    assert dicts(full.events)[: len(everything)] == dicts(everything)
    assert full.events[-1] == stranger.events[-1]
    assert run(windowed.retrieve("elsewhere")).latest_message.text == "other"


def test_new_events_reach_the_event_broker_once(make_windowed):
    broker = Broker()
    store = make_windowed(event_broker=broker)
    everything = converse(store, "broker", range(15))
    assert [event["event"] for event in broker.published] == [event.type_name for event in everything]


def test_unknown_conversation(windowed):
    assert run(windowed.retrieve("nobody")) is None
    assert run(windowed.retrieve_full_tracker("nobody")) is None
    assert not run(windowed.exists("nobody"))


# The in-memory store's own: a tracker Rasa lost or copied, the shipped endpoints, the bounded memory.


def test_a_failed_read_then_a_save_keeps_the_history(store, domain):
    """Rasa wraps every tracker store in FailSafeTrackerStore: when `retrieve` raises, it
    answers None, Rasa creates an empty tracker and saves it, runs a session start on it
    and saves again. Saved as a whole history, that empty tracker replaced the stored one
    (every earlier turn lost); now it is appended, and Rasa's window is the new session."""
    before = converse(store, "flaky", range(8))
    failsafe = FailSafeTrackerStore(store)
    with mock.patch.object(WindowedTrackerStore, "_tracker", side_effect=RuntimeError("unreadable")):
        tracker = run(failsafe.get_or_create_tracker("flaky", append_action_listen=False))
    assert list(tracker.events) == []
    fresh = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"), *turn(100)]
    for event in fresh:
        tracker.update(event)
    run(failsafe.save(tracker))
    full = run(store.retrieve_full_tracker("flaky"))
    assert dicts(full.events) == dicts(before) + dicts(fresh)
    window = run(store.retrieve("flaky"))
    assert dicts(window.events) == dicts(fresh)


def test_a_window_that_lost_its_origin_does_not_become_the_history(store, domain):
    """A copy of the window Rasa was handed (`tracker.copy()` drops the store's mark) is
    not the whole history: saving it keeps every stored event."""
    before = converse(store, "copied", range(20))
    window = run(store.retrieve("copied"))
    copy = window.copy()
    copy.update(UserUttered("after the copy", {"name": "greet", "confidence": 1.0}))
    run(store.save(copy))
    full = run(store.retrieve_full_tracker("copied"))
    assert dicts(full.events)[: len(before)] == dicts(before)
    assert full.events[-1].text == "after the copy"
    assert run(store.retrieve("copied")).get_slot("customer_id") == "C1"  # the state goes on


def test_a_full_tracker_saved_back_adds_only_its_new_events(store, domain):
    """A tracker that extends the stored history (the API's full tracker, put back with one
    more event) appends that event: nothing twice, nothing lost, the window goes on."""
    before = converse(store, "extended", range(10))
    full = run(store.retrieve_full_tracker("extended"))
    rebuilt = full_replay(domain, "extended", list(full.events))  # no mark of this store
    rebuilt.update(UserUttered("one more", {"name": "greet", "confidence": 1.0}))
    run(store.save(rebuilt))
    after = run(store.retrieve_full_tracker("extended"))
    assert dicts(after.events)[:-1] == dicts(before)
    assert after.events[-1].text == "one more"


def test_the_shipped_endpoints_use_it(domain):
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]
    store = TrackerStore.create(EndpointConfig.from_dict(config), domain)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, WindowedTrackerStore)
    assert inner.max_conversations == config["max_conversations"] >= 1000


# Memory: idle conversations go after the domain's session expiry (minutes), and at most
# `max_conversations` are kept, the least recently used dropped first.


@pytest.fixture
def expiry(domain: Domain) -> float:
    minutes = domain.session_config.session_expiration_time
    assert minutes > 0
    return minutes


def test_an_idle_conversation_is_dropped_after_the_session_expiry(store, clock, expiry):
    converse(store, "idle", range(3))
    clock.advance(expiry * 0.99)
    converse(store, "busy", range(3))
    assert run(store.exists("idle"))
    clock.advance(expiry * 0.02)
    assert not run(store.exists("idle"))
    assert run(store.keys()) == ["busy"]
    assert run(store.retrieve("idle")) is None
    assert run(store.retrieve_full_tracker("idle")) is None


def test_a_dropped_conversation_starts_fresh(store, clock, expiry):
    converse(store, "returning", range(6))
    assert run(store.retrieve("returning")).get_slot("customer_id") == "C1"
    clock.advance(expiry + 1)
    tracker = run(store.get_or_create_tracker("returning"))
    assert [(type(event), event.action_name) for event in tracker.events] == [(ActionExecuted, "action_listen")]
    assert tracker.get_slot("customer_id") is None
    assert len(run(store.retrieve_full_tracker("returning")).events) == 1


def test_every_access_keeps_a_conversation_alive(store, clock, expiry):
    converse(store, "read", range(2))
    converse(store, "written", range(2))
    for _ in range(3):  # 2.5 expiries in all, never one idle
        clock.advance(expiry * 5 / 6)
        run(store.retrieve("read"))
        tracker = run(store.retrieve("written"))
        tracker.update(UserUttered("still here", {"name": "greet", "confidence": 1.0}))
        run(store.save(tracker))
    assert run(store.keys()) == ["read", "written"]
    clock.advance(expiry * 5 / 6)
    run(store.retrieve_full_tracker("written"))
    clock.advance(expiry / 4)
    assert run(store.keys()) == ["written"]


def test_the_idle_time_is_the_domains_session_expiry(clock):
    """Rasa sets the domain after it loads the model: the expiry is read from it each time."""
    store = WindowedTrackerStore(None, clock=clock)
    store.domain = Domain.empty().merge(Domain.from_dict({"session_config": {"session_expiration_time": 5}}))
    assert store.domain.session_config.session_expiration_time == 5
    converse(store, "short", range(1))
    clock.advance(4.9)
    assert run(store.exists("short"))
    clock.advance(0.2)
    assert not run(store.exists("short"))


def test_sessions_that_never_expire_leave_only_the_cap(clock):
    never = Domain.empty()
    never.session_config = SessionConfig(session_expiration_time=0, carry_over_slots=False)
    store = WindowedTrackerStore(never, max_conversations=2, clock=clock)
    converse(store, "old", range(1))
    clock.advance(60 * 24 * 365)
    assert run(store.exists("old"))
    converse(store, "new-1", range(1))
    converse(store, "new-2", range(1))
    assert run(store.keys()) == ["new-1", "new-2"]


def test_the_cap_drops_the_least_recently_used(domain, clock):
    store = WindowedTrackerStore(domain, max_conversations=3, clock=clock)
    for sender in ("a", "b", "c"):
        converse(store, sender, range(1))
    run(store.retrieve("a"))  # a is now the most recently used: b is the oldest
    converse(store, "d", range(1))
    assert run(store.keys()) == ["c", "a", "d"]
    converse(store, "c", range(1, 2))
    converse(store, "e", range(1))
    assert run(store.keys()) == ["d", "c", "e"]
    assert len(store.conversations) == 3
    full = run(store.retrieve_full_tracker("c")).events
    assert [event.text for event in full if isinstance(event, UserUttered)] == ["message 0", "message 1"]


def test_dropping_costs_the_same_per_turn_however_many_are_kept(domain, clock, expiry):
    """O(1) amortised: a turn drops at most what entered before it, never scans the store."""
    store = WindowedTrackerStore(domain, max_conversations=50, clock=clock)
    store.conversations = CountingOrderedDict()
    for number in range(200):
        converse(store, f"buyer-{number}", range(1))
        if number >= 100:  # the first 100 are dropped by the cap, the next by idle time
            clock.advance(expiry / 10)
    assert len(store.conversations) <= 10
    # converse() reads or writes the store 5 times per buyer; each access looks at the
    # oldest conversation once, and once more per conversation it drops (each at most once).
    # A scan of the store per access would look at ~50 per access: ~50,000.
    assert store.conversations.looked_at <= 200 * 6
    assert len(store.conversations) <= 50


class CountingOrderedDict(OrderedDict):
    """Counts every conversation the store looks at by iterating."""

    def __init__(self) -> None:
        super().__init__()
        self.looked_at = 0

    def items(self):
        for pair in super().items():
            self.looked_at += 1
            yield pair

    def __iter__(self):
        for key in super().__iter__():
            self.looked_at += 1
            yield key


def test_a_tracker_read_before_its_conversation_was_dropped(domain, clock):
    """Dropped during its own turn (the cap reached by other buyers meanwhile), the
    conversation is kept again from the tracker that turn saves."""
    store = WindowedTrackerStore(domain, max_conversations=2, clock=clock)
    converse(store, "slow", range(10))
    tracker = run(store.retrieve("slow"))
    converse(store, "other-1", range(1))
    converse(store, "other-2", range(1))
    assert not run(store.exists("slow"))
    tracker.update(UserUttered("late", {"name": "greet", "confidence": 1.0}))
    run(store.save(tracker))
    assert run(store.retrieve("slow")).get_slot("customer_id") == "C1"
    assert run(store.keys()) == ["other-2", "slow"]


def test_a_stale_tracker_does_not_overwrite_the_conversation_that_replaced_it(domain, clock):
    """A tracker read from a dropped conversation and saved after the same id started
    again: the new conversation's events stay, the stale ones come after them."""
    store = WindowedTrackerStore(domain, max_conversations=1, clock=clock)
    converse(store, "id", range(3))
    stale = run(store.retrieve("id"))
    converse(store, "someone-else", range(1))
    started_again = converse(store, "id", range(50, 52))
    stale.update(UserUttered("stale", {"name": "greet", "confidence": 1.0}))
    run(store.save(stale))
    full = run(store.retrieve_full_tracker("id"))
    assert dicts(full.events)[: len(started_again)] == dicts(started_again)
    assert full.events[-1].text == "stale"


def test_the_cap_must_keep_at_least_one(domain):
    with pytest.raises(ValueError):
        WindowedTrackerStore(domain, max_conversations=0)


# Everything deploy/endpoints.scale.yml names; the hosts are in the reserved .invalid domain.
SCALE_ENV = {
    "ACTION_ENDPOINT_URL": "http://actions.invalid:5055/webhook",
    "ACTION_SERVER_TOKEN": "scale-action-server-token-0123456789",
    "DB_HOST": "db.invalid",
    "DB_PORT": "5433",
    "DB_NAME": "orders",
    "DB_USER": "rasa",
    "DB_PASSWORD": "secret",
    "REDIS_HOST": "redis.invalid",
    "REDIS_PORT": "6380",
    "REDIS_DB": "2",
}


def test_the_scale_endpoints_use_the_windowed_sql_store(domain, monkeypatch):
    """`rasa run --endpoints deploy/endpoints.scale.yml` gets the windowed SQL store for
    PostgreSQL at the configured address. Rasa connects when it creates the tables, so that
    step is replaced: nothing is reached (Rasa would retry an unreachable host forever)."""
    for name, value in SCALE_ENV.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "deploy" / "endpoints.scale.yml"), "tracker_store")
    with (
        mock.patch.object(SQLTrackerStore.Base.metadata, "create_all") as create_tables,
        mock.patch.object(WINDOW_INDEX, "create") as window_index,
    ):
        store = TrackerStore.create(config, domain)
    assert type(store) is WindowedSQLTrackerStore and store.window_user_turns == 6
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
    window_index.assert_called_once_with(bind=store.engine, checkfirst=True)
