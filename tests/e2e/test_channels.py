"""Messaging platforms: correctly and wrongly signed webhooks, replies captured on a local
mock of each platform's API (no network)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid

import pytest
import requests

from actions.languages import identify
from tests.e2e.conftest import CHANNEL_SECRETS

EMAIL = "alex.buyer@example.com"
# A message whose answer is told apart from the greeting's: it starts the cancel form.
IGNORED = "I want to cancel my order"
IGNORED_ANSWER = "order number"
GREETING = "cancel an order"


def wait_for_calls(stack, fragment: str, count: int = 1, timeout: float = 30) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        calls = stack.platforms.calls_to(fragment)
        if len(calls) >= count:
            return calls
        time.sleep(0.1)
    return stack.platforms.calls_to(fragment)


@pytest.fixture(autouse=True)
def clear_mock(stack):
    stack.platforms.clear()


# --- Telegram ----------------------------------------------------------------------------


def telegram_sender(chat_id: int, language_code: str | None = None) -> dict:
    sender = {"id": chat_id, "is_bot": False, "first_name": "Alex"}
    return sender | ({"language_code": language_code} if language_code else {})


def telegram_update(text: str, chat_id: int, language_code: str | None = None) -> dict:
    return {
        "update_id": uuid.uuid4().int % 10**9,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": telegram_sender(chat_id, language_code),
            "text": text,
        },
    }


def telegram_button_press(payload: str, chat_id: int, language_code: str | None = None) -> dict:
    """A tap on an inline keyboard button: Telegram sends its callback data, not text."""
    return {
        "update_id": uuid.uuid4().int % 10**9,
        "callback_query": {
            "id": str(uuid.uuid4().int % 10**12),
            "chat_instance": "1",
            "from": telegram_sender(chat_id, language_code),
            "data": payload,
            "message": {
                "message_id": 2,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "earlier bot message",
            },
        },
    }


def keyboard_of(body: dict) -> str:
    markup = body.get("reply_markup") or "{}"
    return json.dumps(json.loads(markup) if isinstance(markup, str) else markup, ensure_ascii=False)


def post_telegram(stack, update: dict, secret: str | None) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def test_telegram_with_the_secret_token_is_answered(stack):
    response = post_telegram(stack, telegram_update("hello", 4242), CHANNEL_SECRETS["TELEGRAM_SECRET_TOKEN"])
    assert response.status_code == 200
    calls = wait_for_calls(stack, "/sendMessage")
    token = CHANNEL_SECRETS["TELEGRAM_ACCESS_TOKEN"]
    assert calls and calls[0]["path"] == f"/bot{token}/sendMessage"
    body = calls[0]["body"]
    assert str(body["chat_id"]) == "4242" and "cancel an order" in body["text"]
    keyboard = json.loads(body["reply_markup"]) if isinstance(body["reply_markup"], str) else body["reply_markup"]
    assert "Cancel an order" in json.dumps(keyboard)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_telegram_without_the_secret_token_is_rejected(stack, secret):
    chat_id = uuid.uuid4().int % 10**9
    response = post_telegram(stack, telegram_update(IGNORED, chat_id), secret)
    assert response.status_code == 403
    # A correctly signed follow-up in the same chat: once its answer has arrived, anything
    # the rejected update caused would have been sent before it (one conversation at a time).
    follow_up = post_telegram(stack, telegram_update("hello", chat_id), CHANNEL_SECRETS["TELEGRAM_SECRET_TOKEN"])
    assert follow_up.status_code == 200
    calls = wait_for_calls(stack, "/sendMessage")
    assert calls, "the follow-up was not answered"
    assert {str(call["body"]["chat_id"]) for call in calls} == {str(chat_id)}
    assert GREETING in calls[0]["body"]["text"]  # the first message sent answers the follow-up
    assert not any(IGNORED_ANSWER in call["body"]["text"] for call in calls)


@pytest.mark.parametrize(
    ("update", "language"),
    [
        # A button pressed before the buyer typed anything: Rasa skips NLU for payloads,
        # so only the app's language can choose the answer's.
        (lambda chat: telegram_button_press("/greet", chat, "es"), "es"),
        # Too short to tell by its words: the app's language decides.
        (lambda chat: telegram_update("ok", chat, "pt-BR"), "pt"),
        # The buyer's words win over the app's language.
        (lambda chat: telegram_update("хочу отменить заказ", chat, "en"), "ru"),
    ],
    ids=["button-es", "short-pt", "words-over-app-ru"],
)
def test_telegram_answers_in_the_language_of_the_app_or_the_words(stack, update, language):
    chat_id = uuid.uuid4().int % 10**9
    response = post_telegram(stack, update(chat_id), CHANNEL_SECRETS["TELEGRAM_SECRET_TOKEN"])
    assert response.status_code == 200
    calls = wait_for_calls(stack, "/sendMessage")
    assert calls, "not answered"
    texts = [call["body"]["text"] for call in calls if str(call["body"]["chat_id"]) == str(chat_id)]
    assert texts and all(identify(text) == language for text in texts), texts
    keyboards = [keyboard_of(call["body"]) for call in calls if call["body"].get("reply_markup")]
    assert all("Cancel an order" not in keyboard for keyboard in keyboards), keyboards


# --- Slack -------------------------------------------------------------------------------


def slack_post(stack, payload: dict, secret: str, timestamp: int | None = None) -> requests.Response:
    body = json.dumps(payload)
    stamp = str(timestamp or int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    return requests.post(f"{stack.rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=60)


def slack_message(text: str, user: str = "U42", channel: str = "D42") -> dict:
    return {
        "token": "ignored",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:8]}",
        "event": {
            "type": "message",
            "channel_type": "im",
            "text": text,
            "user": user,
            "channel": channel,
            "ts": f"{time.time():.6f}",
        },
    }


def test_slack_signed_message_is_answered(stack):
    response = slack_post(stack, slack_message("hello"), CHANNEL_SECRETS["SLACK_SIGNING_SECRET"])
    assert response.status_code == 200
    calls = wait_for_calls(stack, "/slack/chat.postMessage")
    assert calls, stack.platforms.calls
    assert "cancel an order" in json.dumps(calls[0]["body"])


@pytest.mark.parametrize("secret,age", [("wrong-secret", 0), (CHANNEL_SECRETS["SLACK_SIGNING_SECRET"], 3600)])
def test_slack_badly_signed_or_replayed_message_is_rejected(stack, secret, age):
    user, channel = f"U{uuid.uuid4().hex[:8]}", f"D{uuid.uuid4().hex[:8]}"
    response = slack_post(stack, slack_message(IGNORED, user, channel), secret, int(time.time()) - age)
    assert response.status_code >= 400
    # A correctly signed follow-up from the same buyer: its answer comes after anything the
    # rejected message could have caused.
    follow_up = slack_post(stack, slack_message("hello", user, channel), CHANNEL_SECRETS["SLACK_SIGNING_SECRET"])
    assert follow_up.status_code == 200
    calls = wait_for_calls(stack, "/slack/chat.postMessage")
    assert calls, "the follow-up was not answered"
    assert [call["path"] for call in stack.platforms.calls_to("/slack/")] == ["/slack/chat.postMessage"] * len(calls)
    assert {call["body"]["channel"] for call in calls} == {channel}
    assert GREETING in json.dumps(calls[0]["body"])  # the first message sent answers the follow-up
    assert not any(IGNORED_ANSWER in json.dumps(call["body"]) for call in calls)


# --- Facebook Messenger ------------------------------------------------------------------


def facebook_post(stack, text: str, sender: str, secret: str, header: str = "X-Hub-Signature-256"):
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "1",
                    "time": 0,
                    "messaging": [
                        {
                            "sender": {"id": sender},
                            "recipient": {"id": "1"},
                            "timestamp": 0,
                            "message": {"mid": uuid.uuid4().hex, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()
    digest = hashlib.sha256 if header.endswith("256") else hashlib.sha1
    signature = f"{digest().name}=" + hmac.new(secret.encode(), body, digest).hexdigest()
    return requests.post(
        f"{stack.rasa_url}/webhooks/facebook/webhook",
        data=body,
        headers={"Content-Type": "application/json", header: signature},
        timeout=60,
    )


def facebook_texts(stack, sender: str) -> list[str]:
    texts = []
    for call in stack.platforms.calls_to("/fb/me/messages"):
        body = call["body"]
        if str(body.get("recipient", {}).get("id")) != sender:
            continue
        message = body.get("message", {})
        texts.append(message.get("text") or json.dumps(message))
    return texts


def facebook_say(stack, text: str, sender: str) -> str:
    """Everything the bot sent in answer. The webhook returns once the turn's Graph calls
    are made, so the answer is complete when the first of its messages is there."""
    before = len(facebook_texts(stack, sender))
    assert facebook_post(stack, text, sender, CHANNEL_SECRETS["FACEBOOK_APP_SECRET"]).status_code == 200
    deadline = time.time() + 30
    while time.time() < deadline and len(facebook_texts(stack, sender)) == before:
        time.sleep(0.1)
    return "\n".join(facebook_texts(stack, sender)[before:])


def latest_user_text(stack, sender: str) -> str:
    """What Rasa received as the buyer's last message (after any numbered choice was read)."""
    return [event["text"] for event in stack.tracker(sender)["events"] if event["event"] == "user"][-1]


