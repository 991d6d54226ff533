"""Channel helpers without a server: signatures, numbered buttons, unconfigured channels."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import pytest

from channels import platforms
from channels.platforms import (
    SecureFacebookInput,
    SecureSlackInput,
    SecureTelegramInput,
    numbered_text,
    resolve_numbered_reply,
)
from channels.socketio import SESSION_ID

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


def test_numbered_buttons_round_trip():
    buttons = [{"title": f"Option {n}", "payload": f"/intent_{n}"} for n in range(1, 8)]
    text = numbered_text("buyer-9", "Pick one", buttons)
    assert text.startswith("Pick one") and "1. Option 1" in text and "7. Option 7" in text
    assert resolve_numbered_reply("buyer-9", "8") == "8"  # out of range stays text
    assert resolve_numbered_reply("someone-else", "2") == "2"
    assert resolve_numbered_reply("buyer-9", " 3 ") == "/intent_3"
    assert resolve_numbered_reply("buyer-9", "3") == "3"  # used once, then forgotten


def test_numbered_options_expire(monkeypatch):
    numbered_text("buyer-10", "Pick", [{"title": "A", "payload": "/a"}])
    monkeypatch.setattr(platforms.time, "time", lambda: 10**12)
    assert resolve_numbered_reply("buyer-10", "1") == "1"


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


@pytest.mark.parametrize(
    "session_id,accepted",
    [
        ("3f2a9c0d1e2b4c5d", True),
        ("a" * 64, True),
        ("short", False),
        ("a" * 65, False),
        ("../../etc", False),
        ("<script>", False),
    ],
)
def test_socketio_session_ids_are_plain_tokens(session_id, accepted):
    assert bool(SESSION_ID.match(session_id)) is accepted


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
