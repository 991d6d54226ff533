"""What every action adapter shares: reading the conversation, calling the service off the
event loop, and showing catalogue messages with their buttons."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ConversationView
from actions.replies import Say, render, render_all, say
from actions.service import OrderService, get_service
from actions.vocabulary import Offer, Reason

T = TypeVar("T")

# Operators can point buyers to their own support line (README, "Configuration").
HUMAN_SUPPORT_HINT_ENV = "HUMAN_SUPPORT_HINT"


def view_of(tracker: Tracker) -> ConversationView:
    return ConversationView.of(tracker)


async def off_loop(work: Callable[[OrderService], T]) -> T:
    """Run ``work(service)`` in a worker thread: SQLite blocks, and a slow or locked file
    must never hold up the action server's event loop (and every other buyer with it)."""
    return await asyncio.to_thread(lambda: work(get_service()))


def button(title: Say, intent: str) -> dict[str, str]:
    return {"title": render(title), "payload": f"/{intent}"}


def yes_no_buttons() -> list[dict[str, str]]:
    return [button(say("button.yes"), "affirm"), button(say("button.no"), "deny")]


def seller_message_buttons() -> list[dict[str, str]]:
    """Yes, "Write my own", No: the buyer can replace the draft as well as approve it."""
    yes, no = yes_no_buttons()
    return [yes, button(say("button.write_own"), "write_seller_message"), no]


def offer_buttons(offer: Offer) -> list[dict[str, str]]:
    return seller_message_buttons() if offer is Offer.SEND_SELLER_MESSAGE else yes_no_buttons()


def talk_to_person_button() -> dict[str, str]:
    return button(say("button.talk_to_person"), "human_handoff")


def main_topic_buttons() -> list[dict[str, str]]:
    return [
        button(say("button.cancel_order"), "cancel_order"),
        button(say("button.where_is_order"), "check_order_status"),
        talk_to_person_button(),
    ]


def reason_button(reason: Reason) -> dict[str, str]:
    return button(say(f"reason.{reason.value}"), reason.intent)


def utter(dispatcher: CollectingDispatcher, *messages: Say, buttons: list[dict[str, Any]] | None = None) -> None:
    """Show the messages as one paragraph."""
    dispatcher.utter_message(text=render_all(messages), buttons=buttons or [])


def service_unavailable(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_service_unavailable")


def human_support_hint(about: Say | str = "") -> str:
    """Where a buyer reaches a person: the operator's own words, or AliExpress's help centre."""
    return os.environ.get(HUMAN_SUPPORT_HINT_ENV) or render(say("handoff.hint", about=about))
