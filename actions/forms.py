"""The order form: which order, who is asking, and (only when it matters) why.

An adapter: rasa-sdk calls one validator per slot, each with this turn's slots; the checks
themselves are the service's (:mod:`actions.service`) and :mod:`actions.identity`'s.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import identity
from actions.adapter import off_loop, service_unavailable, utter, view_of
from actions.conversation import ConversationView
from actions.replies import reason_label, render, say
from actions.store import StoreUnavailable
from actions.vocabulary import Goal, Reason

# "another order", "a different purchase", "my other package": the buyer means a new order.
ANOTHER_ORDER = re.compile(
    r"\b(another|different|other|next|second)\b[\w' ]{0,20}?\b(order|purchase|package|parcel|item|one)\b", re.I
)
# A number the buyer typed as an order number: 4 digits or more, spaces and dashes allowed.
NUMBER_TYPED = re.compile(r"\d[\d \-]{2,}\d")
ORDER_TOPICS = {"cancel_order", "check_order_status", "inform_order_number", "contact_seller", "open_dispute"}


class ActionAskOrderId(Action):
    """The order form's question for the order number: a signed-in or verified buyer gets
    their recent open orders as buttons, as a shop would show them."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        try:
            orders = await off_loop(lambda service: service.recent_open_orders(view.customer_id))
        except StoreUnavailable:
            orders = []
        if not orders:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        buttons = [
            {
                "title": render(say("order_id.choice", product=order["product"], order_id=order["id"])),
                "payload": "/inform_order_number" + json.dumps({"order_id": order["id"]}),
            }
            for order in orders
        ]
        utter(dispatcher, say("order_id.which"), buttons=buttons)
        return []


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask for the email only if the channel did not prove who the buyer is, and for
        the reason only when the order can still be cancelled."""
        view = view_of(tracker)
        if view.locked:
            return []
        if not view.customer_id:
            return ["order_id", "email"]
        if view.goal is Goal.CANCEL and view.order_id and await self._needs_reason(view):
            return ["order_id", "reason"]
        return ["order_id"]

    @staticmethod
    async def _needs_reason(view: ConversationView) -> bool:
        try:
            return await off_loop(lambda service: service.needs_reason(view.order_id, view.customer_id))
        except StoreUnavailable:
            return False  # the guidance step reports the outage

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What the slot mappings miss: "another order" means a new one (ask which), and a
        number of the wrong length is still meant as an order number (explain the format)."""
        view = view_of(tracker)
        text = view.text[:200]
        asking_for_it = tracker.get_slot("requested_slot") == "order_id"
        if not (asking_for_it or view.intent in ORDER_TOPICS) or text.startswith("/") or "@" in text:
            return {}
        if identity.normalise_order_id(text):
            return {}  # a proper number: the entity mapping has it
        if ANOTHER_ORDER.search(text) and tracker.get_slot("order_id"):
            return {"order_id": None}
        if NUMBER_TYPED.search(text):
            return {"order_id": text}
        return {}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"order_id": None}  # asked for next, by action_ask_order_id
        view = view_of(tracker)
        order_id = identity.normalise_order_id(value)
        if order_id is None:
            wrong_length = identity.looks_like_order_number(value) or bool(NUMBER_TYPED.search(str(value)))
            utter(dispatcher, say("order_id.wrong_length" if wrong_length else "order_id.missing"))
            return {"order_id": None}
        slots: dict[str, Any] = {"order_id": order_id}
        if view.earlier_order and identity.normalise_order_id(view.earlier_order) not in (None, order_id):
            slots.update({"pending_offer": None, "seller_message_draft": None})
        if view.reason_is_stale(order_id):
            # `reason_used_for` stays: rasa-sdk validates the re-filled reason next, with
            # this turn's slots, and must come to the same answer.
            slots.update({"reason": None, "reason_text": None})
        if view.customer_id:
            try:
                owned = await off_loop(lambda service: service.owns(order_id, view.customer_id or ""))
            except StoreUnavailable:
                service_unavailable(dispatcher)
                return {"order_id": None}
            if not owned:
                utter(dispatcher, say("order.not_found", order_id=order_id))
                return {"order_id": None}
            return slots
        email = identity.normalise_email(view.email)
        if email:  # given before the order number: check it now
            slots.update(await self._match_owner(order_id, email, dispatcher, view))
        return slots

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        view = view_of(tracker)
        if view.customer_id:  # proven already (a token is never stored in a slot)
            return {"email": value}
        email = identity.normalise_email(value)
        if email is None:
            utter(dispatcher, say("email.invalid"))
            return {"email": None}
        if view.order_id is None:
            return {"email": email}  # checked once the order number arrives
        return await self._match_owner(view.order_id, email, dispatcher, view)

    @staticmethod
    async def _match_owner(
        order_id: str, email: str, dispatcher: CollectingDispatcher, view: ConversationView
    ) -> dict[str, Any]:
        try:
            checked = await off_loop(lambda service: service.verify_by_email(order_id, email, view.sender_id))
        except StoreUnavailable:
            service_unavailable(dispatcher)
            return {"email": None}
        if checked.messages:
            utter(dispatcher, *checked.messages)
        if checked.customer_id:
            return {"email": email, "customer_id": checked.customer_id, "verification_attempts": 0}
        slots: dict[str, Any] = {"email": None, "verification_attempts": checked.attempts}
        if checked.paused:
            slots["order_id"] = None
        if checked.locked:  # said once, by the guidance that follows the form
            slots.update({"order_id": None, "verification_locked": True})
        return slots

    def validate_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        view = view_of(tracker)
        # A reason belongs to its order. When the form starts again for another order, Rasa
        # re-validates the reason left from the first one: ask again instead.
        if view.reason_is_stale(view.order_id):
            return {"reason": None, "reason_text": None}
        reason = Reason.parse(value)
        if reason is None:
            return {"reason": None}
        slots: dict[str, Any] = {"reason": reason.value, "reason_text": view.buyer_words or reason_label(reason)}
        if view.gives_reason:
            slots["reason_used_for"] = None  # a fresh reason, not yet used for any order
        return slots
