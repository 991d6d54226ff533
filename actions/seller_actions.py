"""The buyer's own words for the seller: dictated in a message ("add that I need it before
Christmas", "send this to the seller of order …: …") or typed after "Write my own".

Adapters only. The words are kept in the ``seller_words`` slot; the order form then checks
who is asking and which order, and ``action_guide_order`` shows the new message whole before
asking. The yes sends exactly that text (:meth:`actions.service.OrderService.carry_out`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import identity
from actions.adapter import seller_message_buttons, utter, view_of
from actions.conversation import PAYLOAD_PREFIX, ConversationView
from actions.order_actions import NO_OFFER, redraft_in_english
from actions.replies import say
from actions.seller_message import MAX_SELLER_WORDS, Dictation, asks_for_english, read_dictation
from actions.vocabulary import Goal, Offer

DICTATE_INTENT = "dictate_seller_message"
# A short "no" or "bye" instead of the message leaves the form; a longer text is the message.
LEAVE_INTENTS = frozenset({"deny", "goodbye"})
LEAVE_MAX_WORDS = 4
# The rules continue with the order form; without new words there is nothing to show again.
WAIT_FOR_BUYER = FollowupAction("action_listen")


class ActionTakeSellerWords(Action):
    def name(self) -> str:
        return "action_take_seller_words"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        open_draft = view.pending_offer is Offer.SEND_SELLER_MESSAGE and view.seller_message_draft
        if open_draft and view.seller_text is None and asks_for_english(view.buyer_words):
            return redraft_in_english(dispatcher)
        if view.seller_text is not None:  # typed in the form: the buyer's message, as typed
            kind, words = Dictation.OWN, view.seller_text.strip()
        elif view.intent == DICTATE_INTENT and view.buyer_words:
            kind, words = read_dictation(view.buyer_words)
        else:  # the buyer left the form without a message
            return keep_message(dispatcher, view)
        done_with_text = SlotSet("seller_text", None)
        if not words:
            utter(dispatcher, say("seller_words.empty"))
            return [done_with_text, WAIT_FOR_BUYER]
        order_id = target_order(view)
        words_now = view.seller_words.for_order(order_id).with_dictation(kind, words)
        if words_now.length() > MAX_SELLER_WORDS:
            utter(dispatcher, say("seller_words.too_long", count=words_now.length(), limit=MAX_SELLER_WORDS))
            return [done_with_text, WAIT_FOR_BUYER]
        events: list[EventType] = [
            done_with_text,
            SlotSet("seller_words", words_now.to_slot()),
            SlotSet("goal", Goal.CONTACT_SELLER.value),
            NO_OFFER,
        ]
        if order_id:
            events.append(SlotSet("order_id", order_id))
        # Which order, and who is asking, are the order form's to check; then the new draft.
        return [*events, FollowupAction("order_form")]


def target_order(view: ConversationView) -> str | None:
    """The order the words are for: one this very message names, else the one whose draft
    is open, else the conversation's order (or none yet: the form asks)."""
    named_now = view.order_id and view.order_id != identity.normalise_order_id(view.earlier_order)
    if view.pending_offer is Offer.SEND_SELLER_MESSAGE and view.offer_order_id and not named_now:
        return view.offer_order_id
    return view.order_id


def keep_message(dispatcher: CollectingDispatcher, view: ConversationView) -> list[EventType]:
    """No new words: an open draft stays as it was and is offered again; else nothing is sent."""
    if view.pending_offer is Offer.SEND_SELLER_MESSAGE and view.seller_message_draft:
        utter(dispatcher, say("seller_words.kept"))
        utter(dispatcher, say("ask.send_draft"), buttons=seller_message_buttons())
        return [SlotSet("seller_text", None), WAIT_FOR_BUYER]
    utter(dispatcher, say("seller_words.nothing_sent"))
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet("seller_text", None), NO_OFFER, WAIT_FOR_BUYER]


class ValidateSellerMessageForm(FormValidationAction):
    """The message typed after "Write my own": any text within the limit, as typed."""

    def name(self) -> str:
        return "validate_seller_message_form"

    async def validate_seller_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        view = view_of(tracker)
        text = str(value or "").strip()
        if text.startswith(PAYLOAD_PREFIX) or (view.intent in LEAVE_INTENTS and len(text.split()) <= LEAVE_MAX_WORDS):
            # A button or a short "no": the form ends without a message (action_take_seller_words says so).
            return {"seller_text": None, "requested_slot": None}
        if not any(character.isalnum() for character in text):
            utter(dispatcher, say("seller_words.empty"))
            return {"seller_text": None}
        if len(text) > MAX_SELLER_WORDS:
            utter(dispatcher, say("seller_words.too_long", count=len(text), limit=MAX_SELLER_WORDS))
            return {"seller_text": None}
        return {"seller_text": text}
