"""The handoff queue in the order database: one place per conversation, one winner per claim,
only the holder ends it, deliveries leased so no two processes send one."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from actions.demo_data import open_handoff_store
from actions.vocabulary import HandoffState, HandoffTrigger


@pytest.fixture
def queue(order_db, clock):
    return open_handoff_store(order_db, clock=clock)


def test_a_conversation_has_one_place_and_positions_move_up(queue):
    first = queue.open_handoff("c1", "socketio", HandoffTrigger.ASKED, {"customer_id": "C1"})
    again = queue.open_handoff("c1", "socketio", HandoffTrigger.ASKED, {})
    second = queue.open_handoff("c2", "telegram", HandoffTrigger.LOCKED, {})
    assert first.created and not again.created and again.id == first.id
    assert (queue.queue_position(first.id), queue.queue_position(second.id)) == (1, 2)
    assert queue.claim(first.id, "alice", "Alice")
    assert (queue.queue_position(first.id), queue.queue_position(second.id)) == (0, 1)


def test_two_agents_claiming_at_once_one_wins(order_db, clock):
    path = order_db
    handoff_id = open_handoff_store(path, clock=clock).open_handoff("c1", "rest", HandoffTrigger.ASKED, {}).id
    results: dict[str, bool] = {}
    start = threading.Barrier(8)

    def claim(agent: str) -> None:
        store = open_handoff_store(path, clock=clock)  # each its own connection, as two consoles
        start.wait()
        results[agent] = store.claim(handoff_id, agent, agent.title())

    threads = [threading.Thread(target=claim, args=(f"agent{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results.values()) == 1
    winner = next(agent for agent, won in results.items() if won)
    assert open_handoff_store(path, clock=clock).handoff(handoff_id)["agent_id"] == winner


def test_only_the_holder_hands_back_or_closes(queue):
    handoff_id = queue.open_handoff("c1", "rest", HandoffTrigger.ASKED, {}).id
    assert not queue.end(handoff_id, "alice", HandoffState.CLOSED), "nobody holds it yet"
    queue.claim(handoff_id, "alice", "Alice")
    assert not queue.end(handoff_id, "bob", HandoffState.CLOSED)
    assert queue.end(handoff_id, "alice", HandoffState.HANDED_BACK)
    assert queue.live_handoff("c1") is None
    assert queue.open_handoff("c1", "rest", HandoffTrigger.ASKED, {}).created, "a new request is a new entry"
    with pytest.raises(ValueError):
        queue.end(handoff_id, "alice", HandoffState.WAITING)


def test_the_report_counts_triggers_and_waits(queue, clock):
    one = queue.open_handoff("c1", "rest", HandoffTrigger.ASKED, {}).id
    queue.open_handoff("c2", "rest", HandoffTrigger.MISUNDERSTOOD, {})
    queue.claim(one, "alice", "Alice")
    report = queue.handoff_report()
    assert report["by_trigger"] == {"asked": 1, "locked": 0, "misunderstood": 1}
    assert report["by_state"]["waiting"] == 1 and report["median_wait_seconds"] == 0.0


def test_deliveries_are_leased_retried_and_given_up(order_db):
    moments = [0]
    from datetime import datetime, timezone

    base = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    queue = open_handoff_store(order_db, clock=lambda: base + timedelta(seconds=moments[0]))
    handoff_id = queue.open_handoff("c1", "rest", HandoffTrigger.ASKED, {"a": 1}, webhook=True).id
    (delivery,) = queue.due_deliveries(lease=timedelta(seconds=30))
    assert delivery["handoff_id"] == handoff_id and delivery["attempts"] == 1
    assert queue.due_deliveries(lease=timedelta(seconds=30)) == [], "leased: no second sender"
    queue.delivery_failed(delivery["id"], "HTTP 500", base + timedelta(seconds=2))
    moments[0] = 2
    (retry,) = queue.due_deliveries(lease=timedelta(seconds=30))
    assert retry["attempts"] == 2
    queue.delivery_done(retry["id"])
    assert queue.deliveries(handoff_id)[0]["state"] == "delivered"
    queue.delivery_failed(retry["id"], "gone", None)
    assert queue.deliveries(handoff_id)[0]["state"] == "failed"
