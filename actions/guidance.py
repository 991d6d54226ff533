"""The guidance rules (docs/product.md §4): what a buyer should do with an order, and why.

Plain Python with no Rasa imports and no sentences, so a support lead can read the rules
and the tests can check them as a table. The service turns a database row into
:class:`OrderFacts` and asks one of the ``guide_*`` functions; what comes back is a
decision: a path, an offer, and the messages to show, as ids of the wording catalogue
(:mod:`actions.replies`) with their parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from actions.facts import OrderFacts, RequestFacts, SellerFacts
from actions.replies import Money, Say, say
from actions.vocabulary import Offer, OrderStatus, Reason, RequestState

# How long a seller normally has to answer a cancellation request before the buyer
# should escalate. Requests exactly this old count as expired.
SELLER_ANSWER_WINDOW = timedelta(hours=48)
# How long the seller has to respond to a dispute before the marketplace decides.
DISPUTE_RESPONSE_WINDOW = timedelta(days=5)
# A store younger than this is called new when the buyer doubts the seller.
NEW_STORE_AGE = timedelta(days=90)

Status = OrderStatus  # the rules' name for it


class Path(str, Enum):
    """The route the assistant recommends."""

    CANCEL_NOW = "cancel_now"
    REQUEST_CANCELLATION = "request_cancellation"
    WAIT_FOR_SELLER = "wait_for_seller"
    CONTACT_SELLER = "contact_seller"
    OPEN_DISPUTE = "open_dispute"
    NOT_CANCELLABLE = "not_cancellable"
    DISPUTE_AFTER_DELIVERY = "dispute_after_delivery"
    ALREADY_CANCELLED = "already_cancelled"
    DISPUTE_OPEN = "dispute_open"


@dataclass(frozen=True)
class Guidance:
    """A decision: the path, what to say, and the write offered with its yes/no question."""

    path: Path
    messages: tuple[Say, ...]
    offer: Offer = Offer.NONE
    question: Say | None = None
    facts: dict[str, Any] = field(default_factory=dict)


# --- pieces the rules share --------------------------------------------------------------


def order_label(order: OrderFacts) -> Say:
    return say("order.label", order_id=order.order_id, product=order.product)


def seller_summary(seller: SellerFacts, now: datetime) -> Say:
    age: Say | str = ""
    if seller.store_opened_at:
        if now - seller.store_opened_at < NEW_STORE_AGE:
            weeks = (now - seller.store_opened_at).days // 7
            age = say("seller.opened_recently", weeks=weeks) if weeks else say("seller.opened_this_week")
        else:
            age = say("seller.open_since", opened=seller.store_opened_at)
    return say(
        "seller.summary", seller=seller.name, rating=seller.rating, feedback=seller.positive_feedback_pct, age=age
    )


def quote_policy(seller: SellerFacts) -> Say:
    """The seller's own rules, to be read before acting."""
    if not seller.cancellation_policy:
        return say("policy.none", seller=seller.name)
    deadline = (
        say("policy.deadline", hours=seller.cancellation_deadline_hours) if seller.cancellation_deadline_hours else ""
    )
    return say("policy.quote", seller=seller.name, policy=seller.cancellation_policy, deadline=deadline)


def _date_suffix(key: str, moment: datetime | None) -> Say | str:
    return say(key, date=moment) if moment else ""


def ask_dispute(order: OrderFacts) -> Say:
    return say("ask.dispute", order_id=order.order_id)


def ask_request(order: OrderFacts) -> Say:
    return say("ask.request", order_id=order.order_id, seller=order.seller.name)


def ask_cancel_now(order: OrderFacts) -> Say:
    return say("ask.cancel_now", order_id=order.order_id)


