"""Never leave the buyer without an answer.

When the action server is down or a custom action fails, Rasa logs the error and the bot
says nothing. Every channel of this project wraps its message handler with
:func:`answer_always`: if handling a message sent no reply at all, the buyer is told to try
again in a moment. Writes are idempotent, so trying again never does anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from actions.replies import render, say

logger = logging.getLogger(__name__)

TRY_AGAIN = render(say("channel.try_again"))

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


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


def answer_always(on_new_message: OnNewMessage) -> OnNewMessage:
    async def handler(message: UserMessage) -> Any:
        counter = CountingOutputChannel(message.output_channel)
        message.output_channel = counter
        try:
            return await on_new_message(message)
        except Exception:
            logger.exception("handling a message failed; the buyer is asked to try again")
        finally:
            if counter.sent == 0:
                try:
                    await counter.inner.send_text_message(message.sender_id, TRY_AGAIN)
                except Exception:
                    logger.exception("could not even send the try-again message")
        return None

    return handler


class AnswersAlways:
    """Mixin for an input channel: its webhook handler goes through `answer_always`."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(answer_always(on_new_message))  # type: ignore[misc]


class ReliableRestInput(AnswersAlways, RestInput):
    """Rasa's REST channel, answering even when the action server is down."""

    @classmethod
    def name(cls) -> str:
        return "rest"


class ReliableCallbackInput(AnswersAlways, CallbackInput):
    """Rasa's callback channel, answering (at the callback URL) even when actions fail."""

    @classmethod
    def name(cls) -> str:
        return "callback"
