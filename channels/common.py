"""What the messaging platforms share: where a channel's settings come from, the answer of a
channel that is not configured, the routes every configured one starts from, the deliveries
already seen, and buttons as a numbered list.

A numbered list is read back from the conversation itself (its latest bot message), never
from process memory, so any server process that can read the tracker store can map "2" to
the second button.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from rasa.shared.core.events import BotUttered, Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.languages import DEFAULT, identify
from actions.replies import render, say

logger = logging.getLogger(__name__)

NUMBERED_TTL_SECONDS = 3600
MAX_CHOICE_DIGITS = 3
RECENT_DELIVERIES = 10_000


# Where each channel's settings come from: the key under the channel in credentials.yml, or,
# when the key is absent or empty there, the environment variable (credentials.yml itself
# names no variable, so plain `rasa run` starts without any of them set). Read-only: no
# module-level state that can change.
CHANNEL_SETTINGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "rest": {"token": "REST_CHANNEL_TOKEN"},
        "callback": {"url": "CALLBACK_URL", "token": "CALLBACK_CHANNEL_TOKEN"},
        "telegram": {
            "access_token": "TELEGRAM_ACCESS_TOKEN",
            "verify": "TELEGRAM_BOT_NAME",
            "webhook_url": "TELEGRAM_WEBHOOK_URL",
            "secret_token": "TELEGRAM_SECRET_TOKEN",
            "api_url": "TELEGRAM_API_URL",
        },
        "slack": {
            "slack_token": "SLACK_BOT_TOKEN",
            "slack_channel": "SLACK_CHANNEL",
            "slack_signing_secret": "SLACK_SIGNING_SECRET",
            "api_url": "SLACK_API_URL",
        },
        "facebook": {
            "verify": "FACEBOOK_VERIFY_TOKEN",
            "secret": "FACEBOOK_APP_SECRET",
            "page-access-token": "FACEBOOK_PAGE_ACCESS_TOKEN",
            "api_url": "FACEBOOK_GRAPH_URL",
        },
    }
)
# A variable's value when neither credentials.yml nor the environment gives one.
SETTING_DEFAULTS: Mapping[str, str] = MappingProxyType({"CALLBACK_URL": "http://localhost:5034/bot"})


def setting(credentials: dict[str, Any] | None, key: str, env_var: str, default: str = "") -> str:
    """`key` from the channel's credentials if given there (not empty), else the environment
    variable `env_var` if set (not empty), else `default`."""
    given = (credentials or {}).get(key)
    if given is not None and str(given).strip():
        return str(given)
    return os.environ.get(env_var) or default


def channel_settings(channel: str, credentials: dict[str, Any] | None) -> dict[str, str]:
    """Every setting of `channel` (a name in CHANNEL_SETTINGS), each by :func:`setting`;
    an empty value means the setting is missing."""
    return {
        key: setting(credentials, key, env_var, SETTING_DEFAULTS.get(env_var, ""))
        for key, env_var in CHANNEL_SETTINGS[channel].items()
    }


class PlatformChannel:
    """Mixin for an input channel: its name, and so its webhook's address
    (``/webhooks/<platform>/webhook``), as a class attribute."""

    platform: ClassVar[str]

    @classmethod
    def name(cls) -> str:
        return cls.platform


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


def configured_blueprint(blueprint_name: str) -> Blueprint:
    """A channel's blueprint with its health route; the channel adds its webhook."""
    blueprint = Blueprint(blueprint_name, __name__)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return blueprint


def missing_settings(settings: dict[str, Any]) -> list[str]:
    return [name for name, value in settings.items() if not value]


class RecentDeliveries:
    """The ids of the last `capacity` deliveries this process took, oldest forgotten first:
    a platform resending one (it retries when it got no 200 in time) is told apart."""

    def __init__(self, capacity: int = RECENT_DELIVERIES) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[Hashable, None] = OrderedDict()

    def first_time(self, delivery: Hashable) -> bool:
        """Whether `delivery` is new; it is remembered either way."""
        if delivery in self._seen:
            self._seen.move_to_end(delivery)
            return False
        self._seen[delivery] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


# --- numbered buttons ------------------------------------------------------------------


def numbered_text(text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons as a numbered list under the message, to be answered with a number; the footer
    in the message's own language (a whole sentence of ours always says enough to tell)."""
    lines = [f"{index}. {button.get('title', '')}" for index, button in enumerate(buttons, start=1)]
    footer = render(say("channel.numbered_footer"), identify(text) or DEFAULT)
    return text + "\n\n" + "\n".join(lines) + "\n\n" + footer


def bare_number(text: str) -> int | None:
    """The number a message consists of ("2", " 2 "), or None. Only short numbers count:
    a list is never that long, and an order number is not a choice."""
    stripped = text.strip()
    return int(stripped) if stripped.isdecimal() and len(stripped) <= MAX_CHOICE_DIGITS else None


def latest_bot_buttons(events: Sequence[Event], now: float, ttl: float = NUMBERED_TTL_SECONDS) -> list[dict[str, Any]]:
    """The buttons of the conversation's latest bot message, if it was sent less than `ttl`
    seconds before `now`; otherwise (no bot message, no buttons, too old) none."""
    for event in reversed(events):
        if isinstance(event, BotUttered):
            buttons = event.data.get("buttons") or []
            if now - event.timestamp > ttl or not isinstance(buttons, list):
                return []
            return [button for button in buttons if isinstance(button, dict)]
    return []


def chosen_payload(text: str, buttons: list[dict[str, Any]]) -> str:
    """A bare number naming one of `buttons` (counting from 1) becomes its payload; any
    other text, a number out of range or a button without a payload leaves `text` as it is."""
    number = bare_number(text)
    if number is None or not 1 <= number <= len(buttons):
        return text
    return str(buttons[number - 1].get("payload") or "") or text
