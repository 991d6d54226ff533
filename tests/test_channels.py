"""Channel helpers without a server: signatures, numbered buttons, unconfigured channels."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered

from actions.replies import render, say
from channels import common, facebook, guard, slack, socketio, telegram
from channels.common import NUMBERED_TTL_SECONDS, numbered_text
from channels.facebook import (
    NumberedMessengerBot,
    SecureFacebookInput,
    resolve_numbered_reply,
    shown_numbered,
)
from channels.slack import SecureSlackInput
from channels.telegram import SecureTelegramInput

BODY = b'{"object": "page"}'


def sign(secret: str, digest) -> str:
    return f"{digest().name}=" + hmac.new(secret.encode(), BODY, digest).hexdigest()


@pytest.mark.parametrize(
    "headers,valid",
    [
        ({"X-Hub-Signature-256": sign("s3cret", hashlib.sha256)}, True),
        ({"X-Hub-Signature": sign("s3cret", hashlib.sha1)}, True),
        ({"X-Hub-Signature-256": sign("wrong", hashlib.sha256)}, False),
        ({"X-Hub-Signature-256": sign("s3cret", hashlib.sha1)}, False),  # method mismatch
        ({"X-Hub-Signature-256": "md5=" + hashlib.md5(BODY).hexdigest()}, False),
        ({"X-Hub-Signature-256": "garbage"}, False),
        ({}, False),
    ],
)
def test_facebook_signature(headers, valid):
    assert SecureFacebookInput.signature_is_valid("s3cret", BODY, headers) is valid


NOW = 1_700_000_000.0
REASONS = [{"title": f"Option {n}", "payload": f"/intent_{n}"} for n in range(1, 8)]


def conversation(*bot_messages: BotUttered, user_last: str | None = None) -> list[Event]:
    """A conversation's events: a greeting turn, then the given bot messages."""
    events: list[Event] = [
        ActionExecuted("action_listen", timestamp=NOW - 60),
        UserUttered("hello", timestamp=NOW - 50),
        *bot_messages,
        ActionExecuted("action_listen", timestamp=NOW - 5),
    ]
    if user_last is not None:
        events.append(UserUttered(user_last, timestamp=NOW - 1))
    return events


def asked(buttons: list[dict], age: float = 10, text: str = "Pick one") -> BotUttered:
    return BotUttered(text, {"buttons": buttons}, timestamp=NOW - age)


def test_numbered_text_lists_every_button():
    text = numbered_text("Pick one", REASONS)
    assert text.startswith("Pick one") and "1. Option 1" in text and "7. Option 7" in text
    assert text.endswith("Reply with a number, or in your own words.")


@pytest.mark.parametrize(
    "typed,resolved",
    [
        ("3", "/intent_3"),
        (" 3 ", "/intent_3"),
        ("1", "/intent_1"),
        ("7", "/intent_7"),
        ("8", "8"),  # out of range stays text
        ("0", "0"),
        ("-1", "-1"),
        ("3.", "3."),
        ("3 please", "3 please"),
        ("the third", "the third"),
        ("8100000000000002", "8100000000000002"),  # an order number is not a choice
        ("²", "²"),  # a digit int() cannot read
    ],
)
def test_a_bare_number_names_a_button_of_the_latest_numbered_list(typed, resolved):
    assert resolve_numbered_reply(typed, conversation(asked(REASONS)), NOW) == resolved


def test_the_numbers_are_those_of_the_latest_bot_message():
    earlier = asked([{"title": f"Old {n}", "payload": f"/old_{n}"} for n in range(1, 6)], age=30)
    assert resolve_numbered_reply("2", conversation(earlier, asked(REASONS)), NOW) == "/intent_2"
    # The latest bot message has no buttons: the earlier list is no longer on screen.
    plain = BotUttered("Thanks!", timestamp=NOW - 10)
    assert resolve_numbered_reply("2", conversation(asked(REASONS, age=30), plain), NOW) == "2"


def test_a_list_already_answered_is_not_read_again():
    """Once answered, the bot has spoken again: its new message decides."""
    events = conversation(asked(REASONS, age=40), user_last="/intent_3")
    events.append(BotUttered("Noted, you changed your mind.", timestamp=NOW))
    assert resolve_numbered_reply("3", events, NOW + 1) == "3"


def test_no_conversation_or_no_bot_message_leaves_the_number():
    assert resolve_numbered_reply("2", [], NOW) == "2"
    assert resolve_numbered_reply("2", conversation(), NOW) == "2"


def test_numbered_options_expire_after_an_hour():
    events = conversation(asked(REASONS, age=0))
    assert resolve_numbered_reply("1", events, NOW + NUMBERED_TTL_SECONDS) == "/intent_1"
    assert resolve_numbered_reply("1", events, NOW + NUMBERED_TTL_SECONDS + 1) == "1"


