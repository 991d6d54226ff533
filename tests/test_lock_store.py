"""A restarted Rasa server gives back the lock tickets its previous life held (real Redis)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from addons.lock_store import SERVER_ID_VARIABLE, AtomicRedisLockStore


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory) -> Iterator[int]:
    from tests.support.services import Redis, ensure_packages

    ensure_packages()
    server = Redis(tmp_path_factory.mktemp("redis"))
    yield server.port
    server.stop()


@pytest.fixture
def server(redis_port, monkeypatch, request):
    """server("rasa-1") builds the lock store a Rasa server named rasa-1 would build at start-up."""
    prefix = f"t{abs(hash(request.node.name))}"

    def start(server_id: str | None) -> AtomicRedisLockStore:
        if server_id is None:
            monkeypatch.delenv(SERVER_ID_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(SERVER_ID_VARIABLE, server_id)
        return AtomicRedisLockStore(host="127.0.0.1", port=redis_port, key_prefix=prefix)

    return start


def test_a_killed_servers_ticket_is_given_back_when_it_starts_again(server):
    first, other = server("rasa-1"), server("rasa-2")
    held = first.issue_ticket("buyer", 60)
    waiting = other.issue_ticket("buyer", 60)
    assert other.get_lock("buyer").is_locked(waiting)
    # rasa-1 is killed mid-turn: it never calls cleanup; then it starts again
    restarted = server("rasa-1")
    lock = other.get_lock("buyer")
    assert not lock.is_locked(waiting)
    assert [ticket.number for ticket in lock.tickets] == [waiting]
    assert held != waiting
    assert restarted.red.hlen(restarted._held_key) == 0


def test_the_only_ticket_of_a_conversation_goes_with_its_lock(server):
    server("rasa-1").issue_ticket("alone", 60)
    restarted = server("rasa-1")
    assert restarted.get_lock("alone") is None


def test_a_finished_turn_leaves_nothing_noted(server):
    store = server("rasa-1")
    for _ in range(3):
        ticket = store.issue_ticket("buyer", 60)
        store.cleanup("buyer", ticket)
    assert store.red.hlen(store._held_key) == 0
    assert store.get_lock("buyer") is None


def test_a_ticket_another_server_got_after_the_lock_was_recreated_is_kept(server):
    """rasa-1's ticket expired and its lock went; rasa-2 got the same ticket number on a new
    lock. rasa-1's restart must not release rasa-2's turn."""
    first = server("rasa-1")
    number = first.issue_ticket("buyer", 60)
    first.delete_lock("buyer")  # as if it had expired and been cleaned up
    other = server("rasa-2")
    assert other.issue_ticket("buyer", 60) == number
    server("rasa-1")
    lock = other.get_lock("buyer")
    assert lock is not None and [ticket.number for ticket in lock.tickets] == [number]


def test_servers_do_not_give_back_each_others_tickets(server):
    working = server("rasa-1").issue_ticket("buyer", 60)
    server("rasa-2").issue_ticket("buyer", 60)
    restarted = server("rasa-2")  # rasa-2 restarts (its waiting turn died); rasa-1 still works on its turn
    lock = restarted.get_lock("buyer")
    assert lock is not None and [ticket.number for ticket in lock.tickets] == [working]


def test_without_a_server_name_nothing_is_noted(server):
    store = server(None)
    store.issue_ticket("buyer", 60)
    assert store.red.keys(f"{store.key_prefix}held:*") == []
    assert server(None).get_lock("buyer") is not None  # and nothing is released at start-up
