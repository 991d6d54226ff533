"""Actions that look an order up, say what to do, and do it once the buyer says yes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import guidance, identity
from actions.context import get_store, order_facts, reason_from, verified_customer
from actions.guidance import Guidance, Offer, OrderFacts
from actions.store import OrderStore, StoreUnavailable

YES_NO_BUTTONS = [
    {"title": "Yes, go ahead", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]


def advise(order: OrderFacts, goal: str | None, tracker: Tracker, store: OrderStore) -> Guidance:
    """Pick the rule for what the buyer came for."""
    reason = reason_from(tracker)
    now = store.clock()
    if goal == "contact_seller":
        customer = store.customer(verified_customer(tracker) or "") or {}
        return guidance.guide_contact_seller(order, reason, customer.get("name", ""))
    if goal == "dispute":
        return guidance.guide_dispute(order, reason, now)
    if goal == "status":
        advice = guidance.guide_cancellation(order, reason, now)
        status = guidance.describe_status(order, now)
        return Guidance(advice.path, status, facts=advice.facts)
    return guidance.guide_cancellation(order, reason, now)


def load_order(tracker: Tracker, store: OrderStore) -> dict | None:
    customer_id = verified_customer(tracker)
    order_id = identity.normalise_order_id(tracker.get_slot("order_id"))
    if not customer_id or not order_id:
        return None
    return store.order_for_customer(order_id, customer_id)


class ActionGuideOrder(Action):
    """After the order form: the facts, the advice, and a yes/no question if we can act."""

    def name(self) -> str:
        return "action_guide_order"

    @staticmethod
    def look_up(tracker: Tracker) -> tuple[dict, Guidance] | None:
        store = get_store()
        order = load_order(tracker, store)
        if order is None:
            return None
        return order, advise(order_facts(store, order), tracker.get_slot("goal"), tracker, store)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("verification_locked"):
            dispatcher.utter_message(
                text="For your security I can't look up orders in this chat any more. "
                'A human agent can help — just say "talk to a person".',
                buttons=[{"title": "Talk to a person", "payload": "/human_handoff"}],
            )
            return [SlotSet("pending_offer", None)]
        try:
            found = await asyncio.to_thread(self.look_up, tracker)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            return [SlotSet("pending_offer", None)]
        if found is None:
            dispatcher.utter_message(
                text="I can't find that order on your account. Please check the number in My Orders."
            )
            return [SlotSet("order_id", None), SlotSet("pending_offer", None)]
        order, advice = found

        dispatcher.utter_message(text=advice.message)
        events: list[EventType] = [
            SlotSet("customer_id", order["customer_id"]),
            SlotSet("pending_offer", None if advice.offer is Offer.NONE else advice.offer.value),
            SlotSet("seller_message_draft", advice.facts.get("draft")),
            # The reason now belongs to this order: another order will need its own.
            SlotSet("reason_used_for", order["id"] if tracker.get_slot("reason") else None),
        ]
        if advice.offer is not Offer.NONE and advice.question:
            dispatcher.utter_message(text=advice.question, buttons=YES_NO_BUTTONS)
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return events


class ActionConfirmOffer(Action):
    """The buyer said yes: re-check the order (it may have moved on) and do the write."""

    def name(self) -> str:
        return "action_confirm_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        offer_value = tracker.get_slot("pending_offer")
        if not offer_value:
            dispatcher.utter_message(
                text="Great! What would you like to do — cancel an order, check where it is, "
                "contact the seller or open a dispute?"
            )
            return []
        try:
            outcome, message = await asyncio.to_thread(self.check_and_carry_out, Offer(offer_value), tracker)
        except StoreUnavailable:
            dispatcher.utter_message(
                text="Sorry, I couldn't save that just now — nothing was changed. "
                'Say "yes" again in a moment to retry.'
            )
            return []
        if outcome != "done":
            dispatcher.utter_message(text=message)
            return [SlotSet("pending_offer", None)]
        dispatcher.utter_message(text=message)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("pending_offer", None), SlotSet("seller_message_draft", None)]

    @classmethod
    def check_and_carry_out(cls, offer: Offer, tracker: Tracker) -> tuple[str, str]:
        """Re-read the order (it may have moved on since the question) and do the write."""
        store = get_store()
        order = load_order(tracker, store)
        if order is None:
            return "gone", "I can't find that order on your account any more."
        facts = order_facts(store, order)
        current = advise(facts, tracker.get_slot("goal"), tracker, store)
        if current.offer is not offer and offer is not Offer.SEND_SELLER_MESSAGE:
            return "changed", "The order has changed since I checked, so I didn't do that. " + current.message
        return "done", cls.carry_out(offer, facts, tracker, store)

    @staticmethod
    def carry_out(offer: Offer, order: OrderFacts, tracker: Tracker, store: OrderStore) -> str:
        reason = tracker.get_slot("reason")
        words = tracker.get_slot("reason_text")
        customer_id = verified_customer(tracker) or ""
        if offer is Offer.CANCEL_NOW:
            result = store.cancel_unpaid_order(order.order_id, reason, words)
            text = f"Done — order {order.order_id} ({order.product}) is cancelled. No money was taken."
            if reason == guidance.Reason.PAYMENT_ISSUE.value:
                text += " You can now place a new order and pay with a valid payment method."
            return text if result.created else f"Order {order.order_id} was already cancelled."
        if offer is Offer.SUBMIT_REQUEST:
            result = store.record_cancellation_request(order.order_id, reason, words)
            deadline = store.clock() + guidance.SELLER_ANSWER_WINDOW
            prefix = (
                f"Done — I've sent your cancellation request for order {order.order_id} to " f"{order.seller.name}."
                if result.created
                else f"Your cancellation request for order {order.order_id} was already sent — "
                "I didn't send it twice."
            )
            return (
                f"{prefix} The seller normally answers within 24–48 hours. If there's no answer "
                f"by {guidance.when(deadline)}, come back and I'll help you open a dispute. "
                "Once approved, the refund goes back to your original payment method."
            )
        if offer is Offer.SEND_SELLER_MESSAGE:
            draft = tracker.get_slot("seller_message_draft") or guidance.draft_seller_message(
                order, guidance.Reason(reason) if reason else None
            )
            result = store.record_seller_message(order.order_id, customer_id, draft)
            return (
                f"Sent — your message is in the chat with {order.seller.name} "
                '("Contact Now" on the order page). Sellers usually reply within 24–48 hours.'
                if result.created
                else "That message was already sent to the seller — I didn't send it twice."
            )
        evidence = "; ".join(guidance.dispute_evidence(order, guidance.Reason(reason) if reason else None))
        result = store.open_dispute(
            order.order_id,
            customer_id,
            reason,
            words or "Opened by the buyer through the assistant.",
            evidence,
        )
        answer_by = guidance.when(store.clock() + timedelta(days=5))
        return (
            f"Done — dispute #{result.id} is open for order {order.order_id}. "
            if result.created
            else f"Dispute #{result.id} was already open for order {order.order_id}. "
        ) + (
            f"Add your evidence in the dispute ({evidence}). The seller has 5 days to respond "
            f"(until {answer_by}); after that AliExpress steps in and decides."
        )


class ActionDeclineOffer(Action):
    """The buyer said no: change nothing, and say so."""

    def name(self) -> str:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[Any] = []
        if tracker.get_slot("pending_offer"):
            order_id = tracker.get_slot("order_id")
            dispatcher.utter_message(text=f"OK, I haven't changed anything — order {order_id} stays as it is.")
            events = [SlotSet("pending_offer", None), SlotSet("seller_message_draft", None)]
        dispatcher.utter_message(response="utter_anything_else")
        return events
