"""The order form: which order, who is asking, and (only when it matters) why."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import identity
from actions.context import (
    buyer_words,
    earlier_order,
    get_store,
    message_gives_reason,
    order_facts,
    reason_is_stale,
    verified_customer,
)
from actions.guidance import REASON_LABELS, Reason, needs_reason
from actions.store import StoreUnavailable

logger = logging.getLogger(__name__)

# Across all conversations: this many failed email checks for one order number within the
# window pause further checks for it (someone is guessing).
GUESSING_LIMIT = 5
GUESSING_WINDOW = timedelta(minutes=15)

NOT_FOUND = (
    "I can't find order {order_id} on your account. Please check the number in My Orders "
    "(16 digits) and type it again."
)
NO_MATCH = (
    "I couldn't match order {order_id} with that email address. Please check both — "
    "you can type a corrected order number or email."
)
LOCKED = (
    "For your security I can't check more email addresses in this chat. "
    'A human agent can help you with this order — just say "talk to a person".'
)


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
        if tracker.get_slot("verification_locked"):
            return []
        slots = ["order_id"]
        customer_id = verified_customer(tracker)
        if not customer_id:
            return [*slots, "email"]
        order_id = tracker.get_slot("order_id")
        wants_to_cancel = tracker.get_slot("goal") in (None, "cancel")
        if wants_to_cancel and order_id and await asyncio.to_thread(self._order_needs_reason, order_id, customer_id):
            slots.append("reason")
        return slots

    @staticmethod
    def _order_needs_reason(order_id: str, customer_id: str) -> bool:
        try:
            store = get_store()
            order = store.order_for_customer(order_id, customer_id)
            return bool(order and needs_reason(order_facts(store, order)))
        except StoreUnavailable:
            return False  # the guidance step reports the outage

    # The database is reached from a worker thread, so a slow or locked SQLite file never
    # blocks the action server's event loop (and every other buyer with it).

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await asyncio.to_thread(self._check_order_id, value, dispatcher, tracker)

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await asyncio.to_thread(self._check_email, value, dispatcher, tracker)

    def _check_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        order_id = identity.normalise_order_id(value)
        if order_id is None:
            if identity.looks_like_order_number(value):
                dispatcher.utter_message(
                    text="That order number doesn't look right: order numbers have exactly "
                    "16 digits (spaces or dashes are fine)."
                )
            else:
                dispatcher.utter_message(
                    text="I need the order number to go on — 16 digits, shown in My Orders " "under each order."
                )
            return {"order_id": None}
        events: dict[str, Any] = {"order_id": order_id}
        previous = earlier_order(tracker)
        if previous and identity.normalise_order_id(previous) not in (None, order_id):
            events.update({"pending_offer": None, "seller_message_draft": None})
        if reason_is_stale(tracker, order_id):
            # `reason_used_for` stays: rasa-sdk validates the re-filled reason next, with
            # this turn's slots, and must come to the same answer.
            events.update({"reason": None, "reason_text": None})
        customer_id = verified_customer(tracker)
        if customer_id:
            events["customer_id"] = customer_id
            try:
                if get_store().order_for_customer(order_id, customer_id) is None:
                    dispatcher.utter_message(text=NOT_FOUND.format(order_id=order_id))
                    return {"order_id": None}
            except StoreUnavailable:
                dispatcher.utter_message(response="utter_service_unavailable")
                return {"order_id": None}
            return events
        email = identity.normalise_email(tracker.get_slot("email"))
        if email:  # given before the order number: check it now
            events.update(self._match_owner(order_id, email, dispatcher, tracker))
        return events

    def _check_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        customer_id = verified_customer(tracker)
        order_id = identity.normalise_order_id(tracker.get_slot("order_id"))
        if customer_id:
            return {"email": value, "customer_id": customer_id}
        email = identity.normalise_email(value)
        if email is None:
            dispatcher.utter_message(
                text="That doesn't look like an email address. Please type the address you "
                "use to sign in, like name@example.com."
            )
            return {"email": None}
        if order_id is None:
            return {"email": email}  # checked once the order number arrives
        return self._match_owner(order_id, email, dispatcher, tracker)

    @staticmethod
    def _match_owner(order_id: str, email: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Prove identity by email; a foreign order and an unknown one fail alike."""
        try:
            store = get_store()
            if store.recent_verification_failures(order_id, GUESSING_WINDOW) >= GUESSING_LIMIT:
                logger.warning(f"email checks for order …{order_id[-4:]} paused: too many failures")
                dispatcher.utter_message(text=LOCKED)
                return {"email": None, "order_id": None, "verification_locked": True}
            matched = store.owner_matches_email(order_id, email)
            if not matched:
                store.record_verification_failure(order_id)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            return {"email": None}
        if matched:
            return {"email": email, "customer_id": matched, "verification_attempts": 0}
        logger.warning(f"failed email check for order …{order_id[-4:]} in conversation {tracker.sender_id}")
        attempts = int(tracker.get_slot("verification_attempts") or 0) + 1
        if attempts >= identity.MAX_VERIFICATION_ATTEMPTS:
            dispatcher.utter_message(text=LOCKED)
            return {
                "email": None,
                "order_id": None,
                "verification_attempts": attempts,
                "verification_locked": True,
            }
        dispatcher.utter_message(text=NO_MATCH.format(order_id=order_id))
        return {"email": None, "verification_attempts": attempts}

    def validate_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # A reason belongs to its order. When the form starts again for another order, Rasa
        # re-validates the reason left from the first one: ask again instead.
        if reason_is_stale(tracker, identity.normalise_order_id(tracker.get_slot("order_id"))):
            return {"reason": None, "reason_text": None}
        try:
            reason = Reason(value)
        except ValueError:
            return {"reason": None}
        events: dict[str, Any] = {
            "reason": reason.value,
            "reason_text": buyer_words(tracker) or REASON_LABELS[reason],
        }
        if message_gives_reason(tracker):
            events["reason_used_for"] = None  # a fresh reason, not yet used for any order
        return events
