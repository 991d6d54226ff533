"""Faults: the action server dies mid-conversation and comes back."""

from __future__ import annotations

import uuid

import pytest
import requests

from channels.guard import TRY_AGAIN
from tests.e2e.conftest import MODEL
from tests.support.stack import running_stack


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("faults")
    with running_stack(MODEL, work, {"ORDER_DB_PATH": str(work / "orders.db")}) as stack:
        yield stack


def say(stack, sender: str, text: str) -> str:
    replies = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    ).json()
    return "\n".join(reply.get("text") or "" for reply in replies)


def test_action_server_down_gets_a_clear_answer_and_the_conversation_recovers(own_stack):
    """The form's turn fails while the action server is down (Rasa drops that action's
    events; the form stays active and still asks for the order number). Once it is back,
    the buyer types the number once more and is asked for the email: one retry, not two."""
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    assert "order number" in say(own_stack, sender, "I want to cancel my order")
    own_stack.stop_actions()
    try:
        assert say(own_stack, sender, "8100000000000002") == TRY_AGAIN
        assert say(own_stack, sender, "hello?") != ""
    finally:
        own_stack.start_actions()
    assert "email" in say(own_stack, sender, "8100000000000002")
    assert "Why do you want to cancel" in say(own_stack, sender, "alex.buyer@example.com")


def test_locked_database_gets_a_clear_answer_and_nothing_half_written(own_stack):
    import sqlite3

    from actions.store import OrderStore

    db_path = own_stack.env["ORDER_DB_PATH"]
    sender = f"locked-{uuid.uuid4().hex[:8]}"
    say(own_stack, sender, "I want to cancel my order")
    say(own_stack, sender, "8100000000000012")
    say(own_stack, sender, "alex.buyer@example.com")
    assert "Shall I send the cancellation request" in say(own_stack, sender, "/reason_changed_mind")
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        assert "nothing was changed" in say(own_stack, sender, "yes")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert OrderStore(db_path).cancellation_requests("8100000000000012") == []
    assert "sent your cancellation request" in say(own_stack, sender, "yes")
    assert len(OrderStore(db_path).cancellation_requests("8100000000000012")) == 1
