"""Rasa's socket.io channel (the chat page), with sessions a browser cannot forge.

- Session ids are issued by the server: 128 random bits and an HMAC of them under a server
  secret (``SOCKETIO_SESSION_SECRET``; every Rasa server behind one load balancer needs the
  same one, or a reload that lands on another server starts a new chat). A browser can
  resume its own session after a reload by presenting the id it was given; an id it made
  up, or one that was not signed here, gets a new session instead.
- Each socket is bound to the session it was confirmed; every message is taken as that
  session's, whatever ``session_id`` the message claims. A message naming another session
  is dropped, so no socket can speak in someone else's conversation.
- Frames are capped (``MAX_FRAME_BYTES``): a chat message is small.
- It also fixes Rasa 3.6's ``session_request``, which called the coroutine ``enter_room``
  without ``await`` (upstream Rasa issue 13027), so that every reply was lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.guard import answer_always

logger = logging.getLogger(__name__)

SESSION_SECRET_ENV = "SOCKETIO_SESSION_SECRET"
MAX_FRAME_BYTES = 64 * 1024
AGENT_HOLDS_EVENT = "agent_holds_conversation"
_SESSION_ID = re.compile(r"^[0-9a-f]{64}$")


def session_secret() -> bytes:
    """The configured secret, or a random one for this process (sessions then survive a
    reload only on the same server)."""
    configured = os.environ.get(SESSION_SECRET_ENV, "")
    if len(configured) >= 32:
        return configured.encode()
    if configured:
        logger.warning(f"{SESSION_SECRET_ENV} is shorter than 32 characters: a random secret is used instead")
    return secrets.token_bytes(32)


def _signature(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_session_id(secret: bytes) -> str:
    nonce = secrets.token_hex(16)
    return nonce + _signature(secret, nonce)


def is_issued(secret: bytes, session_id: object) -> bool:
    """The id was issued by a server holding this secret."""
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        return False
    return hmac.compare_digest(_signature(secret, session_id[:32]), session_id[32:])


class ChatPageOutput(SocketIOOutput):
    """Rasa's socket.io output, which can also tell the page that a person holds the
    conversation (actions/handoff.py): the page then shows no "typing" dots for the bot."""

    async def waiting_for_agent(self, recipient_id: str) -> None:
        await self.sio.emit(AGENT_HOLDS_EVENT, {}, room=recipient_id)


class PersistentSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        handle = answer_always(on_new_message)
        blueprint = super().blueprint(handle)
        sio = self.sio
        assert sio is not None
        sio.eio.max_http_buffer_size = MAX_FRAME_BYTES
        secret = session_secret()

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if is_issued(secret, requested) else new_session_id(secret)
            await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            bound = (await sio.get_session(sid, namespace=self.namespace)).get("session_id")
            if not isinstance(data, dict) or not bound:
                logger.warning(f"socket {sid} sent a message before its session was confirmed: dropped")
                return
            claimed = data.get("session_id")
            if claimed is not None and claimed != bound:
                logger.warning(f"socket {sid} sent a message for another session: dropped")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            text = data.get("message")
            await handle(
                UserMessage(
                    text if isinstance(text, str) else "",
                    ChatPageOutput(sio, self.bot_message_evt),
                    bound if self.session_persistence else sid,
                    input_channel=self.name(),
                    metadata=metadata if isinstance(metadata, dict) else {},
                )
            )

        return blueprint