def test_real_buttons_are_not_picked_by_number():
    """Up to three short buttons reach Messenger as buttons, without numbers."""
    yes_no = [{"title": "Yes, go ahead", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert not shown_numbered(yes_no)
    assert resolve_numbered_reply("1", conversation(asked(yes_no)), NOW) == "1"
    long_title = [{"title": "The seller doesn't answer my messages", "payload": "/reason_seller"}]
    assert shown_numbered(long_title)
    assert resolve_numbered_reply("1", conversation(asked(long_title)), NOW) == "/reason_seller"


def test_a_button_without_a_payload_leaves_the_number():
    buttons = [*REASONS[:3], {"title": "Help page", "url": "https://example.com"}]
    assert resolve_numbered_reply("4", conversation(asked(buttons)), NOW) == "4"
    assert resolve_numbered_reply("3", conversation(asked(buttons)), NOW) == "/intent_3"


@pytest.mark.parametrize("module", [common, facebook, guard, slack, socketio, telegram])
def test_channels_keep_no_conversation_state_in_process_memory(module: ModuleType):
    """What a buyer was offered lives in the tracker store: no module-level dict, list or set
    that a second server process would not share and nothing would ever prune."""
    containers = {
        name: type(value).__name__
        for name, value in vars(module).items()
        if not name.startswith("__") and isinstance(value, dict | list | set)
    }
    assert containers == {}


def test_channel_modules_stay_small():
    for path in Path(common.__file__).parent.glob("*.py"):
        assert len(path.read_text().splitlines()) < 400, path


class RecordingGraphClient:
    """fbmessenger's client, recording instead of calling the Graph API."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, payload: dict, recipient_id: str, *args, **kwargs) -> None:
        self.sent.append(payload)

    def send_action(self, *args, **kwargs) -> None:
        pass


@pytest.mark.parametrize("count,numbered", [(7, True), (2, False)])
def test_messenger_gets_a_numbered_list_or_real_buttons(count, numbered):
    client = RecordingGraphClient()
    bot = NumberedMessengerBot(client)
    message = {"text": "Pick one", "buttons": REASONS[:count]}
    asyncio.run(bot.send_response("buyer-1", message))
    if numbered:  # as text, one Messenger message per paragraph
        assert "\n\n".join(sent["text"] for sent in client.sent) == numbered_text("Pick one", REASONS[:count])
    else:
        [sent] = client.sent
        assert [button["title"] for button in sent["attachment"]["payload"]["buttons"]] == ["Option 1", "Option 2"]


class StubTrackerStore:
    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.retrieved: list[str] = []

    async def retrieve(self, sender_id: str):
        from rasa.shared.core.trackers import DialogueStateTracker

        self.retrieved.append(sender_id)
        return DialogueStateTracker.from_events(sender_id, self.events)


class StubAgent:
    def __init__(self, events: list[Event]) -> None:
        from rasa.core.lock_store import InMemoryLockStore

        self.tracker_store = StubTrackerStore(events)
        self.lock_store = InMemoryLockStore()

    def is_ready(self) -> bool:
        return True


def handled_text(agent: StubAgent | None, typed: str) -> str:
    """What the Facebook channel hands Rasa when the buyer types `typed`."""
    received: list[str] = []

    async def on_new_message(message) -> None:
        received.append(message.text)

    messenger = facebook.GraphMessenger("page-token", on_new_message, None, cast(Any, agent))
    asyncio.run(messenger._handle_user_message(typed, "fb-buyer", None))
    return received[0]


def test_facebook_reads_the_numbered_list_from_the_tracker_store():
    agent = StubAgent(conversation(BotUttered("Pick one", {"buttons": REASONS}, timestamp=time.time())))
    assert handled_text(agent, "2") == "/intent_2"
    assert agent.tracker_store.retrieved == ["fb-buyer"]
    assert handled_text(agent, "I changed my mind") == "I changed my mind"
    assert agent.tracker_store.retrieved == ["fb-buyer"]  # only a bare number needs the tracker
    assert handled_text(None, "2") == "2"  # no agent loaded yet: taken as typed


@pytest.mark.parametrize(
    "channel",
    [
        SecureTelegramInput.from_credentials({"access_token": "", "secret_token": ""}),
        SecureSlackInput.from_credentials({"slack_token": "", "slack_signing_secret": ""}),
        SecureFacebookInput.from_credentials({"verify": "v", "secret": "", "page-access-token": "t"}),
    ],
)
def test_unconfigured_platform_answers_503(channel):
    blueprint = channel.blueprint(lambda message: asyncio.sleep(0))
    handlers = {route.uri: route.handler for route in blueprint._future_routes}
    response = asyncio.run(handlers["/webhook"](None))
    assert response.status == 503 and b"not configured" in response.body


def test_socketio_session_ids_are_issued_by_the_server():
    secret = b"s" * 32
    issued = socketio.new_session_id(secret)
    assert socketio.is_issued(secret, issued) and not socketio.is_issued(b"t" * 32, issued)
    for made_up in ("3f2a9c0d1e2b4c5d", "a" * 64, "../../etc", "<script>", None):
        assert not socketio.is_issued(secret, made_up)


class Collecting:
    """A stand-in output channel that keeps what it is sent."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_response(self, recipient_id, message) -> None:
        self.texts.append(message.get("text"))

    async def send_text_message(self, recipient_id, text, **kwargs) -> None:
        self.texts.append(text)


def run_guarded(handler) -> list[str]:
    from rasa.core.channels.channel import UserMessage

    from channels.guard import answer_always

    out = Collecting()
    asyncio.run(answer_always(handler)(UserMessage("hi", out, "buyer-1")))
    return out.texts


def test_guard_passes_replies_through():
    async def replies(message):
        await message.output_channel.send_response(message.sender_id, {"text": "Hello!"})

    assert run_guarded(replies) == ["Hello!"]


@pytest.mark.parametrize("failure", ["silent", "raises"])
def test_guard_answers_when_the_bot_would_be_silent(failure):
    from channels.guard import TRY_AGAIN

    async def broken(message):
        if failure == "raises":
            raise ConnectionError("action server down")

    assert run_guarded(broken) == [TRY_AGAIN]


# --- the size limit and the guard's own messages (issue 12) -----------------------------


def test_a_message_over_the_limit_never_reaches_rasa():
    from rasa.core.channels.channel import UserMessage

    from channels.guard import MAX_MESSAGE_CHARS, answer_always

    handled: list[str] = []

    async def rasa(message):
        handled.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "Hello!"})

    out = Collecting()
    asyncio.run(answer_always(rasa)(UserMessage("a" * (MAX_MESSAGE_CHARS + 1), out, "buyer-1")))
    assert handled == [] and out.texts == [render(say("channel.too_long", limit=MAX_MESSAGE_CHARS))]
    asyncio.run(answer_always(rasa)(UserMessage("a" * MAX_MESSAGE_CHARS, out, "buyer-1")))
    assert len(handled) == 1 and out.texts[-1] == "Hello!"  # exactly the limit passes


