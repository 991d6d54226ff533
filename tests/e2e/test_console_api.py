"""The agent console's API against the real stack (issue 14): sign-in limits, the claim race,
and the agent's words reaching the buyer through Rasa's HTTP API, on the REST channel and on
Telegram (the Telegram API mock).

The handoffs are queued here directly in the order database, and the conversation is paused
through Rasa's API, as `action_human_handoff` does: these tests are about the console."""

from __future__ import annotations

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from actions.demo_data import open_handoff_store
from actions.replies import render, say
from actions.vocabulary import HandoffTrigger
from tests.e2e.conftest import CHANNEL_SECRETS

UPDATE_IDS = itertools.count(int(time.time()) * 1000)


def agent(console, username: str) -> requests.Session:
    """A signed-in agent's browser: the session cookie, the CSRF token and the Origin."""
    answer = requests.post(
        f"{console.url}/api/login",
        json={"username": username, "password": console.passwords[username]},
        headers={"Origin": console.url},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    browser = requests.Session()
    browser.cookies.update(answer.cookies)
    browser.headers.update({"Origin": console.url, "X-CSRF-Token": answer.json()["csrf"]})
    return browser


def queue(stack, conversation_id: str, channel: str) -> int:
    """What the bot does when the buyer asks for a person: pause the conversation, queue it."""
    paused = requests.post(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker/events", json=[{"event": "pause"}], timeout=30
    )
    assert paused.status_code == 200, paused.text
    summary: dict[str, Any] = {
        "trigger": "asked",
        "customer_id": None,
        "customer": "not verified",
        "order_id": None,
        "order": None,
        "reason": None,
        "transcript": [],
    }
    handoffs = open_handoff_store(stack.db_path)
    return handoffs.open_handoff(conversation_id, channel, HandoffTrigger.ASKED, summary).id


def events(stack, conversation_id: str) -> list[dict]:
    return stack.tracker(conversation_id)["events"]


def wait_for_text(stack, fragment: str, text: str, timeout: float = 30) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        calls = [call for call in stack.platforms.calls_to(fragment) if call["body"].get("text") == text]
        if calls:
            return calls
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never reached {fragment}: {stack.platforms.calls_to(fragment)}")


def test_five_wrong_passwords_then_429(console):
    def attempt(password: str) -> requests.Response:
        return requests.post(
            f"{console.url}/api/login",
            json={"username": "alice", "password": password},
            headers={"Origin": console.url},
            timeout=30,
        )

    assert [attempt("not-alices-password").status_code for _ in range(5)] == [401] * 5
    refused = attempt(console.passwords["alice"])
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    assert agent(console, "bob") is not None  # the limit is per agent name


def test_two_agents_claim_at_once_and_one_wins(stack, console, chat):
    chat.say("hello")
    handoff = queue(stack, chat.sender, "rest")
    alice, bob = agent(console, "alice"), agent(console, "bob")
    url = f"{console.url}/api/handoffs/{handoff}/claim"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda browser: browser.post(url, json={}, timeout=30), (alice, bob)))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    queue_now = alice.get(f"{console.url}/api/queue", timeout=30).json()["queue"]
    item = next(item for item in queue_now if item["id"] == handoff)
    assert item["state"] == "with_agent" and item["agent_name"] in console.names.values()
    joined = render(say("handoff.joined", agent=item["agent_name"]))
    assert [event["text"] for event in events(stack, chat.sender) if event["event"] == "bot"][-1] == joined


def test_the_holders_reply_is_a_bot_event_with_the_agent_and_hand_back_resumes(stack, console, chat):
    chat.say("hello")
    handoff = queue(stack, chat.sender, "rest")
    assert stack.tracker(chat.sender)["paused"] is True
    alice, bob = agent(console, "alice"), agent(console, "bob")
    base = f"{console.url}/api/handoffs/{handoff}"
    assert alice.post(f"{base}/claim", json={}, timeout=30).status_code == 200
    assert bob.post(f"{base}/reply", json={"text": "I am not the holder"}, timeout=30).status_code == 403

    reply = f"Hello, this is Alice. I'm looking at it now ({uuid.uuid4().hex[:6]})."
    assert alice.post(f"{base}/reply", json={"text": reply}, timeout=30).status_code == 200
    bot = [event for event in events(stack, chat.sender) if event["event"] == "bot"]
    assert bot[-1]["text"] == reply and bot[-1]["metadata"]["agent"] == "Alice Martin"
    assert not any(event["text"] == "I am not the holder" for event in bot)

    stack.send(chat.sender, "thanks, my order is 8100000000000002")  # the buyer answers: to the agent
    detail = alice.get(base, timeout=30).json()
    lines = [(line["who"], line["text"]) for line in detail["transcript"]]
    assert ("agent", reply) in lines and ("buyer", "thanks, my order is 8100000000000002") in lines

    assert alice.post(f"{base}/hand-back", json={}, timeout=30).status_code == 200
    after = events(stack, chat.sender)
    kinds = [event["event"] for event in after]
    last_pause = max(index for index, kind in enumerate(kinds) if kind == "pause")
    assert "resume" in kinds[last_pause:]
    assert [event["text"] for event in after if event["event"] == "bot"][-1] == render(
        say("handoff.handed_back", agent="Alice Martin")
    )
    assert stack.tracker(chat.sender)["paused"] is False
    assert alice.post(f"{base}/reply", json={"text": "late"}, timeout=30).status_code == 403


@pytest.fixture
def clear_mock(stack):
    stack.platforms.clear()


def test_on_telegram_the_agents_words_reach_the_telegram_api(stack, console, clear_mock):
    chat_id = uuid.uuid4().int % 10**9
    update = {
        "update_id": next(UPDATE_IDS),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Alex"},
            "text": "hello",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": CHANNEL_SECRETS["TELEGRAM_SECRET_TOKEN"]}
    answer = requests.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)
    assert answer.status_code == 200
    assert stack.tracker(str(chat_id))["latest_input_channel"] == "telegram"
    handoff = queue(stack, str(chat_id), "telegram")

    alice = agent(console, "alice")
    base = f"{console.url}/api/handoffs/{handoff}"
    assert alice.post(f"{base}/claim", json={}, timeout=30).status_code == 200
    joined = wait_for_text(stack, "/sendMessage", render(say("handoff.joined", agent="Alice Martin")))
    assert str(joined[0]["body"]["chat_id"]) == str(chat_id)

    reply = "Hi, Alice from support here. Which order is it about?"
    assert alice.post(f"{base}/reply", json={"text": reply}, timeout=30).status_code == 200
    sent = wait_for_text(stack, "/sendMessage", reply)
    assert str(sent[0]["body"]["chat_id"]) == str(chat_id)
    token = CHANNEL_SECRETS["TELEGRAM_ACCESS_TOKEN"]
    assert sent[0]["path"] == f"/bot{token}/sendMessage"

    assert alice.post(f"{base}/close", json={}, timeout=30).status_code == 200
    wait_for_text(stack, "/sendMessage", render(say("handoff.closed", agent="Alice Martin")))
