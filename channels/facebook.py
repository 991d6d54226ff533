"""Facebook Messenger, hardened.

- ``X-Hub-Signature-256`` (or the older ``X-Hub-Signature``) is checked in constant time; a
  channel whose secrets are not set answers 503 (an empty app secret would make every
  signature forgeable).
- More than three buttons, or titles Messenger would cut, become numbered text, and a typed
  bare number is read back as the button it names. What the list offered is taken from the
  conversation's tracker (its latest bot message), not from process memory: any server
  process sharing the tracker store reads it the same, and nothing is left to prune.
- Replies are sent from a worker thread: fbmessenger's client blocks.
- The Graph API address can be changed (``api_url``) for a proxy or a test double.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from rasa.shared.core.events import Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    PlatformChannel,
    bare_number,
    channel_settings,
    chosen_payload,
    configured_blueprint,
    latest_bot_buttons,
    missing_settings,
    not_configured_blueprint,
    numbered_text,
)
from channels.guard import OnNewMessage, answer_always

if TYPE_CHECKING:
    from rasa.core.agent import Agent

logger = logging.getLogger(__name__)

MESSENGER_MAX_BUTTONS = 3
MESSENGER_MAX_TITLE = 20


# --- numbered buttons ------------------------------------------------------------------


def shown_numbered(buttons: list[dict[str, Any]]) -> bool:
    """Whether Messenger gets these buttons as a numbered list rather than as buttons."""
    too_many = len(buttons) > MESSENGER_MAX_BUTTONS
    too_long = any(len(str(button.get("title", ""))) > MESSENGER_MAX_TITLE for button in buttons)
    return too_many or too_long


def resolve_numbered_reply(text: str, events: Sequence[Event], now: float) -> str:
    """A bare number answering the numbered list of the conversation's latest bot message
    (sent within the hour) becomes that option's payload; anything else stays as typed.
    Buttons Messenger showed as real buttons carry no numbers, so a number does not pick one."""
    buttons = latest_bot_buttons(events, now)
    return chosen_payload(text, buttons) if shown_numbered(buttons) else text


async def conversation_events(agent: Agent | None, sender_id: str) -> list[Event]:
    """The conversation so far, from the agent's tracker store. Read under the conversation's
    lock, so a turn still in progress for this buyer (its numbered list already sent) is
    saved first. No agent, no conversation or a failing store: no events."""
    if agent is None or not agent.is_ready():
        return []
    try:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:
        logger.exception("could not read the conversation to resolve a numbered reply; taken as typed")
        return []
    return list(tracker.events) if tracker else []


# --- replies -----------------------------------------------------------------------------


class DeferredGraphClient:
    """Stands in for fbmessenger's client, whose calls block on `requests`: MessengerBot's
    calls are recorded, then made in order from a worker thread, so a slow Graph API never
    stalls the server's event loop (and every other buyer's conversation with it)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pending: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def send(self, *args: Any, **kwargs: Any) -> None:
        self.pending.append((self.client.send, args, kwargs))

    def send_action(self, *args: Any, **kwargs: Any) -> None:
        self.pending.append((self.client.send_action, args, kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def flush(self) -> None:
        calls, self.pending = self.pending, []
        if calls:
            await asyncio.to_thread(lambda: [call(*args, **kwargs) for call, args, kwargs in calls])


class NumberedMessengerBot(MessengerBot):
    def __init__(self, messenger_client: Any) -> None:
        super().__init__(DeferredGraphClient(messenger_client))

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa's one entry point for each bot message: the Graph calls go out after it."""
        await super().send_response(recipient_id, message)
        await self.messenger_client.flush()

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if shown_numbered(buttons):
            await self.send_text_message(recipient_id, numbered_text(text, buttons))
        else:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)


# --- webhook -----------------------------------------------------------------------------


class GraphMessenger(Messenger):
    def __init__(
        self,
        page_access_token: str,
        on_new_message: OnNewMessage,
        graph_url: str | None,
        agent: Agent | None = None,
    ) -> None:
        super().__init__(page_access_token, on_new_message)
        self.agent = agent
        if graph_url:
            self.client.graph_url = graph_url.rstrip("/")

    async def _handle_user_message(self, text: str, sender_id: str, metadata: dict[str, Any] | None) -> None:
        if bare_number(text) is not None:
            events = await conversation_events(self.agent, sender_id)
            text = resolve_numbered_reply(text, events, time.time())
        out_channel = NumberedMessengerBot(self.client)
        message = UserMessage(
            text,
            out_channel,
            sender_id,
            input_channel=self.name(),
            metadata=metadata,
        )
        try:
            await self.on_new_message(message)
        except Exception:
            logger.exception("could not handle a facebook message")


class SecureFacebookInput(PlatformChannel, FacebookInput):
    platform = "facebook"
    graph_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = channel_settings(cls.platform, credentials)
        channel = cls(settings["verify"], settings["secret"], settings["page-access-token"])
        channel.graph_url = settings["api_url"] or None
        return channel

    @staticmethod
    def signature_is_valid(secret: str, body: bytes, headers: Any) -> bool:
        for header, digest in (("X-Hub-Signature-256", hashlib.sha256), ("X-Hub-Signature", hashlib.sha1)):
            given = headers.get(header)
            if given:
                method, _, signature = given.partition("=")
                if method != digest().name:
                    return False
                expected = hmac.new(secret.encode(), body, digest).hexdigest()
                return hmac.compare_digest(expected, signature)
        return False

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        missing = missing_settings(
            {"verify": self.fb_verify, "secret": self.fb_secret, "page-access-token": self.fb_access_token}
        )
        if missing:
            return not_configured_blueprint(self.name(), missing)
        blueprint = configured_blueprint("fb_webhook")
        guarded = answer_always(on_new_message)

        @blueprint.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            given = request.args.get("hub.verify_token") or ""
            if hmac.compare_digest(given.encode(), self.fb_verify.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("failure, invalid token", status=403)

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.signature_is_valid(self.fb_secret, request.body, request.headers):
                logger.warning("facebook webhook call with a wrong signature rejected")
                return response.json({"error": "forbidden"}, status=403)
            try:
                payload = json.loads(request.body)
            except ValueError:
                return response.json({"error": "bad payload"}, status=400)
            # The Agent Rasa's server runs (rasa.core.run / rasa.server set app.ctx.agent).
            agent = getattr(request.app.ctx, "agent", None)
            messenger = GraphMessenger(self.fb_access_token, guarded, self.graph_url, agent)
            await messenger.handle(payload, self.get_metadata(request))
            return response.text("success")

        return blueprint