@pytest.mark.parametrize("configured,limit", [("500", 500), ("", 2000), ("lots", 2000), ("0", 2000), ("-5", 2000)])
def test_the_limit_comes_from_the_environment(monkeypatch, configured, limit):
    from channels.guard import max_message_chars

    monkeypatch.setenv("MAX_MESSAGE_CHARS", configured)
    assert max_message_chars() == limit


@pytest.mark.parametrize("text", ["hi", "a" * 5000])
def test_the_guards_messages_reach_messenger(text):
    """Its "try again" (the action server down) and "too long" go out to the Graph API, not
    into the queue of calls that only a bot message's send_response flushes."""
    from rasa.core.channels.channel import UserMessage

    from channels.guard import TRY_AGAIN, answer_always

    async def broken(message):
        raise ConnectionError("action server down")

    client = RecordingGraphClient()
    asyncio.run(answer_always(broken)(UserMessage(text, NumberedMessengerBot(client), "fb-buyer")))
    expected = TRY_AGAIN if text == "hi" else render(say("channel.too_long", limit=2000))
    assert [sent["text"] for sent in client.sent] == [expected]


@pytest.mark.parametrize(
    "typed,seen",
    [
        ("hi!!!", "hi!!!"),
        ("!" * 40, "!" * 16),
        ("a" + ")" * 30 + "b", "a" + ")" * 16 + "b"),
        ("=" * 16 + " " + "=" * 16, "=" * 16 + " " + "=" * 16),
        ('/affirm{"order_id":"8100000000000002"}', '/affirm{"order_id":"8100000000000002"}'),
        ("alex.buyer@example.com", "alex.buyer@example.com"),
    ],
)
def test_runs_of_symbols_are_cut_before_nlu(typed, seen):
    """spaCy's tokenizer strips them one at a time, searching the rest of the word each time."""
    from rasa.core.channels.channel import UserMessage

    handled: list[str] = []

    async def rasa(message):
        handled.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})

    asyncio.run(guard.answer_always(rasa)(UserMessage(typed, Collecting(), "buyer-1")))
    assert handled == [seen]
