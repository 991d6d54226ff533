"""Actions that look an order up, say what to do, and do it once the buyer says yes.

Adapters only: the tracker in, slot events and catalogue messages out. What to advise and
what to write is :mod:`actions.service`'s.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.adapter import (
    off_loop,
    offer_buttons,
    service_unavailable,
    talk_to_person_button,
    utter,
    view_of,
)
from actions.conversation import offer_slot
from actions.guidance import Guidance
from actions.replies import say
from actions.seller_message import asks_for_english
from actions.service import Result
from actions.store import StoreUnavailable
from actions.vocabulary import Offer

NO_OFFER = SlotSet("pending_offer", None)
# After a message to the seller is sent or dropped, what the buyer dictated for it goes too.
NO_SELLER_MESSAGE = [
    SlotSet("seller_message_draft", None),
    SlotSet("seller_words", None),
    SlotSet("seller_message_language", None),
]


def redraft_in_english(dispatcher: CollectingDispatcher) -> list[EventType]:
    """The open message to the seller written again in English; the order form shows it
    again with the same question. What the buyer typed themselves stays as typed."""
    utter(dispatcher, say("seller_words.in_english"))
    return [SlotSet("seller_message_language", "en"), NO_OFFER, FollowupAction("order_form")]


def offer_or_move_on(dispatcher: CollectingDispatcher, decision: Guidance, order_id: str) -> list[EventType]:
    """Ask the yes/no question of the decision's offer, bound to its order; or move on."""
    if decision.offer is Offer.NONE or decision.question is None:
        dispatcher.utter_message(response="utter_anything_else")
        return [NO_OFFER]
    utter(dispatcher, decision.question, buttons=offer_buttons(decision.offer))
    return [SlotSet("pending_offer", offer_slot(decision.offer, order_id))]


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
        utter(dispatcher, *advice.guidance.messages)
        return [
            *offer_or_move_on(dispatcher, advice.guidance, advice.order_id),
            SlotSet("seller_message_draft", advice.draft),
            SlotSet("seller_words", advice.words.to_slot() if advice.draft else None),
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
        if view.pending_offer is Offer.SEND_SELLER_MESSAGE and asks_for_english(view.buyer_words):
            return redraft_in_english(dispatcher)  # "yes, but in English": nothing sent yet
        try:
            outcome = await off_loop(lambda service: service.carry_out(view))
        except StoreUnavailable:
            utter(dispatcher, say("offer.save_failed"))
            return []
        utter(dispatcher, *outcome.messages)
        if outcome.reoffer is not None and view.offer_order_id:
            return offer_or_move_on(dispatcher, outcome.reoffer, view.offer_order_id)
        if outcome.result is not Result.DONE:
            return [NO_OFFER]
        dispatcher.utter_message(response="utter_anything_else")
        return [NO_OFFER, *NO_SELLER_MESSAGE]


class ActionDeclineOffer(Action):
    """The buyer said no: change nothing, and say so."""

    def name(self) -> str:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events: list[EventType] = []
        view = view_of(tracker)
        if view.offer_order_id:
            utter(dispatcher, say("offer.declined", order_id=view.offer_order_id))
            events = [NO_OFFER, *NO_SELLER_MESSAGE]
        dispatcher.utter_message(response="utter_anything_else")
        return events
