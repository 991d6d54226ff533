"""Rasa's socket.io channel with working session persistence.

With the python-socketio that Rasa 3.6.21 installs, ``AsyncServer.enter_room`` is a
coroutine, and Rasa's ``session_request`` handler calls it without ``await`` (upstream Rasa
issue 13027): the socket never joins its session's room, and with
``session_persistence: true`` every bot reply, which is sent to that room, is silently lost.
This channel replaces that one handler; everything else is Rasa's.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from channels.guard import answer_always

logger = logging.getLogger(__name__)

# Session ids are chosen by the browser: accept only short, plain tokens.
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class PersistentSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(answer_always(on_new_message))
        sio = self.sio
        assert sio is not None

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and SESSION_ID.match(requested) else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug(f"socket {sid} joined session {session_id}")

        return blueprint
