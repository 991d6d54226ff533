"""Messaging platforms, hardened: Telegram, Slack and Facebook Messenger.

- A channel whose secrets are not set answers 503 instead of starting half-configured
  (an empty Facebook app secret would make every signature forgeable).
- Telegram: the webhook must carry the ``X-Telegram-Bot-Api-Secret-Token`` chosen when the
  webhook was registered; Rasa's own channel checks nothing and calls Telegram at start-up.
- Slack: Rasa's signing-secret check, and a signing secret is required.
- Facebook: ``X-Hub-Signature-256`` (or the older ``X-Hub-Signature``) checked in constant
  time; more than three buttons, or titles Messenger would cut, become numbered text, and a
  typed number is read back as the button it names.
- Facebook replies are sent from a worker thread: fbmessenger's client blocks.
- Each platform's API address can be changed (``api_url``) for a proxy or a test double.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels.guard import answer_always

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def not_configured_blueprint(name: str, missing: list[str]) -> Blueprint:
    """Routes that say the channel is off, so a webhook pointed here learns why."""
    logger.warning(f"{name} channel is not configured (missing: {', '.join(missing)}); it answers 503")
    blueprint = Blueprint(f"{name}_webhook", __name__)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "not configured", "missing": missing}, status=503)

    @blueprint.route("/webhook", methods=["GET", "POST"])
    async def webhook(_: Request) -> HTTPResponse:
        return response.json({"error": f"{name} is not configured"}, status=503)

    return blueprint


def missing_settings(settings: dict[str, Any]) -> list[str]:
    return [name for name, value in settings.items() if not value]


# --- numbered buttons ------------------------------------------------------------------

NUMBERED_TTL_SECONDS = 3600
_numbered_options: dict[str, tuple[float, list[str]]] = {}


def numbered_text(recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons as a numbered list, remembered so that "2" means the second one."""
    _numbered_options[recipient_id] = (time.time(), [str(b.get("payload", "")) for b in buttons])
    lines = [f"{index}. {button.get('title', '')}" for index, button in enumerate(buttons, start=1)]
    return text + "\n\n" + "\n".join(lines) + "\n\nReply with a number, or in your own words."


def resolve_numbered_reply(sender_id: str, text: str) -> str:
    """A bare number answering a numbered list becomes that option's payload."""
    remembered = _numbered_options.get(sender_id)
    if not remembered or not text.strip().isdigit():
        return text
    created, payloads = remembered
    if time.time() - created > NUMBERED_TTL_SECONDS:
        _numbered_options.pop(sender_id, None)
        return text
    index = int(text.strip()) - 1
    if 0 <= index < len(payloads):
        _numbered_options.pop(sender_id, None)
        return payloads[index]
    return text


# --- Telegram --------------------------------------------------------------------------


