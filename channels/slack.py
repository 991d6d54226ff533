"""Slack, hardened: Rasa's signing-secret check, with a signing secret required.

- A channel whose bot token or signing secret is not set answers 503 instead of stopping
  the server; the Web API address can be changed (``api_url``) for a proxy or a test double.
- Every retry (``X-Slack-Retry-Num``) is answered 201 with ``X-Slack-No-Retry`` and
  dropped, whatever its reason (Rasa dropped only ``http_timeout`` ones): Slack resends an
  event whenever it did not see a 200 in time, also when this server did take the first
  delivery, and a second handling would answer, or act on a "yes", twice. The cost: an
  event whose first delivery never arrived at all (``connection_failed``) goes unanswered,
  and the buyer types it again.
- Rasa's clean-up of the text (the bot's own mentions out, ``<link|label>`` as its label)
  is redone with a pattern that cannot backtrack: Rasa's ``<https?://.*?|.*?>`` rescanned
  the rest of the text from every ``<http``, 4 s for 40 kB of links on the event loop,
  before any size check. Slack's ``<mailto:…|…>`` (an email the buyer typed) becomes the
  address too; Rasa's pattern wanted ``mailto://`` and left it as it was.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, cast

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from channels.common import PlatformChannel, channel_settings, missing_settings, not_configured_blueprint
from channels.guard import OnNewMessage, answer_always

logger = logging.getLogger(__name__)

RETRY_NUMBER, RETRY_REASON = "x-slack-retry-num", "x-slack-retry-reason"
# <https://example.com|example.com>, <mailto:a@b.com|a@b.com>: Slack escapes < > | in text.
SLACK_LINK = re.compile(r"<(?:mailto:|https?://)[^<>|\n]{0,2000}\|([^<>\n]{0,2000})>")


class SecureSlackInput(PlatformChannel, SlackInput):
    platform = "slack"
    api_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = {**(credentials or {}), **channel_settings(cls.platform, credentials)}
        if not credentials.get("slack_token") or not credentials.get("slack_signing_secret"):
            # Rasa's SlackInput refuses to exist without a signing secret; an unset channel
            # must not stop the server, so it is built bare and only answers 503.
            bare = cls.__new__(cls)
            bare.slack_token = credentials.get("slack_token") or ""
            bare.slack_signing_secret = credentials.get("slack_signing_secret") or ""
            bare.slack_channel, bare.proxy, bare.api_url = None, None, None
            return bare
        credentials["slack_channel"] = credentials.get("slack_channel") or None
        channel = cast(SecureSlackInput, super().from_credentials(credentials))
        channel.api_url = credentials.get("api_url") or None
        return channel

    @staticmethod
    def _sanitize_user_message(text: str, uids_to_remove: list[str] | None) -> str:
        for uid in uids_to_remove or []:
            mention = f"<@{re.escape(str(uid))}>"
            text = re.sub(rf"{mention}\s", "", text)
            text = re.sub(rf"\s{mention}", "", text)
            text = text.replace(f"<@{uid}>", " ")
        return SLACK_LINK.sub(r"\1", text).strip()

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackBot:
        bot = SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
        if self.api_url:
            bot.client = AsyncWebClient(self.slack_token, proxy=self.proxy, base_url=self.api_url)
        return bot

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        missing = missing_settings({"slack_token": self.slack_token, "slack_signing_secret": self.slack_signing_secret})
        if missing:
            return not_configured_blueprint(self.name(), missing)
        return super().blueprint(answer_always(on_new_message))

    async def process_message(
        self,
        request: Request,
        on_new_message: OnNewMessage,
        text: str,
        sender_id: str | None,
        metadata: dict[str, Any] | None,
    ) -> Any:
        retry = request.headers.get(RETRY_NUMBER)
        if retry:
            reason = request.headers.get(RETRY_REASON)
            logger.warning(f"slack retry #{retry} ({reason}) dropped: the first delivery is the one processed")
            return response.text("", status=HTTPStatus.CREATED, headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)