def seller_deadline(request: RequestFacts) -> datetime:
    return request.created_at + SELLER_ANSWER_WINDOW


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def dispute_evidence(order: OrderFacts, reason: Reason | None = None) -> list[Say]:
    """What the buyer should attach to a dispute so AliExpress can decide quickly."""
    evidence = [say("evidence.order_number", order_id=order.order_id)]
    if order.request is not None:
        evidence.append(say("evidence.request_date", date=order.request.created_at))
        if order.request.state is RequestState.DECLINED:
            evidence.append(say("evidence.refusal_screenshot"))
        elif order.request.state is RequestState.PENDING:
            evidence.append(say("evidence.no_answer_screenshot"))
    if reason is Reason.PRICE_OR_PRODUCT_CHANGE:
        evidence.append(say("evidence.listing_screenshots"))
    if reason is Reason.SELLER_COMMUNICATION:
        evidence.append(say("evidence.unanswered_messages"))
    if order.status is Status.DELIVERED:
        evidence.append(say("evidence.arrival_photos"))
    if order.tracking_number:
        evidence.append(say("evidence.tracking", tracking=order.tracking_number))
    return evidence


def _evidence(order: OrderFacts, reason: Reason | None) -> Say:
    return say("evidence.include", items=dispute_evidence(order, reason))


def _dispute_offer(
    path: Path, situation: Say, order: OrderFacts, reason: Reason | None, facts: dict[str, Any] | None = None
) -> Guidance:
    """The situation, the evidence to include, and the offer to open the dispute."""
    return Guidance(path, (situation, _evidence(order, reason)), Offer.OPEN_DISPUTE, ask_dispute(order), facts or {})


def past_seller_deadline(order: OrderFacts, now: datetime) -> bool:
    """The seller's own policy gives a window after payment, and it has closed."""
    hours = order.seller.cancellation_deadline_hours
    return bool(hours and order.paid_at and now > order.paid_at + timedelta(hours=hours))


def live_request(order: OrderFacts) -> RequestFacts | None:
    """A request the seller has not answered yet, or has refused."""
    live = (RequestState.PENDING, RequestState.DECLINED)
    return order.request if order.request and order.request.state in live else None


def needs_reason(order: OrderFacts) -> bool:
    """Only an order the buyer can still cancel or ask to cancel needs a reason."""
    if order.status is Status.AWAITING_PAYMENT:
        return True
    return order.status is Status.AWAITING_SHIPMENT and live_request(order) is None


# --- the rules ---------------------------------------------------------------------------


def guide_cancellation(order: OrderFacts, reason: Reason | None, now: datetime) -> Guidance:
    """The buyer wants to cancel: pick the path by the order's state, then by the reason."""
    if order.dispute_open:
        return _dispute_already_open(order)
    if order.status is Status.AWAITING_PAYMENT:
        return _cancel_unpaid(order, reason)
    if order.status is Status.AWAITING_SHIPMENT:
        pending = live_request(order)
        if pending is not None:
            return _follow_up_request(order, pending, reason, now)
        return _request_cancellation(order, reason, now)
    if order.status is Status.SHIPPED:
        return _shipped(order)
    if order.status is Status.DELIVERED:
        return _delivered(order, reason)
    return _already_cancelled(order)


def _keep_this_one(order: OrderFacts, offer: Offer) -> Guidance:
    """The twin is already on its way out: keep this order unless the buyer insists."""
    twins = ", ".join(order.twins_being_cancelled)
    keep = say("duplicate.twin_being_cancelled", twins=twins, product=order.product, order_id=order.order_id)
    path = Path.CANCEL_NOW if offer is Offer.CANCEL_NOW else Path.REQUEST_CANCELLATION
    return Guidance(path, (keep,), offer, say("ask.cancel_as_well", order_id=order.order_id))


def _cancel_unpaid(order: OrderFacts, reason: Reason | None) -> Guidance:
    if order.twins_being_cancelled:
        return _keep_this_one(order, Offer.CANCEL_NOW)
    messages = [say("cancel_now.unpaid", order=order_label(order))]
    if reason is Reason.PAYMENT_ISSUE:
        messages.append(say("cancel_now.payment_advice"))
    if reason is Reason.DUPLICATE_ORDER and order.twin_order_ids:
        messages.append(_twin(order))
    return Guidance(Path.CANCEL_NOW, tuple(messages), Offer.CANCEL_NOW, ask_cancel_now(order))


# What each reason adds to the advice for a paid order that has not shipped.
_REQUEST_ADVICE = {
    Reason.CHANGED_MIND: "request.changed_mind",
    Reason.SELLER_COMMUNICATION: "request.seller_communication",
    Reason.PAYMENT_ISSUE: "request.payment_issue",
}


