"""What every channel does before and after Rasa handles a message.

- **An answer, always.** When the action server is down or a custom action fails, Rasa logs
  the error and the bot says nothing. Every channel of this project wraps its message
  handler with :func:`answer_always`: if handling a message sent no reply at all, the buyer
  is told to try again in a moment. Writes are idempotent, so trying again never does
  anything twice.
- **A size limit, before NLU.** A message longer than ``MAX_MESSAGE_CHARS`` characters
  (2000; the environment variable of that name changes it) never reaches Rasa: the buyer is
  told it is too long, through their own channel, and the conversation stays as it was.
  Rasa runs its NLU patterns over the whole text on the event loop, so one huge message
  would otherwise hold up every conversation on the server.
- **Short runs of symbols.** A run of more than ``MAX_SYMBOL_RUN`` (16) punctuation or
  symbol characters is cut to 16 before NLU. spaCy's tokenizer strips such characters off a
  word one at a time, searching the rest of the word each time: 2000 ``)`` took 0.4 s on
  the event loop, the same with the cut takes under a millisecond, and no buyer's words
  need more than 16 ``!`` in a row.
- **A bearer token for REST and callback callers** (``REST_CHANNEL_TOKEN``,
  ``CALLBACK_CHANNEL_TOKEN``): see :class:`BearerToken`.

Replies of the guard go through the channel's ``send_response``, the one path every channel
completes (Facebook's Graph calls, for one, are made there).
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import EndpointConfig
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.languages import (
    HINT_SLOT,
    LANGUAGE_SLOT,
    channel_hint,
    conversation_language,
    identify,
    with_payload_hint,
)
from actions.replies import render, say
from channels.common import channel_settings

logger = logging.getLogger(__name__)

TRY_AGAIN = render(say("channel.try_again"), "en")
MAX_MESSAGE_CHARS = 2000
MAX_MESSAGE_CHARS_ENV = "MAX_MESSAGE_CHARS"
MAX_SYMBOL_RUN = 16
SYMBOL_RUN = re.compile(rf"(?:[^\w\s]|_){{{MAX_SYMBOL_RUN + 1},}}")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def max_message_chars() -> int:
    """The documented limit, or the positive whole number in ``MAX_MESSAGE_CHARS``."""
    configured = os.environ.get(MAX_MESSAGE_CHARS_ENV, "").strip()
    if configured.isdecimal() and int(configured) > 0:
        return int(configured)
    if configured:
        logger.warning(f"{MAX_MESSAGE_CHARS_ENV}={configured!r} is not a positive number; using {MAX_MESSAGE_CHARS}")
    return MAX_MESSAGE_CHARS


def shorten_symbol_runs(text: str) -> str:
    """`text` with every run of punctuation and symbols cut to `MAX_SYMBOL_RUN` characters."""
    return SYMBOL_RUN.sub(lambda run: run.group()[:MAX_SYMBOL_RUN], text)


class CountingOutputChannel(OutputChannel):
    """Passes every reply on to the real channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return "counting"

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


async def tell(channel: OutputChannel, recipient_id: str, text: str) -> None:
    """A message of the guard's own, as Rasa would send a bot message; never raises."""
    try:
        await channel.send_response(recipient_id, {"text": text})
    except Exception:
        logger.exception("could not send the guard's message to the buyer")


async def stored_conversation(sender_id: str) -> Any:
    """The conversation as stored, or None (no Rasa app in this process, as in unit tests, or
    the store is down)."""
    try:
        agent = Sanic.get_app().ctx.agent
        return await agent.tracker_store.retrieve(sender_id)
    except Exception:
        return None


async def handed_to_a_person(sender_id: str) -> bool:
    """Whether the conversation is paused for an agent (actions/handoff.py): then the bot
    says nothing on purpose, and the buyer's message waits for the agent."""
    tracker = await stored_conversation(sender_id)
    return bool(tracker is not None and tracker.is_paused())


BARE_PAYLOAD = re.compile(r"^/\w+$")


def with_language_hint(text: Any, metadata: Any) -> Any:
    """A button's payload ("/cancel_order") has no words to tell the language by, and Rasa
    skips the NLU for it: the channel's hint rides along as the payload's entity
    (`/cancel_order{"language_hint": "es"}`), so a Spanish browser's first click is answered
    in Spanish (addons/language_identifier.py does the same for typed messages)."""
    hint = channel_hint(metadata)
    if hint and isinstance(text, str) and BARE_PAYLOAD.match(text):
        return with_payload_hint(text, hint)
    return text