def offer_in_tracker(stack, sender: str, buttons: list[dict], age: float = 0) -> None:
    """Puts a bot message with buttons into the conversation through Rasa's HTTP API: the
    Facebook channel never sends it, so only the tracker knows what it offered."""
    event = {"event": "bot", "text": "Pick one", "data": {"buttons": buttons}, "timestamp": time.time() - age}
    response = requests.post(f"{stack.rasa_url}/conversations/{sender}/tracker/events", json=[event], timeout=30)
    assert response.status_code == 200, response.text


def test_facebook_conversation_with_numbered_buttons(stack):
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    assert "order number" in facebook_say(stack, "I want to cancel my order", sender)
    assert "email" in facebook_say(stack, "8100000000000002", sender)
    reasons = facebook_say(stack, EMAIL, sender)
    assert "1. I changed my mind" in reasons and "7. The seller looks unreliable" in reasons
    assert "Reply with a number" in reasons
    advice = facebook_say(stack, "1", sender)  # the first option, typed as a number
    assert latest_user_text(stack, sender) == "/reason_changed_mind"
    assert "Bluetooth earbuds" in advice and "better than receiving an item you don't want" in advice
    assert "Yes, go ahead" in advice  # two short buttons stay real buttons


# Short titles, but four of them: Messenger would get them as a numbered list.
OFFER = [
    {"title": "Say hello", "payload": "/greet"},
    {"title": "Are you a bot?", "payload": "/bot_challenge"},
    {"title": "Thanks", "payload": "/thank"},
    {"title": "Bye", "payload": "/goodbye"},
]


