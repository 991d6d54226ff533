"""Answers that do not need the order form: refunds, policy, a human, clarification.

Adapters only: the tracker in, slot events and catalogue messages out.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import guidance
from actions.adapter import (
    human_support_hint,
    main_topic_buttons,
    off_loop,
    reason_button,
    talk_to_person_button,
    utter,
    view_of,
)
from actions.conversation import ConversationView
from actions.replies import Say, render, say
from actions.store import StoreUnavailable
from actions.vocabulary import Reason

CLARIFY_MIN_CONFIDENCE = 0.05
CLARIFY_MAX_BUTTONS = 3


async def about_the_order(view: ConversationView, answer: str) -> tuple[Say, ...] | None:
    """The answer about the conversation's order once the buyer is verified; None when
    there is none or the store cannot be read (the general answer then fits)."""
    try:
        return await off_loop(lambda service: service.order_answer(view, answer))
    except StoreUnavailable:
        return None


class ActionAnswerRefund(Action):
    """Refund timing, about the buyer's order when we know it."""

    def name(self) -> str:
        return "action_answer_refund"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        messages = await about_the_order(view_of(tracker), "refund")
        utter(dispatcher, *(messages or guidance.refund_explanation(None)))
        return []


class ActionAnswerPolicy(Action):
    """Quote the seller's own policy when we know the order, the general rule otherwise."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        messages = await about_the_order(view_of(tracker), "policy")
        utter(dispatcher, *(messages or (say("policy.general"),)))
        return []


class ActionHumanHandoff(Action):
    """Hand over to a person and stop whatever form was running."""

    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id = view_of(tracker).order_id  # normalised: never the raw slot text
        about = say("handoff.about_order", order_id=order_id) if order_id else ""
        dispatcher.utter_message(text=render(say("handoff.passing", about=about)) + " " + human_support_hint())
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_offer", None)]


def closest_reasons(ranking: tuple[dict, ...]) -> list[Reason]:
    """The reasons among the likely intents, most likely first."""
    reasons: list[Reason] = []
    for candidate in ranking:
        if float(candidate.get("confidence") or 0) < CLARIFY_MIN_CONFIDENCE:
            continue
        reason = Reason.from_intent(str(candidate.get("name") or ""))
        if reason is not None and reason not in reasons:
            reasons.append(reason)
        if len(reasons) == CLARIFY_MAX_BUTTONS:
            break
    return reasons


class ActionClarify(Action):
    """Low confidence: offer the closest reasons as buttons rather than guess."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reasons = closest_reasons(view_of(tracker).intent_ranking)
        if reasons:
            buttons = [reason_button(reason) for reason in reasons] + [talk_to_person_button()]
            utter(dispatcher, say("clarify.reasons"), buttons=buttons)
        else:
            utter(dispatcher, say("clarify.unknown"), buttons=main_topic_buttons())
        return []
