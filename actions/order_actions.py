"""Actions that look an order up, say what to do, and do it once the buyer says yes.

Adapters only: the tracker in, slot events and catalogue messages out. What to advise and
what to write is :mod:`actions.service`'s.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.adapter import off_loop, service_unavailable, talk_to_person_button, utter, view_of, yes_no_buttons
from actions.replies import say
from actions.service import Result
from actions.store import StoreUnavailable
from actions.vocabulary import Offer

NO_OFFER = SlotSet("pending_offer", None)


class ActionGuideOrder(Action):
    """After the order form: the facts, the advice, and a yes/no question if we can act."""

    def name(self) -> str:
        return "action_guide_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        if view.locked:
            utter(dispatcher, say("verify.locked_orders"), buttons=[talk_to_person_button()])
            return [NO_OFFER]
        try:
            advice = await off_loop(lambda service: service.guide(view))
        except StoreUnavailable:
            service_unavailable(dispatcher)
            return [NO_OFFER]
        if advice is None:
            utter(dispatcher, say("order.not_found_any"))
            return [SlotSet("order_id", None), NO_OFFER]
        decision = advice.guidance
        utter(dispatcher, *decision.messages)
        offered = decision.offer is not Offer.NONE and decision.question is not None
        if offered and decision.question is not None:
            utter(dispatcher, decision.question, buttons=yes_no_buttons())
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return [
            SlotSet("customer_id", advice.customer_id),
            SlotSet("pending_offer", decision.offer.value if offered else None),
            SlotSet("seller_message_draft", advice.draft),
            # The reason now belongs to this order: another order will need its own.
            SlotSet("reason_used_for", advice.order_id if view.reason else None),
        ]


class ActionConfirmOffer(Action):
    """The buyer said yes: the service re-checks the order (it may have moved on) and writes."""

    def name(self) -> str:
        return "action_confirm_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        if view.pending_offer is Offer.NONE:
            utter(dispatcher, say("offer.none_pending"))
            return []
        try:
            outcome = await off_loop(lambda service: service.carry_out(view.pending_offer, view))
        except StoreUnavailable:
            utter(dispatcher, say("offer.save_failed"))
            return []
        utter(dispatcher, *outcome.messages)
        if outcome.result is not Result.DONE:
            return [NO_OFFER]
        dispatcher.utter_message(response="utter_anything_else")
        return [NO_OFFER, SlotSet("seller_message_draft", None)]


class ActionDeclineOffer(Action):
    """The buyer said no: change nothing, and say so."""

    def name(self) -> str:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = []
        if tracker.get_slot("pending_offer"):
            utter(dispatcher, say("offer.declined", order_id=tracker.get_slot("order_id")))
            events = [NO_OFFER, SlotSet("seller_message_draft", None)]
        dispatcher.utter_message(response="utter_anything_else")
        return events
