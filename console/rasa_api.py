"""What the console asks of the Rasa server, through its HTTP API (``rasa run --enable-api``,
with ``--auth-token`` when ``RASA_API_TOKEN`` is set).

Messages to the buyer are bot events appended to the conversation with
``output_channel=latest`` and ``execute_side_effects=true``: Rasa sends them through the
channel the buyer last wrote on (the chat page's socket.io, Telegram, Slack, ...).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

TOKEN_ENV = "RASA_API_TOKEN"
TIMEOUT = aiohttp.ClientTimeout(total=15)
ATTEMPTS = 3


class RasaUnavailable(Exception):
    """The Rasa server did not take the call."""


class RasaApi:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=TIMEOUT)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, conversation_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{suffix}"

    def _params(self, **extra: str) -> dict[str, str]:
        return {**extra, **({"token": self.token} if self.token else {})}

    async def _call(self, method: str, url: str, params: dict[str, str], body: Any = None) -> Any:
        """A read is tried again on any failure; a write only when Rasa could not be reached at
        all (a write that timed out or failed half-way may have sent its message already)."""
        if self._session is None:
            await self.open()
        assert self._session is not None
        last = ""
        for attempt in range(ATTEMPTS):
            again = method == "GET"
            try:
                async with self._session.request(method, url, params=params, json=body) as answer:
                    if answer.status < 400:
                        return await answer.json(content_type=None)
                    if answer.status < 500:
                        raise RasaUnavailable(f"Rasa answered {answer.status} to {method} {url}")
                    last = f"Rasa answered {answer.status}"
            except aiohttp.ClientConnectorError as error:
                last, again = f"cannot reach Rasa: {error}", True
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                last = f"{type(error).__name__}: {error}"
            logger.warning("Rasa API %s %s failed (attempt %d): %s", method, url, attempt + 1, last)
            if not again or attempt + 1 == ATTEMPTS:
                break
            await asyncio.sleep(0.3 * (attempt + 1))
        raise RasaUnavailable(last)

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's events (all sessions)."""
        state = await self._call("GET", self._url(conversation_id, "tracker"), self._params(include_events="ALL"))
        events = state.get("events") if isinstance(state, dict) else None
        return [event for event in events or [] if isinstance(event, dict)]

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Append events; bot events among them go out to the buyer on their own channel."""
        params = self._params(output_channel="latest", execute_side_effects="true", include_events="NONE")
        await self._call("POST", self._url(conversation_id, "tracker/events"), params, events)