def test_a_typed_number_is_read_from_the_conversation_tracker(stack):
    """The list is in the tracker only (this process never sent it): were the choice kept in
    the channel's process memory, as before, "2" would reach Rasa as "2"."""
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    offer_in_tracker(stack, sender, OFFER)
    answer = facebook_say(stack, "2", sender)
    assert latest_user_text(stack, sender) == "/bot_challenge"
    assert "virtual assistant" in answer
    # The bot has answered since: its new message offered nothing, so "4" is just "4".
    facebook_say(stack, "4", sender)
    assert latest_user_text(stack, sender) == "4"


@pytest.mark.parametrize("typed,age", [("2", 2 * 3600), ("5", 0), ("2 please", 0)])
def test_an_old_list_or_another_answer_passes_through(stack, typed, age):
    """A list sent more than an hour ago, a number it does not have, or more than a number."""
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    offer_in_tracker(stack, sender, OFFER, age=age)
    assert facebook_say(stack, typed, sender)
    assert latest_user_text(stack, sender) == typed


def test_slow_graph_api_does_not_hold_up_other_buyers(stack):
    """While a Messenger reply waits on the Graph API, a buyer on another channel is answered."""
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    stack.platforms.graph_open.clear()
    try:
        facebook_reply = threading.Thread(
            target=facebook_post, args=(stack, "hello", sender, CHANNEL_SECRETS["FACEBOOK_APP_SECRET"])
        )
        facebook_reply.start()
        assert stack.platforms.graph_waiting.acquire(timeout=30), "no Graph call was made"
        answer = requests.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"rest-{uuid.uuid4().hex[:8]}", "message": "hello"},
            timeout=20,
        )
        assert answer.status_code == 200 and answer.json()
        assert facebook_reply.is_alive()  # the Messenger reply is still waiting on the Graph API
    finally:
        stack.platforms.graph_open.set()
    facebook_reply.join(timeout=60)
    assert wait_for_calls(stack, "/fb/me/messages")


def test_facebook_sha1_signature_is_still_accepted(stack):
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    response = facebook_post(stack, "hello", sender, CHANNEL_SECRETS["FACEBOOK_APP_SECRET"], "X-Hub-Signature")
    assert response.status_code == 200
    wait_for_calls(stack, "/fb/me/messages")
    assert GREETING in "\n".join(facebook_texts(stack, sender))


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_facebook_badly_signed_message_is_rejected(stack, secret):
    sender = f"fb-{uuid.uuid4().hex[:8]}"
    assert facebook_post(stack, IGNORED, sender, secret).status_code == 403
    # A correctly signed follow-up from the same buyer: its answer comes after anything the
    # rejected message could have caused.
    assert GREETING in facebook_say(stack, "hello", sender), "the follow-up was not answered"
    texts = facebook_texts(stack, sender)
    assert GREETING in texts[0]  # the first message sent answers the follow-up
    assert not any(IGNORED_ANSWER in text for text in texts)
    assert latest_user_text(stack, sender) == "hello"


def test_facebook_webhook_verification(stack):
    url = f"{stack.rasa_url}/webhooks/facebook/webhook"
    good = {"hub.verify_token": CHANNEL_SECRETS["FACEBOOK_VERIFY_TOKEN"], "hub.challenge": "12345"}
    assert requests.get(url, params=good, timeout=10).text == "12345"
    bad = {"hub.verify_token": "nope", "hub.challenge": "12345"}
    assert requests.get(url, params=bad, timeout=10).status_code == 403


# --- callback ----------------------------------------------------------------------------


def test_callback_channel_posts_replies_to_the_callback_url(stack):
    response = requests.post(
        f"{stack.rasa_url}/webhooks/callback/webhook",
        json={"sender": f"cb-{uuid.uuid4().hex[:8]}", "message": "hello"},
        timeout=60,
    )
    assert response.status_code == 200
    calls = wait_for_calls(stack, "/callback")
    assert calls and "cancel an order" in json.dumps(calls[0]["body"])
