"""Answers that do not need the order form: refunds, policy, a human, clarification."""

from __future__ import annotations

import asyncio

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import guidance
from actions.context import get_store, human_support_hint, order_facts
from actions.guidance import REASON_LABELS, OrderFacts, Reason
from actions.order_actions import load_order
from actions.store import StoreUnavailable

REASON_INTENT_PREFIX = "reason_"
CLARIFY_MIN_CONFIDENCE = 0.05
CLARIFY_MAX_BUTTONS = 3
MAIN_TOPIC_BUTTONS = [
    {"title": "Cancel an order", "payload": "/cancel_order"},
    {"title": "Where is my order?", "payload": "/check_order_status"},
    {"title": "Talk to a person", "payload": "/human_handoff"},
]


async def known_order_facts(tracker: Tracker) -> OrderFacts | None:
    """The facts of the order this conversation is about, once the buyer is verified;
    None when there is none or the store cannot be read (the general answer then fits)."""

    def read() -> OrderFacts | None:
        store = get_store()
        order = load_order(tracker, store)
        return order_facts(store, order) if order else None

    try:
        return await asyncio.to_thread(read)
    except StoreUnavailable:
        return None


class ActionAnswerRefund(Action):
    """Refund timing, about the buyer's order when we know it."""

    def name(self) -> str:
        return "action_answer_refund"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text=guidance.refund_explanation(await known_order_facts(tracker)))
        return []


class ActionAnswerPolicy(Action):
    """Quote the seller's own policy when we know the order, the general rule otherwise."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        facts = await known_order_facts(tracker)
        if facts is not None:
            dispatcher.utter_message(
                text=guidance.quote_policy(facts.seller)
                + " Please read it before cancelling. In any case an unpaid order can be "
                "cancelled at once, and a paid one can be cancelled with the seller's "
                "agreement until it ships."
            )
        else:
            dispatcher.utter_message(
                text="Each seller sets their own cancellation policy — you'll find it on the "
                "store page and in the order details. In general: an unpaid order can be "
                "cancelled at once; a paid order can be cancelled until it ships, with the "
                "seller's agreement (they usually answer within 24–48 hours); once shipped, "
                "a refund goes through a dispute. Give me the order number and I'll quote "
                "that seller's policy."
            )
        return []


class ActionHumanHandoff(Action):
    """Hand over to a person and stop whatever form was running."""

    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        order_id = tracker.get_slot("order_id")
        about = f" about order {order_id}" if order_id else ""
        dispatcher.utter_message(
            text=f"I'm passing this conversation{about} to a human agent, who will reply "
            "here as soon as possible. " + human_support_hint()
        )
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_offer", None)]


class ActionClarify(Action):
    """Low confidence: offer the closest reasons as buttons rather than guess."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        reasons: list[Reason] = []
        for candidate in ranking:
            name = str(candidate.get("name") or "")
            if float(candidate.get("confidence") or 0) < CLARIFY_MIN_CONFIDENCE:
                continue
            if not name.startswith(REASON_INTENT_PREFIX):
                continue
            try:
                reason = Reason(name[len(REASON_INTENT_PREFIX) :])
            except ValueError:
                continue
            if reason not in reasons:
                reasons.append(reason)
            if len(reasons) == CLARIFY_MAX_BUTTONS:
                break
        if reasons:
            buttons = [
                {"title": REASON_LABELS[reason], "payload": f"/{REASON_INTENT_PREFIX}{reason.value}"}
                for reason in reasons
            ]
            buttons.append({"title": "Talk to a person", "payload": "/human_handoff"})
            dispatcher.utter_message(text="Just to be sure I understood — which of these fits best?", buttons=buttons)
            return []
        dispatcher.utter_message(
            text="Sorry, I didn't quite get that. Could you say it another way?",
            buttons=MAIN_TOPIC_BUTTONS,
        )
        return []
