"""New sender ids cannot fill the Rasa server's memory (issue 12, item 6).

Over REST and the callback channel the client picks the sender id, so one client can open
as many conversations as it sends messages. The embedded tracker store kept every one of
them for the life of the process. It now keeps at most `max_conversations` (least recently
used dropped first) and drops those idle for the session expiry.

20,000 distinct sender ids go through the store as Rasa's processor drives it (a fresh
tracker, a session start, one message, the bot's answer, save) with a cap of 1,000; then
2,000 do. Both must leave at most 1,000 conversations, and the memory the store holds
(tracemalloc) must not grow with the number of senders: a ratio, not an absolute figure,
so it does not depend on the machine or the Python build.

The old behaviour fails this: a store that never drops a conversation holds ten times as
many after 20,000 senders as after 2,000, so its memory ratio is ~10 (measured 9.9). The
same measure is run with the cap set above N (exactly the old behaviour, nothing is ever
dropped) to show the test sees that growth. A plain unit test: no stack.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

from addons.tracker_store import WindowedTrackerStore

ROOT = Path(__file__).resolve().parents[2]
CAP = 1_000
SMALL, LARGE = 2_000, 20_000
# Bounded memory gives ~1.0; anything that keeps a share of every sender grows towards 10.
MAX_RATIO = 1.5
# What an unbounded store must at least show, for the measure to be worth anything.
UNBOUNDED_AT_LEAST = 5.0


@pytest.fixture(autouse=True)
def fresh_demo_data() -> None:
    """This module needs no stack: it replaces tests/security's fixture that starts one."""


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


async def new_senders(store: WindowedTrackerStore, count: int, prefix: str) -> None:
    """One message from each of `count` new senders, as Rasa's processor handles it."""
    for number in range(count):
        tracker = await store.get_or_create_tracker(f"{prefix}-{number:06d}", append_action_listen=False)
        for event in (
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered("hi", {"name": "greet", "confidence": 1.0}),
            ActionExecuted("utter_greet"),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
        await store.save(tracker)


def held_by_store(domain: Domain, senders: int, cap: int) -> tuple[int, int]:
    """(conversations kept, bytes still allocated with the store alive) after `senders`."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = WindowedTrackerStore(domain, max_conversations=cap)
        asyncio.run(new_senders(store, senders, f"rest-{senders}-{cap}"))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return len(store.conversations), held


@pytest.fixture(scope="module", autouse=True)
def warm(domain: Domain) -> None:
    """One-time allocations (caches, imports) must not count towards the first measure."""
    store = WindowedTrackerStore(domain, max_conversations=CAP)
    asyncio.run(new_senders(store, 200, "warm-up"))


def test_new_sender_ids_cannot_fill_memory(domain):
    kept_small, memory_small = held_by_store(domain, SMALL, CAP)
    kept_large, memory_large = held_by_store(domain, LARGE, CAP)
    assert kept_small <= CAP and kept_large <= CAP
    ratio = memory_large / memory_small
    assert ratio <= MAX_RATIO, f"{LARGE} senders hold {ratio:.1f}× the memory of {SMALL}"


def test_the_measure_sees_a_store_that_never_drops(domain):
    """The old behaviour: with nothing ever dropped (cap above N) memory grows with N."""
    kept_small, memory_small = held_by_store(domain, SMALL, LARGE + 1)
    kept_large, memory_large = held_by_store(domain, LARGE, LARGE + 1)
    assert (kept_small, kept_large) == (SMALL, LARGE)
    assert memory_large / memory_small >= UNBOUNDED_AT_LEAST
