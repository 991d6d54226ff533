"""Many conversations whose turns alternate between two Rasa servers (and two action
servers behind nginx): every conversation completes, no event is lost or duplicated in
the PostgreSQL tracker store, and no cancellation request is recorded twice. Then faults:
a Rasa server restarts between turns, Redis restarts, and hostile HTTP at the edge."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from channels.guard import TRY_AGAIN
from tests.scale.conftest import AUTH_TOKEN, REST_TOKEN
from tests.support.cluster import kill_action_server, pause_postgres, start_action_server_again

EMAIL = "alex.buyer@example.com"
CONVERSATIONS = 16
SCRIPT = ["I want to cancel my order", None, EMAIL, "/reason_changed_mind", "yes"]


def seed_orders(cluster, count: int, prefix: str) -> list[str]:
    """Extra paid, unshipped orders for the demo buyer, one per conversation."""
    store = cluster.order_store()
    now = datetime.now(timezone.utc)
    ids = [f"{prefix}{n:04d}" for n in range(count)]
    store.db["orders"].insert_all(
        {
            "id": order_id, "customer_id": "C1", "seller_id": "S1", "item_id": f"I-{order_id}",
            "product": f"Test item {n}", "quantity": 1, "price": 10.0, "currency": "USD",
            "status": "awaiting_shipment", "placed_at": (now - timedelta(hours=1)).isoformat(timespec="seconds"),
            "paid_at": (now - timedelta(hours=1)).isoformat(timespec="seconds"),
        }
        for n, order_id in enumerate(ids)
    )  # fmt: skip
    return ids


BEARER = {"Authorization": f"Bearer {REST_TOKEN}"}


def say(url: str, sender: str, text: str) -> str:
    body = {"sender": sender, "message": text}
    replies = requests.post(f"{url}/webhooks/rest/webhook", json=body, headers=BEARER, timeout=120)
    if not replies.ok:
        raise AssertionError(f"{url} answered {replies.status_code} to {sender}'s {text!r}: {replies.text[:200]}")
    return "\n".join(reply.get("text") or "" for reply in replies.json())


def user_texts(cluster, sender: str) -> list[str]:
    rows = cluster.postgres.query(
        "select data from events where sender_id = %s and type_name = 'user' order by id", (sender,)
    )
    return [json.loads(row[0])["text"] for row in rows]


def action_count(cluster, sender: str, action: str) -> int:
    rows = cluster.postgres.query(
        "select count(*) from events where sender_id = %s and action_name = %s", (sender, action)
    )
    return rows[0][0]


def run_in_threads(work: list[tuple], timeout: float) -> None:
    """Run each (function, *args) in its own thread; the first failure fails the test with
    its own message, and a thread still running after `timeout` fails it too."""
    failures: list[str] = []

    def guarded(function, *args) -> None:
        try:
            function(*args)
        except BaseException as error:
            failures.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=guarded, args=item) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    stuck = sum(thread.is_alive() for thread in threads)
    assert not failures, failures[0]
    assert not stuck, f"{stuck} threads still running after {timeout} s"


def test_concurrent_conversations_alternate_between_servers(cluster):
    orders = seed_orders(cluster, CONVERSATIONS, "820000000000")
    results: dict[str, list[str]] = {}
    senders = {order: f"scale-{uuid.uuid4().hex[:10]}" for order in orders}

    def conversation(index: int, order: str) -> None:
        sender, answers = senders[order], []
        for turn, text in enumerate(SCRIPT):
            if index % 2:  # odd conversations: through the load balancer, one client address
                url = cluster.nginx.url
            else:  # even ones: strictly alternating servers, turn by turn
                url = cluster.rasa_urls[(turn + index // 2) % 2]
            answers.append(say(url, sender, text or order))
        results[order] = answers

    run_in_threads([(conversation, i, order) for i, order in enumerate(orders)], timeout=600)

    store = cluster.order_store()
    for order in orders:
        answers = results[order]
        assert "sent your cancellation request" in answers[-1], answers
        assert len(store.cancellation_requests(order)) == 1
        sent = [text or order for text in SCRIPT]
        assert user_texts(cluster, senders[order]) == sent  # nothing lost, nothing twice
        assert action_count(cluster, senders[order], "action_confirm_offer") == 1
    # The requests are in PostgreSQL, where action servers on other hosts would see them.
    database = cluster.order_db.rsplit("/", 1)[1]
    rows = cluster.postgres.admin_in(
        database, "select count(*) from cancellation_requests where order_id = any(%s)", (orders,)
    )
    assert rows == [(CONVERSATIONS,)]
    assert not Path(cluster.env["ORDER_DB_PATH"]).exists()


def test_one_conversation_on_two_servers_at_once_is_serialised(cluster):
    """Two messages of one conversation reach both servers at the same moment, many times
    over: the lock store must serialise them so both land in the tracker store exactly once."""
    texts = ["hi", "are you a bot?"]
    senders = [f"scale-lock-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    answers: dict[tuple[str, int], str] = {}
    start = threading.Barrier(2 * len(senders))

    def send(sender: str, index: int) -> None:
        start.wait()
        answers[sender, index] = say(cluster.rasa_urls[index], sender, texts[index])

    run_in_threads([(send, s, i) for s in senders for i in range(2)], timeout=180)
    assert len(answers) == 2 * len(senders) and all(answers.values())
    for sender in senders:
        assert sorted(user_texts(cluster, sender)) == sorted(texts), sender


def test_lock_store_issues_unique_tickets_across_servers(cluster):
    """The lock store itself, as two servers see it: concurrent tickets never collide and
    the lock disappears only when the last holder leaves."""
    from addons.lock_store import AtomicRedisLockStore

    stores = [AtomicRedisLockStore(host="127.0.0.1", port=cluster.redis.port, db=0, key_prefix="t") for _ in range(2)]
    conversation = f"tickets-{uuid.uuid4().hex[:8]}"
    tickets: list[int] = []
    start = threading.Barrier(16)

    def take(store: AtomicRedisLockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket(conversation, 30))

    run_in_threads([(take, stores[i % 2]) for i in range(16)], timeout=60)
    assert sorted(tickets) == list(range(16))
    for number in tickets[:-1]:
        stores[number % 2].cleanup(conversation, number)
        assert stores[0].get_lock(conversation) is not None
    stores[1].cleanup(conversation, tickets[-1])
    assert stores[0].get_lock(conversation) is None


def test_a_handoff_holds_on_both_servers(cluster):
    """The pause is in the shared tracker store, the queue in the shared order database: a
    buyer waiting for a person gets no bot answer from either server, and is queued once."""
    from actions.demo_data import open_handoff_store

    sender = f"handoff-{uuid.uuid4().hex[:8]}"
    first, second = cluster.rasa_urls
    say(first, sender, "I want to cancel my order")
    assert "queue" in say(second, sender, "I want to talk to a person")
    assert say(first, sender, "hello? is anyone there?") == ""
    assert say(second, sender, "I want to talk to a person") == "", "no second entry, no bot answer"
    queue = open_handoff_store(cluster.order_db)
    assert [entry["conversation_id"] for entry in queue.queue()].count(sender) == 1
    assert user_texts(cluster, sender)[-2:] == ["hello? is anyone there?", "I want to talk to a person"]


def test_rasa_server_restart_between_turns(cluster):
    (order,) = seed_orders(cluster, 1, "830000000000")
    sender = f"scale-restart-{uuid.uuid4().hex[:8]}"
    first, second = cluster.rasa_urls
    assert "order number" in say(first, sender, "I want to cancel my order")
    assert "email" in say(first, sender, order)
    cluster.stop_rasa(0)
    try:
        assert "Why do you want to cancel" in say(second, sender, EMAIL)
    finally:
        cluster.start_rasa(0)
        cluster.wait_rasa(0)
    assert "Shall I send" in say(first, sender, "/reason_changed_mind")
    assert "sent your cancellation request" in say(first, sender, "yes")
    assert len(cluster.order_store().cancellation_requests(order)) == 1


def test_a_rasa_server_killed_mid_turn_gives_the_conversation_back_when_it_restarts(cluster):
    """A crash inside a turn leaves that turn's lock ticket in Redis. Without it given back,
    the buyer's next messages would wait up to Rasa's lock lifetime (60 s) on every server."""
    from addons.lock_store import AtomicRedisLockStore

    (order,) = seed_orders(cluster, 1, "835000000000")
    sender = f"scale-crash-{uuid.uuid4().hex[:8]}"
    first, second = cluster.rasa_urls
    assert "order number" in say(first, sender, "I want to cancel my order")
    locks = AtomicRedisLockStore(host="127.0.0.1", port=cluster.redis.port, db=0, key_prefix="orderassistant")
    # The action servers frozen: the next turn takes its lock ticket, then waits for the
    # order form's validation (PostgreSQL would stop it before the lock: the channel reads
    # the handoff state first).
    for action_server in cluster.actions:
        os.kill(action_server.pid, signal.SIGSTOP)
    turn = threading.Thread(target=lambda: suppress_errors(say, first, sender, order))
    turn.start()
    try:
        deadline = time.monotonic() + 10
        while locks.get_lock(sender) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert locks.get_lock(sender) is not None, "the turn never took its lock"
        cluster.rasa[0].kill()
        cluster.rasa[0].wait()
    finally:
        for action_server in cluster.actions:
            os.kill(action_server.pid, signal.SIGCONT)
        turn.join()
    assert locks.get_lock(sender) is not None  # the dead server's ticket is still there
    cluster.start_rasa(0)
    cluster.wait_rasa(0)
    assert locks.get_lock(sender) is None
    assert "email" in say(second, sender, order)
    assert "Why do you want to cancel" in say(second, sender, EMAIL)


def suppress_errors(function, *args) -> None:
    with suppress(requests.RequestException):
        function(*args)


def test_an_action_server_killed_mid_conversation(cluster):
    """A crashed action server: nginx passes the calls to the other one, the buyer notices
    nothing, and the request is recorded once."""
    (order,) = seed_orders(cluster, 1, "840000000000")
    sender = f"scale-actions-{uuid.uuid4().hex[:8]}"
    assert "order number" in say(cluster.rasa_urls[0], sender, "I want to cancel my order")
    kill_action_server(cluster, 0, restart=False)
    try:
        assert "email" in say(cluster.rasa_urls[1], sender, order)
        assert "Why do you want to cancel" in say(cluster.rasa_urls[0], sender, EMAIL)
        assert "Shall I send" in say(cluster.rasa_urls[1], sender, "/reason_changed_mind")
        assert "sent your cancellation request" in say(cluster.rasa_urls[0], sender, "yes")
    finally:
        start_action_server_again(cluster, 0)
    assert len(cluster.order_store().cancellation_requests(order)) == 1
    assert user_texts(cluster, sender) == ["I want to cancel my order", order, EMAIL, "/reason_changed_mind", "yes"]


def test_postgres_paused_during_a_turn(cluster):
    """PostgreSQL (conversations and orders) freezes for 3 s under a turn: the buyer gets the
    answer late, or "try again" and then the answer; the yes is recorded once, and the
    message is stored once for every normal answer."""
    (order,) = seed_orders(cluster, 1, "850000000000")
    sender = f"scale-pg-{uuid.uuid4().hex[:8]}"
    url = cluster.rasa_urls[0]
    for text in ("I want to cancel my order", order, EMAIL):
        say(url, sender, text)
    assert "Shall I send" in say(url, sender, "/reason_changed_mind")
    pause = threading.Thread(target=pause_postgres, args=(cluster, 3.0))
    pause.start()
    time.sleep(0.5)
    try:
        answer = say(cluster.rasa_urls[1], sender, "yes")
    finally:
        pause.join()
    stored = ["I want to cancel my order", order, EMAIL, "/reason_changed_mind", "yes"]
    if answer == TRY_AGAIN:
        answer = say(cluster.rasa_urls[1], sender, "yes")
        assert user_texts(cluster, sender) in (stored, [*stored, "yes"])
    else:
        assert user_texts(cluster, sender) == stored
    assert "sent your cancellation request" in answer
    assert len(cluster.order_store().cancellation_requests(order)) == 1


def test_redis_restart(cluster):
    sender = f"scale-redis-{uuid.uuid4().hex[:8]}"
    assert "order number" in say(cluster.rasa_urls[0], sender, "I want to cancel my order")
    cluster.redis.stop()
    try:
        assert say(cluster.rasa_urls[1], sender, "8100000000000002") == TRY_AGAIN
    finally:
        cluster.redis.start()
    answer = say(cluster.rasa_urls[1], sender, "8100000000000002")
    assert "email" in answer


def test_http_api_needs_the_token(cluster):
    url = f"{cluster.rasa_urls[0]}/conversations/anyone/tracker"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": AUTH_TOKEN}, timeout=30).status_code == 200


@pytest.mark.parametrize(
    "path,body,status",
    [
        ("/webhooks/rest/webhook", {"sender": "big", "message": "x" * 20000}, 413),
        ("/conversations/anyone/tracker", None, 404),
        ("/model/parse", {"text": "hi"}, 404),
        ("/health", None, 200),
    ],
)
def test_load_balancer_exposes_only_the_channels(cluster, path, body, status):
    if body is None:
        response = requests.get(f"{cluster.nginx.url}{path}", timeout=30)
    else:
        response = requests.post(f"{cluster.nginx.url}{path}", json=body, timeout=30)
    assert response.status_code == status


def test_edge_answers_429_to_a_flood_but_not_to_other_clients(cluster):
    """One client address floods the chat endpoint: nginx answers 429 once its burst is
    spent, while a buyer at another address (as the trusted proxy reports it) gets through."""
    url = f"{cluster.nginx.url}/webhooks/rest/"
    flooder, neighbour = {"X-Forwarded-For": "203.0.113.5", **BEARER}, {"X-Forwarded-For": "198.51.100.7", **BEARER}
    with requests.Session() as session:
        statuses = [session.get(url, headers=flooder, timeout=30).status_code for _ in range(300)]
        assert statuses.count(429) > 0, "a flood from one address was never refused"
        assert statuses[:60] == [200] * 60, "the first burst of a client must pass"
        assert session.get(url, headers=neighbour, timeout=30).status_code == 200
