"""Handing a conversation to a person, end to end (issue 14): the real Rasa and action servers
with the handoff queue on (HANDOFF_QUEUE=on, as `make run` starts them) and a helpdesk webhook
on a local port. The rest of the e2e suite runs with the queue off, the default without a console."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from actions.demo_data import open_handoff_store
from actions.identity import sign_customer_token
from actions.webhook import signature
from tests.e2e.conftest import IDENTITY_SECRET, Conversation, Stack, stack_with
from tests.support.helpdesk import Helpdesk

WEBHOOK_SECRET = "e2e-helpdesk-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def helpdesk() -> Iterator[Helpdesk]:
    desk = Helpdesk([503])  # the first delivery fails: the action server must retry it
    yield desk
    desk.close()


@pytest.fixture(scope="module")
def queue_stack(tmp_path_factory, helpdesk) -> Iterator[Stack]:
    settings = {"HANDOFF_QUEUE": "on", "HANDOFF_WEBHOOK_URL": helpdesk.url, "HANDOFF_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with stack_with(tmp_path_factory.mktemp("queue-stack"), settings) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_demo_data(queue_stack) -> None:
    queue_stack.store().reset()


def signed_in(stack: Stack) -> Conversation:
    return Conversation(stack, metadata={"customer_token": sign_customer_token("C1", IDENTITY_SECRET)})


def queue(stack: Stack):
    return open_handoff_store(stack.db_path)


def test_asking_for_a_person_queues_the_conversation_and_the_bot_goes_quiet(queue_stack, helpdesk):
    chat = signed_in(queue_stack)
    chat.say("cancel 8100000000000002, I changed my mind")
    asked = time.monotonic()
    answer = chat.say("I want to talk to a real person")
    assert "number 1 in the queue" in answer and "goes to them, not to me" in answer
    entry = queue(queue_stack).live_handoff(chat.sender)
    queued_after = time.monotonic() - asked
    assert entry["trigger"] == "asked" and entry["state"] == "waiting"
    about = entry["summary"]
    assert about["customer"] == "Alex Buyer" and about["order"]["order_id"] == "8100000000000002"
    assert about["reason"] == "changed_mind" and about["bot_offered"] == "submit_request"
    assert any(line["text"] == "cancel 8100000000000002, I changed my mind" for line in about["transcript"])
    # While waiting, the bot says nothing (not even "try again"), and the buyer's words are kept.
    assert chat.say("hello? is anyone there?") == ""
    tracker = queue_stack.tracker(chat.sender)
    assert tracker["latest_message"]["text"] == "hello? is anyone there?"
    last_user = max(i for i, event in enumerate(tracker["events"]) if event["event"] == "user")
    after = [event["event"] for event in tracker["events"][last_user + 1 :]]
    assert set(after) <= {"slot"}, f"no bot turn after the buyer's message: {after}"  # only the language slot
    print(f"\nrequest to queue entry: {queued_after * 1000:.0f} ms")


def test_the_handoff_reaches_the_helpdesk_signed_after_a_retry(queue_stack, helpdesk):
    chat = signed_in(queue_stack)
    chat.say("talk to a person please")
    handoff_id = queue(queue_stack).live_handoff(chat.sender)["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        delivered = [d for d in queue(queue_stack).deliveries(handoff_id) if d["state"] == "delivered"]
        if delivered:
            break
        time.sleep(0.5)
    (delivery,) = queue(queue_stack).deliveries(handoff_id)
    assert delivery["state"] == "delivered" and delivery["attempts"] >= 2, delivery
    headers, body = next((h, b) for h, b in reversed(helpdesk.received) if json.loads(b)["id"] == handoff_id)
    timestamp = headers["X-Order-Assistant-Timestamp"]
    assert headers["X-Order-Assistant-Signature"] == signature(WEBHOOK_SECRET, timestamp, body)
    assert json.loads(body)["summary"]["customer"] == "Alex Buyer"


def test_misunderstood_twice_goes_to_a_person(queue_stack):
    # What the model finds unclear changes with every retraining; "/nlu_fallback" is Rasa's own
    # way of saying "not understood" (the unit tests read real messages: tests/test_handoff.py).
    chat = Conversation(queue_stack)
    assert "queue" not in chat.say("/nlu_fallback")  # unclear once: the bot asks which it means
    answer = chat.say("/nlu_fallback")
    assert "still don't understand" in answer and "queue" in answer
    assert queue(queue_stack).live_handoff(chat.sender)["trigger"] == "misunderstood"


def test_a_buyer_locked_out_by_failed_checks_is_queued_as_locked(queue_stack):
    chat = Conversation(queue_stack)
    chat.say("cancel order 8100000000000002")
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        chat.say(email)
    answer = chat.click("Talk to a person") if any(b["title"] == "Talk to a person" for b in chat.buttons) else ""
    answer = answer or chat.say("I want to talk to a human")
    assert "queue" in answer
    entry = queue(queue_stack).live_handoff(chat.sender)
    assert entry["trigger"] == "locked" and entry["summary"]["customer"] == "not verified"
    assert entry["summary"]["order"] is None, "an agent sees no order the buyer could not prove"


def test_the_agent_hands_back_and_the_bot_answers_again(queue_stack):
    chat = signed_in(queue_stack)
    chat.say("talk to a person")
    entry = queue(queue_stack).live_handoff(chat.sender)
    assert queue(queue_stack).claim(entry["id"], "alice", "Alice")
    events = f"{queue_stack.rasa_url}/conversations/{chat.sender}/tracker/events"
    requests.post(events, json=[{"event": "bot", "text": "Hi, Alice here.", "metadata": {"agent": "Alice"}}],
                  timeout=30).raise_for_status()  # fmt: skip
    assert chat.say("thanks Alice, please cancel 8100000000000002") == "", "the agent holds it: the bot is quiet"
    queue(queue_stack).end(entry["id"], "alice", __import__("actions.vocabulary").vocabulary.HandoffState.HANDED_BACK)
    back = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]  # as the console hands back
    requests.post(events, json=back, timeout=30).raise_for_status()
    assert "Phone case" in chat.say("where is order 8100000000000003"), "the bot answers again"


def test_ending_the_chat_while_waiting_leaves_the_queue_and_the_bot_answers_again(queue_stack):
    """The page's "End chat" sends /restart: Rasa lets it through while paused (it ignores a new session)."""
    chat = signed_in(queue_stack)
    chat.say("I want to talk to a person")
    assert queue(queue_stack).live_handoff(chat.sender) is not None
    chat.say("/restart")
    assert queue(queue_stack).live_handoff(chat.sender) is None
    assert not queue_stack.tracker(chat.sender)["paused"]
    assert "Phone case" in chat.say("where is order 8100000000000003")
