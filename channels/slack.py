"""Slack, hardened: Rasa's signing-secret check, with a signing secret required.

A channel whose bot token or signing secret is not set answers 503 instead of stopping the
server; the Web API address can be changed (``api_url``) for a proxy or a test double.
"""

from __future__ import annotations

from typing import Any, cast

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint
from slack_sdk.web.async_client import AsyncWebClient

from channels.common import PlatformChannel, missing_settings, not_configured_blueprint
from channels.guard import OnNewMessage, answer_always


class SecureSlackInput(PlatformChannel, SlackInput):
    platform = "slack"
    api_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = dict(credentials or {})
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