def _request_cancellation(order: OrderFacts, reason: Reason | None, now: datetime) -> Guidance:
    if reason is Reason.PRICE_OR_PRODUCT_CHANGE:
        return _contact_first_about_change(order)
    if order.twins_being_cancelled:  # whatever the reason: never leave the buyer with neither
        return _keep_this_one(order, Offer.SUBMIT_REQUEST)
    messages = [say("request.cancellable", order=order_label(order)), quote_policy(order.seller)]
    if past_seller_deadline(order, now):
        messages.append(say("request.past_seller_deadline", hours=order.seller.cancellation_deadline_hours))
    if reason in _REQUEST_ADVICE:
        messages.append(say(_REQUEST_ADVICE[reason]))
    elif reason is Reason.SHIPPING_DELAY:
        if order.estimated_delivery:
            messages.append(say("request.estimate", estimate=order.estimated_delivery))
        messages.append(say("request.shipping_delay"))
    elif reason is Reason.DUPLICATE_ORDER:
        messages.append(_twin(order) if order.twin_order_ids else say("duplicate.no_twin"))
    elif reason is Reason.UNRELIABLE_SELLER:
        messages += [seller_summary(order.seller, now), say("request.unreliable_seller")]
    messages.append(say("request.answer_time"))
    return Guidance(Path.REQUEST_CANCELLATION, tuple(messages), Offer.SUBMIT_REQUEST, ask_request(order))


def _contact_first_about_change(order: OrderFacts) -> Guidance:
    return Guidance(
        Path.CONTACT_SELLER,
        (say("contact.price_change", order=order_label(order), seller=order.seller.name), quote_policy(order.seller)),
        Offer.SEND_SELLER_MESSAGE,
        say("ask.message_about_change"),
    )


def _twin(order: OrderFacts) -> Say:
    twins = ", ".join(order.twin_order_ids)
    return say("duplicate.twin", twins=twins, product=order.product, order_id=order.order_id)


def _follow_up_request(order: OrderFacts, request: RequestFacts, reason: Reason | None, now: datetime) -> Guidance:
    if request.state is RequestState.DECLINED:
        declined = say(
            "followup.declined",
            seller=order.seller.name,
            order=order_label(order),
            note=say("followup.seller_note", note=request.seller_note) if request.seller_note else "",
            declined_on=_date_suffix("on_date", request.responded_at),
        )
        return _dispute_offer(Path.OPEN_DISPUTE, declined, order, reason, {"declined_at": request.responded_at})
    deadline = seller_deadline(request)
    age = hours_between(request.created_at, now)
    facts = {"seller": order.seller.name, "order": order_label(order), "age": age, "deadline": deadline}
    if now < deadline:
        left = hours_between(now, deadline)
        return Guidance(
            Path.WAIT_FOR_SELLER,
            (say("followup.waiting", left=left, **facts),),
            facts={"deadline": deadline, "hours_left": left},
        )
    return _dispute_offer(Path.OPEN_DISPUTE, say("followup.expired", **facts), order, reason, {"deadline": deadline})


def _tracking_facts(order: OrderFacts) -> list[Say]:
    facts = []
    if order.tracking_number:
        facts.append(say("facts.tracking", tracking=order.tracking_number))
    if order.estimated_delivery:
        facts.append(say("facts.estimate", estimate=order.estimated_delivery))
    return facts


def _shipped(order: OrderFacts) -> Guidance:
    shipped = say(
        "shipped.not_cancellable",
        order=order_label(order),
        shipped_on=_date_suffix("shipped_on_date", order.shipped_at),
    )
    return Guidance(
        Path.NOT_CANCELLABLE,
        (shipped, *_tracking_facts(order), say("shipped.wait")),
        facts={"tracking_number": order.tracking_number, "estimated_delivery": order.estimated_delivery},
    )


def _delivered(order: OrderFacts, reason: Reason | None) -> Guidance:
    delivered = say(
        "delivered.dispute_only",
        order=order_label(order),
        delivered_on=_date_suffix("on_date", order.delivered_at),
    )
    return _dispute_offer(Path.DISPUTE_AFTER_DELIVERY, delivered, order, reason)