class MockableTelegramOutput(TelegramOutput):
    def __init__(self, access_token: str, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else None
        if server:
            super(TelegramOutput, self).__init__(access_token, server=server)
        else:
            super().__init__(access_token)


class SecureTelegramInput(TelegramInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token"),
            api_url=credentials.get("api_url") or None,
        )

    def __init__(self, access_token, verify, webhook_url, secret_token=None, api_url=None) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url

    def get_output_channel(self) -> TelegramOutput:
        """No webhook call at start-up: register it once, with the secret token (README)."""
        return MockableTelegramOutput(self.access_token, self.api_url)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        missing = missing_settings({"access_token": self.access_token, "secret_token": self.secret_token})
        if missing:
            return not_configured_blueprint("telegram", missing)
        on_new_message = answer_always(on_new_message)
        blueprint = Blueprint("telegram_webhook", __name__)
        out_channel = self.get_output_channel()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
            if not hmac.compare_digest(given.encode(), str(self.secret_token).encode()):
                logger.warning("telegram webhook call with a wrong secret token rejected")
                return response.json({"error": "forbidden"}, status=403)
            try:
                update = Update(**(request.json or {}))
            except Exception:
                return response.json({"error": "bad update"}, status=400)
            if update.callback_query:
                message, text = update.callback_query.message, update.callback_query.data
            elif update.edited_message:
                message, text = update.edited_message, update.edited_message.text
            else:
                message = update.message
                text = message.text if message else None
            if not message or not text:
                return response.text("success")
            await on_new_message(
                UserMessage(
                    text[:4000],
                    out_channel,
                    str(message.chat.id),
                    input_channel=self.name(),
                    metadata=self.get_metadata(request),
                )
            )
            return response.text("success")

        return blueprint


# --- Slack -----------------------------------------------------------------------------


class SecureSlackInput(SlackInput):
    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = dict(credentials or {})
        if not credentials.get("slack_token") or not credentials.get("slack_signing_secret"):
            # Rasa's SlackInput refuses to exist without a signing secret; an unset channel
            # must not stop the server, so it is built bare and only answers 503.
            channel = cls.__new__(cls)
            channel.slack_token = credentials.get("slack_token") or ""
            channel.slack_signing_secret = credentials.get("slack_signing_secret") or ""
            channel.slack_channel, channel.proxy, channel.api_url = None, None, None
            return channel
        credentials["slack_channel"] = credentials.get("slack_channel") or None
        channel = super().from_credentials(credentials)
        channel.api_url = credentials.get("api_url") or None
        return channel

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackBot:
        bot = SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
        if getattr(self, "api_url", None):
            bot.client = AsyncWebClient(self.slack_token, proxy=self.proxy, base_url=self.api_url)
        return bot

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        missing = missing_settings({"slack_token": self.slack_token, "slack_signing_secret": self.slack_signing_secret})
        if missing:
            return not_configured_blueprint("slack", missing)
        return super().blueprint(answer_always(on_new_message))


# --- Facebook Messenger -------------------------------------------------------------------

MESSENGER_MAX_BUTTONS = 3
MESSENGER_MAX_TITLE = 20


class DeferredGraphClient:
    """Stands in for fbmessenger's client, whose calls block on `requests`: MessengerBot's
    calls are recorded, then made in order from a worker thread, so a slow Graph API never
    stalls the server's event loop (and every other buyer's conversation with it)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pending: list[tuple[Callable[..., Any], tuple, dict]] = []

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
        too_many = len(buttons) > MESSENGER_MAX_BUTTONS
        too_long = any(len(str(b.get("title", ""))) > MESSENGER_MAX_TITLE for b in buttons)
        if too_many or too_long:
            await self.send_text_message(recipient_id, numbered_text(recipient_id, text, buttons))
        else:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)


class GraphMessenger(Messenger):
    def __init__(self, page_access_token: str, on_new_message: OnNewMessage, graph_url: str | None) -> None:
        super().__init__(page_access_token, on_new_message)
        if graph_url:
            self.client.graph_url = graph_url.rstrip("/")

    async def _handle_user_message(self, text: str, sender_id: str, metadata: dict | None) -> None:
        out_channel = NumberedMessengerBot(self.client)
        message = UserMessage(
            resolve_numbered_reply(sender_id, text)[:4000],
            out_channel,
            sender_id,
            input_channel=self.name(),
            metadata=metadata,
        )
        try:
            await self.on_new_message(message)
        except Exception:
            logger.exception("could not handle a facebook message")


class SecureFacebookInput(FacebookInput):
    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = cls(
            credentials.get("verify") or "",
            credentials.get("secret") or "",
            credentials.get("page-access-token") or "",
        )
        channel.graph_url = credentials.get("api_url") or None
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
            return not_configured_blueprint("facebook", missing)
        blueprint = Blueprint("fb_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

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
            messenger = GraphMessenger(self.fb_access_token, answer_always(on_new_message), self.graph_url)
            await messenger.handle(payload, self.get_metadata(request))
            return response.text("success")

        return blueprint
