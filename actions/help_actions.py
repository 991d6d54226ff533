"""Answers that do not need the order form: refunds, policy, a human, clarification.

Adapters only: the tracker in, slot events and catalogue messages out.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    EventType,
    FollowupAction,
    Restarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import guidance, handoff, identity
from actions.adapter import (
    button,
    human_support_hint,
    main_topic_buttons,
    off_loop,
    offer_buttons,
    reason_button,
    talk_to_person_button,
    utter,
    view_of,
)
from actions.conversation import ConversationView
from actions.forms import ANOTHER_ORDER
from actions.replies import Say, render, say
from actions.store import StoreUnavailable
from actions.vocabulary import Goal, HandoffTrigger, Offer, Reason

logger = logging.getLogger(__name__)

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


class ActionRestart(Action):
    """The buyer ended the chat ("End chat" on the page): everything is forgotten, as Rasa's
    own restart does, and a request for a person leaves the queue. Rasa lets a restart
    through even while the bot is paused for an agent, so this is the way out."""

    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            await off_loop(lambda service: service.handoffs.withdraw(tracker.sender_id))
        except StoreUnavailable:
            logger.exception("could not take an ended chat out of the handoff queue")
        return [Restarted()]


class ActionHowToCancel(Action):
    """The steps to cancel on the website. With an order number in the same message ("I don't
    know how to cancel purchase 8100…"), the buyer wants it done: the steps, then the
    cancellation itself, through the order form."""

    def name(self) -> str:
        return "action_how_to_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_how_to_cancel")
        number = identity.normalise_order_id(view_of(tracker).text)
        if number is None:
            return []
        utter(dispatcher, say("howto.doing_it", order_id=number))
        return [SlotSet("order_id", number), SlotSet("goal", Goal.CANCEL.value), FollowupAction("order_form")]


class ActionHumanHandoff(Action):
    """Hand over to a person and stop whatever form was running."""

    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await hand_over(dispatcher, tracker, HandoffTrigger.ASKED)


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, trigger: HandoffTrigger) -> list[EventType]:
    """Queue the conversation for an agent and pause the bot (docs/product.md §4). Without the
    queue (or with the database down), say honestly where a person can be reached instead."""
    view = view_of(tracker)
    stop_form: list[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_offer", None)]
    if view.locked and trigger is HandoffTrigger.ASKED:
        trigger = HandoffTrigger.LOCKED
    if handoff.queue_enabled():
        channel = tracker.get_latest_input_channel() or ""
        try:
            queued = await off_loop(lambda service: service.hand_over(view, channel, trigger, tracker.events or []))
        except StoreUnavailable:
            logger.exception("the handoff queue is unavailable; the buyer is told where to find a person")
        else:
            utter(dispatcher, queued.message)
            # Listening, though paused: Rasa's rules (a restart, and after the hand-back any
            # rule) start from a user message that follows `action_listen`, and a paused
            # conversation would otherwise never get one.
            return [*stop_form, ConversationPaused(), ActionExecuted("action_listen")]
    about = say("handoff.about_order", order_id=view.order_id) if view.order_id else ""
    dispatcher.utter_message(text=render(say("handoff.not_here")) + " " + human_support_hint(about))
    return stop_form


# The buttons a clarification may offer for a likely intent that is not a reason.
TOPIC_BUTTONS = {
    "cancel_order": ("button.cancel_order", "cancel_order"),
    "check_order_status": ("button.where_is_order", "check_order_status"),
    "contact_seller": ("button.contact_seller", "contact_seller"),
}
# What an unsure message about an order number most likely wants done with it.
GOAL_OF_INTENT = {
    "cancel_order": Goal.CANCEL,
    "check_order_status": Goal.STATUS,
    "contact_seller": Goal.CONTACT_SELLER,
    "open_dispute": Goal.DISPUTE,
    "report_seller_declined": Goal.DISPUTE,
}


def likely(ranking: tuple[dict, ...]) -> list[str]:
    """The intents worth offering, most likely first."""
    names = [str(c.get("name") or "") for c in ranking if float(c.get("confidence") or 0) >= CLARIFY_MIN_CONFIDENCE]
    return [name for name in names if name != "nlu_fallback"]


def clarifying_buttons(ranking: tuple[dict, ...]) -> list[dict[str, str]]:
    """Buttons drawn from the message's own likely intents: its reasons and order topics."""
    buttons: list[dict[str, str]] = []
    for name in likely(ranking):
        reason = Reason.from_intent(name)
        if reason is not None:
            buttons.append(reason_button(reason))
        elif name in TOPIC_BUTTONS:
            title, intent = TOPIC_BUTTONS[name]
            buttons.append(button(say(title), intent))
        if len(buttons) == CLARIFY_MAX_BUTTONS:
            break
    return buttons


class ActionClarify(Action):
    """Low confidence: when the message holds an order number (or asks about another
    order), take it up; otherwise offer the message's own likely meanings as buttons."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        number = identity.normalise_order_id(view.text)
        if number or ANOTHER_ORDER.search(view.text):
            goal = next((GOAL_OF_INTENT[name] for name in likely(view.intent_ranking) if name in GOAL_OF_INTENT), None)
            events: list[EventType] = [SlotSet("order_id", number)]
            if goal is not None:
                events.append(SlotSet("goal", goal.value))
            return [*events, FollowupAction("order_form")]
        if handoff.queue_enabled() and misunderstood_before(tracker.events or []):
            utter(dispatcher, say("handoff.misunderstood"))
            return await hand_over(dispatcher, tracker, HandoffTrigger.MISUNDERSTOOD)
        buttons = clarifying_buttons(view.intent_ranking)
        if buttons:
            utter(dispatcher, say("clarify.reasons"), buttons=[*buttons, talk_to_person_button()])
        else:
            utter(dispatcher, say("clarify.unknown"), buttons=main_topic_buttons())
        return []


def misunderstood_before(events: list[dict]) -> bool:
    """The buyer's message before this one was not understood either, and the bot said so:
    twice in a row. Messages written to an agent while the bot was paused do not count."""
    seen_user = clarified = False
    for event in reversed(events):
        kind = event.get("event")
        if kind in ("pause", "resume", "session_started", "restart"):
            return False
        if kind == "action" and event.get("name") == "action_clarify" and seen_user:
            clarified = True
        if kind == "user":
            if seen_user:
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                return clarified and intent == "nlu_fallback"
            seen_user = True
    return False


class ActionGreet(Action):
    """The full greeting once a session; a second "hi" gets a short one, not the same speech."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if greeted_in_this_session(tracker.events or []):
            utter(dispatcher, say("greet.again"), buttons=main_topic_buttons())
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


def greeted_in_this_session(events: list[dict]) -> bool:
    for event in reversed(events):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "action" and event.get("name") == "action_greet":
            return True
    return False


class ActionRepeatOffer(Action):
    """After an off-topic reply to a yes/no question, ask the question again in one line."""

    def name(self) -> str:
        return "action_repeat_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        view = view_of(tracker)
        if view.pending_offer is not Offer.NONE and view.offer_order_id:
            question = say(f"ask.again.{view.pending_offer.value}", order_id=view.offer_order_id)
            utter(dispatcher, question, buttons=offer_buttons(view.pending_offer))
        return []