def _already_cancelled(order: OrderFacts) -> Guidance:
    cancelled = say("cancelled.already", order=order_label(order), since=_date_suffix("since_date", order.cancelled_at))
    return Guidance(Path.ALREADY_CANCELLED, (cancelled, *refund_explanation(order)))


def _dispute_already_open(order: OrderFacts) -> Guidance:
    return Guidance(Path.DISPUTE_OPEN, (say("dispute.already_open", order=order_label(order)),))


def refund_explanation(order: OrderFacts | None = None) -> tuple[Say, ...]:
    """Where the money goes and how long it takes."""
    general = say("refund.general")
    if order is None:
        return (general,)
    if order.status is Status.CANCELLED and order.paid_at is None:
        return (say("refund.nothing_paid"),)  # cancelled before payment: no money moved
    if order.status is Status.CANCELLED:
        if order.refund_status in (None, "in_progress"):
            state: Say | str = say("refund.state.in_progress" if order.refund_status else "refund.state.unknown")
        else:
            state = str(order.refund_status)
        return (say("refund.of_cancelled", amount=Money(order.price or 0.0, order.currency), state=state), general)
    if order.status is Status.AWAITING_PAYMENT:
        return (say("refund.nothing_paid"),)
    if order.dispute_open:
        return (say("refund.through_open_dispute"),)  # the money comes from the dispute's decision
    if order.status is Status.DELIVERED:
        return (say("refund.delivered_needs_dispute"),)  # no cancellation any more: "after it" misleads
    return (say("refund.not_cancelled"), general)


# --- other topics ------------------------------------------------------------------------


def guide_dispute(order: OrderFacts, reason: Reason | None, now: datetime) -> Guidance:
    """A dispute is the last resort: offer it only where it is the right step."""
    if order.dispute_open:
        return _dispute_already_open(order)
    if order.status is Status.AWAITING_PAYMENT:
        return Guidance(
            Path.CANCEL_NOW,
            (say("dispute.not_needed_unpaid", order=order_label(order)),),
            Offer.CANCEL_NOW,
            ask_cancel_now(order),
        )
    if order.status is Status.CANCELLED:
        return _already_cancelled(order)
    if order.status is Status.SHIPPED:
        overdue = order.estimated_delivery is not None and now > order.estimated_delivery
        if not overdue:
            return _shipped(order)
        return _dispute_offer(Path.OPEN_DISPUTE, say("dispute.overdue", order=order_label(order)), order, reason)
    if order.status is Status.DELIVERED:
        return _delivered(order, reason)
    pending = live_request(order)
    if pending is None:
        return Guidance(
            Path.REQUEST_CANCELLATION,
            (
                say("dispute.request_first", order=order_label(order), seller=order.seller.name),
                quote_policy(order.seller),
            ),
            Offer.SUBMIT_REQUEST,
            ask_request(order),
        )
    return _follow_up_request(order, pending, reason, now)


def describe_status(order: OrderFacts, now: datetime) -> tuple[Say, ...]:
    """The answer to "where is my order?"."""
    base = {"order_id": order.order_id, "product": order.product, "seller": order.seller.name}
    if order.status is Status.AWAITING_PAYMENT:
        return (say("status.awaiting_payment", placed=order.placed_at, **base),)
    if order.status is Status.AWAITING_SHIPMENT:
        messages = [say("status.awaiting_shipment", **base)]
        if order.estimated_delivery:
            messages.append(say("facts.estimate", estimate=order.estimated_delivery))
        request = order.request
        if request and request.state is RequestState.PENDING:
            messages.append(
                say("status.request_pending", created=request.created_at, deadline=seller_deadline(request))
            )
        elif request and request.state is RequestState.DECLINED:
            messages.append(say("status.request_declined"))
        return tuple(messages)
    if order.status is Status.SHIPPED:
        shipped = say("status.shipped", shipped_on=_date_suffix("on_date", order.shipped_at), **base)
        return (shipped, *_tracking_facts(order))
    if order.status is Status.DELIVERED:
        return (say("status.delivered", delivered_on=_date_suffix("on_date", order.delivered_at), **base),)
    return (say("status.cancelled", **base), *refund_explanation(order))
