"""What the assistant does with an order, with no Rasa in it: look the order up for a
verified buyer, advise by the rules, carry out what the buyer accepted, check an email.

The action adapters build a :class:`~actions.conversation.ConversationView`, call one
method here (from a worker thread: the store is blocking SQLite) and show the
:class:`~actions.replies.Say` messages that come back. Every method may raise
:class:`~actions.store.StoreUnavailable`; the adapters answer that in one way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from functools import lru_cache
from typing import Any

from actions import guidance, handoff, identity
from actions.conversation import ConversationView
from actions.demo_data import open_demo_store, open_handoff_store
from actions.facts import OrderFacts, RequestFacts, SellerFacts
from actions.guidance import Guidance
from actions.handoff_store import HandoffStore
from actions.replies import Say, render, say
from actions.seller_message import NO_WORDS, BuyerWords, draft_in, guide_contact_seller, with_draft
from actions.store import GuessingLimits, OrderStore, default_location, to_datetime
from actions.vocabulary import Goal, HandoffTrigger, Offer, OrderStatus, Reason, RequestState

logger = logging.getLogger(__name__)

# Failed email checks allowed within the window: per conversation (then it is locked and
# offered a person), and across all conversations per order number and per email (then
# checks for it pause: someone is guessing). A buyer signed in with a token never needs them.
GUESSING_LIMIT = 5
GUESSING_WINDOW = timedelta(minutes=15)
GUESSING_LIMITS = GuessingLimits(
    window=GUESSING_WINDOW,
    per_conversation=identity.MAX_VERIFICATION_ATTEMPTS,
    per_order=GUESSING_LIMIT,
    per_email=2 * GUESSING_LIMIT,
)


class Result(str, Enum):
    DONE = "done"  # the write was made (or had been made already: it is never made twice)
    CHANGED = "changed"  # the order moved on since the offer: nothing was written
    GONE = "gone"  # the order is no longer the buyer's to act on


@dataclass(frozen=True)
class Outcome:
    result: Result
    messages: tuple[Say, ...]
    reoffer: Guidance | None = None  # after a change: what can be offered instead, to ask again


@dataclass(frozen=True)
class Advice:
    """The guidance for one order, with what the conversation should remember."""

    order_id: str
    customer_id: str
    guidance: Guidance
    draft: str | None = None  # the seller message offered, as the buyer will approve it
    words: BuyerWords = NO_WORDS  # what the buyer asked to say to this order's seller


@dataclass(frozen=True)
class Verification:
    customer_id: str | None = None
    attempts: int = 0
    locked: bool = False  # this conversation failed too often: it stops looking orders up
    paused: bool = False  # checks for this order number or email are paused for everyone
    messages: tuple[Say, ...] = field(default_factory=tuple)


class OrderService:
    def __init__(self, store: OrderStore, handoffs: HandoffStore | None = None) -> None:
        self.store = store
        self.handoffs = handoffs or HandoffStore(store.location, store.clock, seed=store.seed)

    # --- reading ---------------------------------------------------------------------

    def find(self, order_id: str | None, customer_id: str | None) -> OrderFacts | None:
        """The order's facts, only for its owner: a foreign and an unknown order look alike."""
        if not order_id or not customer_id:
            return None
        row = self.store.order_for_customer(order_id, customer_id)
        return self.facts(row) if row else None

    def facts(self, order: dict) -> OrderFacts:
        """Everything the rules need to know about one order, read from the store."""
        seller_row = self.store.seller(order["seller_id"]) or {}
        seller = SellerFacts(
            name=seller_row.get("name", ""),
            rating=float(seller_row.get("rating") or 0),
            positive_feedback_pct=float(seller_row.get("positive_feedback_pct") or 0),
            store_opened_at=to_datetime(seller_row.get("store_opened_at")),
            cancellation_policy=seller_row.get("cancellation_policy"),
            cancellation_deadline_hours=seller_row.get("cancellation_deadline_hours"),
        )
        request_row = self.store.latest_cancellation_request(order["id"])
        request = None
        if request_row:
            request = RequestFacts(
                state=RequestState(request_row["state"]),
                created_at=to_datetime(request_row["created_at"]),  # type: ignore[arg-type]
                responded_at=to_datetime(request_row["responded_at"]),
                seller_note=request_row["seller_note"],
            )
        return OrderFacts(
            order_id=order["id"],
            status=OrderStatus(order["status"]),
            product=order["product"],
            seller=seller,
            placed_at=to_datetime(order["placed_at"]),  # type: ignore[arg-type]
            price=order["price"],
            currency=order["currency"] or "USD",
            paid_at=to_datetime(order["paid_at"]),
            shipped_at=to_datetime(order["shipped_at"]),
            delivered_at=to_datetime(order["delivered_at"]),
            cancelled_at=to_datetime(order["cancelled_at"]),
            estimated_delivery=to_datetime(order["estimated_delivery"]),
            tracking_number=order["tracking_number"],
            refund_status=order["refund_status"],
            request=request,
            **self._twins(order["id"]),
            dispute_open=self.store.open_dispute_for(order["id"]) is not None,
        )

    def _twins(self, order_id: str) -> dict[str, tuple[str, ...]]:
        """The same item ordered again: still live, or already being cancelled (cancelled,
        or a request waiting for the seller or approved)."""
        live: list[str] = []
        leaving: list[str] = []
        for twin in self.store.likely_duplicates(order_id):
            request = self.store.latest_cancellation_request(twin["id"])
            asked = request is not None and request["state"] in (RequestState.PENDING, RequestState.APPROVED)
            (leaving if twin["status"] == OrderStatus.CANCELLED or asked else live).append(twin["id"])
        return {"twin_order_ids": tuple(live), "twins_being_cancelled": tuple(leaving)}

    def recent_open_orders(self, customer_id: str | None, limit: int = 4) -> list[dict]:
        """The buyer's latest orders that can still be acted on (not delivered or cancelled)."""
        if not customer_id:
            return []
        closed = (OrderStatus.DELIVERED, OrderStatus.CANCELLED)
        orders = [order for order in self.store.orders_for_customer(customer_id) if order["status"] not in closed]
        return orders[:limit]

    def owns(self, order_id: str, customer_id: str) -> bool:
        return self.store.order_for_customer(order_id, customer_id) is not None

    def needs_reason(self, order_id: str | None, customer_id: str | None) -> bool:
        facts = self.find(order_id, customer_id)
        return facts is not None and guidance.needs_reason(facts)

    def buyer_name(self, customer_id: str | None) -> str:
        customer = self.store.customer(customer_id) if customer_id else None
        return (customer or {}).get("name", "")

    # --- advising ---------------------------------------------------------------------

    def advise(
        self,
        facts: OrderFacts,
        goal: Goal,
        reason: Reason | None,
        customer_id: str | None,
        words: BuyerWords = NO_WORDS,
    ) -> Guidance:
        """The rule for what the buyer came for. Words the buyer gave for the seller make it
        a message to the seller, whatever the goal was."""
        now = self.store.clock()
        if goal is Goal.CONTACT_SELLER or words:
            return guide_contact_seller(facts, reason, self.buyer_name(customer_id), words)
        if goal is Goal.DISPUTE:
            return guidance.guide_dispute(facts, reason, now)
        advice = guidance.guide_cancellation(facts, reason, now)
        if goal is Goal.STATUS:
            return Guidance(advice.path, guidance.describe_status(facts, now), facts=advice.facts)
        if advice.offer is Offer.SEND_SELLER_MESSAGE:
            return with_draft(advice, facts, reason, self.buyer_name(customer_id))
        return advice

    def guide(self, view: ConversationView) -> Advice | None:
        """The advice for the conversation's order, or None when it is not the buyer's."""
        facts = self.find(view.order_id, view.customer_id)
        if facts is None or view.customer_id is None:
            return None
        words = view.seller_words.for_order(facts.order_id)
        advice = self.advise(facts, view.goal, view.reason, view.customer_id, words)
        if view.seller_message_language:
            advice = draft_in(advice, view.seller_message_language)
        draft = advice.facts.get("draft")
        text = render(draft) if isinstance(draft, Say) else draft if isinstance(draft, str) else None
        return Advice(facts.order_id, view.customer_id, advice, text, words)

    def order_answer(self, view: ConversationView, answer: str) -> tuple[Say, ...] | None:
        """The refund or policy answer about the conversation's order, when there is one."""
        facts = self.find(view.order_id, view.customer_id)
        if facts is None:
            return None
        if answer == "refund":
            return guidance.refund_explanation(facts)
        return (guidance.quote_policy(facts.seller), say("policy.read_first"))

    # --- a person -----------------------------------------------------------------------

    def hand_over(
        self, view: ConversationView, channel: str, trigger: HandoffTrigger, events: list[dict[str, Any]]
    ) -> handoff.Handoff:
        """Queue the conversation for an agent, with a summary to act on, and say honestly
        when a person can answer (the caller pauses the bot)."""
        order = self.find(view.order_id, view.customer_id)
        records: dict[str, list[dict[str, Any]]] = {}
        if order is not None:
            records = {
                "cancellation_requests": [
                    {key: row[key] for key in ("state", "reason", "created_at", "responded_at")}
                    for row in self.store.cancellation_requests(order.order_id)
                ],
                "seller_messages": [
                    {"created_at": row["created_at"], "body": row["body"]}
                    for row in self.store.seller_messages(order.order_id)
                ],
                "open_dispute": [
                    {key: dispute[key] for key in ("id", "state", "created_at")}
                    for dispute in filter(None, [self.store.open_dispute_for(order.order_id)])
                ],
            }
        about = handoff.summary(
            trigger=trigger,
            customer_id=view.customer_id,
            customer_name=self.buyer_name(view.customer_id),
            verified_by=view.verified_by,
            order=order,
            reason=view.reason,
            reason_text=view.reason_text,
            offered=view.pending_offer.value if view.pending_offer is not Offer.NONE else None,
            records=records,
            lines=handoff.transcript(events),
        )
        queued = self.handoffs.open_handoff(view.sender_id, channel, trigger, about, webhook=handoff.webhook_enabled())
        now = self.store.clock()
        position = max(self.handoffs.queue_position(queued.id), 1)
        at_desk = self.handoffs.agents_at_desk(handoff.AT_DESK_WITHIN)
        message = handoff.queued_message(position, now, handoff.SupportHours.from_env(), at_desk)
        return handoff.Handoff(queued.id, position, message)

    # --- acting on a yes ------------------------------------------------------------

    def carry_out(self, view: ConversationView) -> Outcome:
        """Do exactly what was offered, to the order it was offered for, after re-reading
        that order: if it moved on since the question, nothing is written and the buyer
        is asked again about what is possible now."""
        offer = view.pending_offer
        facts = self.find(view.offer_order_id, view.customer_id)
        if facts is None:
            return Outcome(Result.GONE, (say("offer.order_gone"),))
        current = self.advise(facts, view.goal, view.reason, view.customer_id)
        still_offered = current.offer is offer or offer is Offer.SEND_SELLER_MESSAGE
        if not still_offered and not already_done(offer, facts):
            changed = (say("offer.order_changed"), *current.messages)
            return Outcome(Result.CHANGED, changed, current if current.offer is not Offer.NONE else None)
        return Outcome(Result.DONE, self._write(offer, facts, view))

    def _write(self, offer: Offer, order: OrderFacts, view: ConversationView) -> tuple[Say, ...]:
        reason = view.reason.value if view.reason else None
        if offer is Offer.CANCEL_NOW:
            result = self.store.cancel_unpaid_order(order.order_id, reason, view.reason_text)
            if not result.created:
                return (say("done.already_cancelled", order_id=order.order_id),)
            done = say("done.cancelled", order_id=order.order_id, product=order.product)
            return (done, say("done.reorder")) if view.reason is Reason.PAYMENT_ISSUE else (done,)
        if offer is Offer.SUBMIT_REQUEST:
            result = self.store.record_cancellation_request(order.order_id, reason, view.reason_text)
            sent = "done.request_sent" if result.created else "done.request_already_sent"
            deadline = self.store.clock() + guidance.SELLER_ANSWER_WINDOW
            return (
                say(sent, order_id=order.order_id, seller=order.seller.name),
                say("done.request_next", deadline=deadline),
            )
        if offer is Offer.SEND_SELLER_MESSAGE:
            body = view.seller_message_draft
            if not body:  # never send a message the buyer was not shown
                return (say("offer.no_draft"),)
            result = self.store.record_seller_message(order.order_id, view.customer_id or "", body)
            if not result.created:
                return (say("done.message_already_sent"),)
            return (say("done.message_sent", seller=order.seller.name),)
        return self._open_dispute(order, view)

    def _open_dispute(self, order: OrderFacts, view: ConversationView) -> tuple[Say, ...]:
        evidence = guidance.dispute_evidence(order, view.reason)
        result = self.store.open_dispute(
            order.order_id,
            view.customer_id or "",
            view.reason.value if view.reason else None,
            view.reason_text or render(say("dispute.description_default")),
            "; ".join(render(item) for item in evidence),
        )
        opened = "done.dispute_opened" if result.created else "done.dispute_already_open"
        return (
            say(opened, dispute_id=result.id, order_id=order.order_id),
            say(
                "done.dispute_next",
                evidence=evidence,
                days=guidance.DISPUTE_RESPONSE_WINDOW.days,
                answer_by=self.store.clock() + guidance.DISPUTE_RESPONSE_WINDOW,
            ),
        )

    # --- who is asking -----------------------------------------------------------------

    def verify_by_email(self, order_id: str, email: str, conversation: str) -> Verification:
        """Prove identity by email; a foreign order and an unknown one fail alike. The
        limits live in the database, so nothing typed in the chat (``/restart``, a new
        conversation) resets them."""
        check = self.store.attempt_email_check(order_id, email, conversation, GUESSING_LIMITS)
        if check.customer_id:
            return Verification(customer_id=check.customer_id)
        if check.paused:
            logger.warning(f"email checks for order …{order_id[-4:]} paused: too many failures")
            return Verification(attempts=check.failures, paused=True, messages=(say("verify.paused"),))
        logger.warning(f"failed email check for order …{order_id[-4:]} in conversation {conversation}")
        if check.locked:
            return Verification(attempts=check.failures, locked=True)
        return Verification(attempts=check.failures, messages=(say("email.no_match", order_id=order_id),))


def already_done(offer: Offer, order: OrderFacts) -> bool:
    """The offer's effect already holds (a second "yes"): the write then reports it once more."""
    if offer is Offer.CANCEL_NOW:
        return order.status is OrderStatus.CANCELLED
    if offer is Offer.SUBMIT_REQUEST:
        return order.request is not None and order.request.state is RequestState.PENDING
    if offer is Offer.OPEN_DISPUTE:
        return order.dispute_open
    return False


@lru_cache(maxsize=4)
def _service_for(location: str) -> OrderService:
    return OrderService(open_demo_store(location), open_handoff_store(location))


def get_service() -> OrderService:
    """One service per database (ORDER_DB_URL, else ORDER_DB_PATH), so tests can point it elsewhere."""
    return _service_for(str(default_location()))