async def language_for(message: UserMessage) -> str:
    """The language of the guard's own answers: the message's, when it says enough; else the
    conversation's; else the channel's hint; else English (actions/languages.py)."""
    text = message.text if isinstance(message.text, str) else ""
    if not text.startswith("/") and (language := identify(text[:500])):
        return language
    tracker = await stored_conversation(message.sender_id)
    slots = tracker.current_slot_values() if tracker is not None else {}
    return conversation_language({HINT_SLOT: channel_hint(message.metadata), LANGUAGE_SLOT: slots.get(LANGUAGE_SLOT)})


async def waiting_for_agent(channel: OutputChannel, recipient_id: str) -> None:
    """Tell a channel that can show it (the chat page) that the message went to a person."""
    notify = getattr(channel, "waiting_for_agent", None)
    if notify is None:
        return
    try:
        await notify(recipient_id)
    except Exception:
        logger.exception("could not tell the page that an agent holds the conversation")


def answer_always(on_new_message: OnNewMessage, limit: int | None = None) -> OnNewMessage:
    limit = limit or max_message_chars()

    async def handler(message: UserMessage) -> Any:
        if isinstance(message.text, str) and len(message.text) > limit:
            logger.warning(f"a message of {len(message.text)} characters was not passed to Rasa (limit {limit})")
            too_long = render(say("channel.too_long", limit=limit), await language_for(message))
            await tell(message.output_channel, message.sender_id, too_long)
            return None
        if isinstance(message.text, str):
            message.text = with_language_hint(shorten_symbol_runs(message.text), message.metadata)
        counter = CountingOutputChannel(message.output_channel)
        message.output_channel = counter
        try:
            return await on_new_message(message)
        except Exception:
            logger.exception("handling a message failed; the buyer is asked to try again")
        finally:
            if counter.sent == 0:
                if await handed_to_a_person(message.sender_id):
                    await waiting_for_agent(counter.inner, message.sender_id)
                else:
                    try_again = render(say("channel.try_again"), await language_for(message))
                    await tell(counter.inner, message.sender_id, try_again)
        return None

    return handler


class AnswersAlways:
    """Mixin for an input channel: its webhook handler goes through `answer_always`."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(answer_always(on_new_message))  # type: ignore[misc]


class BearerToken(AnswersAlways):
    """Mixin for the REST and callback channels, whose callers name any sender id they like.

    With a token (``token:`` in credentials.yml, else the environment) every call must carry
    ``Authorization: Bearer <token>``; anything else gets 401 and is not processed. Without
    one the channel is open to callers that reach the Rasa server directly (local
    development, the tests), but a call that came through a proxy (``X-Forwarded-For``, which
    the shipped nginx edge always sets) gets 401: forgetting the token closes the channel at
    the edge instead of opening it.
    """

    token: str | None = None

    def with_token(self, token: str) -> InputChannel:
        self.token = token or None
        return self  # type: ignore[return-value]

    def refusal(self, request: Request) -> str | None:
        if request.method == "OPTIONS":  # a browser's CORS preflight carries no credentials
            return None
        if not self.token:
            return "token required" if request.headers.get("X-Forwarded-For") else None
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return None
        return "unauthorized"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def authenticate(request: Request) -> HTTPResponse | None:
            refused = self.refusal(request)
            if refused:
                logger.warning(f"{request.path}: a call without a valid bearer token was refused")
                return response.json({"error": refused}, status=401, headers={"WWW-Authenticate": "Bearer"})
            return None

        return blueprint


class ReliableRestInput(BearerToken, RestInput):
    """Rasa's REST channel: answering even when the action server is down, size-limited,
    and behind ``REST_CHANNEL_TOKEN`` when it is set."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls().with_token(channel_settings("rest", credentials)["token"])


class ReliableCallbackInput(BearerToken, CallbackInput):
    """Rasa's callback channel: answering (at the callback URL) even when actions fail,
    size-limited, and behind ``CALLBACK_CHANNEL_TOKEN`` when it is set."""

    @classmethod
    def name(cls) -> str:
        return "callback"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = channel_settings("callback", credentials)
        endpoint = {key: value for key, value in (credentials or {}).items() if key != "token"}
        endpoint["url"] = settings["url"]
        return cls(EndpointConfig.from_dict(endpoint)).with_token(settings["token"])
