"""Telegram, hardened.

- The webhook must carry the ``X-Telegram-Bot-Api-Secret-Token`` chosen when the webhook
  was registered; Rasa's own channel checks nothing and calls Telegram at start-up.
- A channel whose token or secret token is not set answers 503 instead of starting.
- The Bot API address can be changed (``api_url``) for a proxy or a test double.
- An update delivered again (same ``update_id``, same chat) is answered 200 and dropped.
  Telegram resends an update only when it got no 200 for it; the last 10,000 ids are kept
  per process, so behind a load balancer a resent update can still reach another server,
  and only when a first delivery failed.
- Message length is left to the guard (``MAX_MESSAGE_CHARS``): no silent truncation.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.types import Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    PlatformChannel,
    RecentDeliveries,
    channel_settings,
    configured_blueprint,
    missing_settings,
    not_configured_blueprint,
)
from channels.guard import OnNewMessage, answer_always

logger = logging.getLogger(__name__)


class MockableTelegramOutput(TelegramOutput):
    def __init__(self, access_token: str | None, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else None
        if server:
            super(TelegramOutput, self).__init__(access_token, server=server)
        else:
            super().__init__(access_token)


class SecureTelegramInput(PlatformChannel, TelegramInput):
    platform = "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = channel_settings(cls.platform, credentials)
        return cls(
            settings["access_token"],
            settings["verify"],
            settings["webhook_url"],
            secret_token=settings["secret_token"],
            api_url=settings["api_url"] or None,
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str | None = None,
        api_url: str | None = None,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url
        self.recent_updates = RecentDeliveries()

    def get_output_channel(self) -> TelegramOutput:
        """No webhook call at start-up: register it once, with the secret token (README)."""
        return MockableTelegramOutput(self.access_token, self.api_url)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        missing = missing_settings({"access_token": self.access_token, "secret_token": self.secret_token})
        if missing:
            return not_configured_blueprint(self.name(), missing)
        on_new_message = answer_always(on_new_message)
        blueprint = configured_blueprint("telegram_webhook")
        out_channel = self.get_output_channel()

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
            sender = None
            if update.callback_query:
                message, text = update.callback_query.message, update.callback_query.data
                sender = update.callback_query.from_user
            elif update.edited_message:
                message, text = update.edited_message, update.edited_message.text
            else:
                message = update.message
                text = message.text if message else None
            if sender is None and message is not None:
                sender = message.from_user
            if not message or not text:
                return response.text("success")
            if update.update_id is not None and not self.recent_updates.first_time((update.update_id, message.chat.id)):
                logger.info(f"telegram update {update.update_id} delivered again; dropped")
                return response.text("success")
            await on_new_message(
                UserMessage(
                    text,
                    out_channel,
                    str(message.chat.id),
                    input_channel=self.name(),
                    # The app's language: the answers' language until the buyer's own
                    # words say otherwise (addons/language_identifier.py).
                    metadata={"language_code": getattr(sender, "language_code", None)},
                )
            )
            return response.text("success")

        return blueprint
