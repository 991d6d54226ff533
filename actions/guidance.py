"""The guidance rules (SPEC §4): what a buyer should do with an order, and why.

Plain Python with no Rasa imports, so a support lead can read it and the tests can check
it as a table. Actions turn a database row into :class:`OrderFacts`, ask one of the
``guide_*`` functions, and say what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

# How long a seller normally has to answer a cancellation request before the buyer
# should escalate. Requests exactly this old count as expired.
SELLER_ANSWER_WINDOW = timedelta(hours=48)

DISPUTE_STEPS = 'My Orders → the order → "Open Dispute"'
CONTACT_STEPS = '"Contact Now" on the order details page'


class Status(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Reason(str, Enum):
    CHANGED_MIND = "changed_mind"
    SELLER_COMMUNICATION = "seller_communication"
    PAYMENT_ISSUE = "payment_issue"
    SHIPPING_DELAY = "shipping_delay"
    PRICE_OR_PRODUCT_CHANGE = "price_or_product_change"
    DUPLICATE_ORDER = "duplicate_order"
    UNRELIABLE_SELLER = "unreliable_seller"


REASON_LABELS = {
    Reason.CHANGED_MIND: "I changed my mind",
    Reason.SELLER_COMMUNICATION: "The seller doesn't answer",
    Reason.PAYMENT_ISSUE: "Payment problem",
    Reason.SHIPPING_DELAY: "Shipping takes too long",
    Reason.PRICE_OR_PRODUCT_CHANGE: "Price or product changed",
    Reason.DUPLICATE_ORDER: "I ordered it twice",
    Reason.UNRELIABLE_SELLER: "The seller looks unreliable",
}

# The sentence the buyer's message to the seller gives as the reason.
REASON_SENTENCES = {
    Reason.CHANGED_MIND: "I no longer need this item",
    Reason.SELLER_COMMUNICATION: "I have not been able to get an answer to my messages",
    Reason.PAYMENT_ISSUE: "there was a problem with my payment",
    Reason.SHIPPING_DELAY: "the order has not shipped yet and the delivery time is too long for me",
    Reason.PRICE_OR_PRODUCT_CHANGE: "the price or the product details changed after I ordered",
    Reason.DUPLICATE_ORDER: "I placed this order twice by mistake",
    Reason.UNRELIABLE_SELLER: "I am no longer comfortable with this purchase",
}


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


class Offer(str, Enum):
    """A write the assistant can do for the buyer, only after they confirm."""

    NONE = "none"
    CANCEL_NOW = "cancel_now"
    SUBMIT_REQUEST = "submit_request"
    SEND_SELLER_MESSAGE = "send_seller_message"
    OPEN_DISPUTE = "open_dispute"


@dataclass(frozen=True)
class SellerFacts:
    name: str
    rating: float
    positive_feedback_pct: float
    store_opened_at: datetime | None = None
    cancellation_policy: str | None = None
    cancellation_deadline_hours: int | None = None


@dataclass(frozen=True)
class RequestFacts:
    """The latest cancellation request of an order."""

    state: str  # pending / approved / declined
    created_at: datetime
    responded_at: datetime | None = None
    seller_note: str | None = None


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    status: Status
    product: str
    seller: SellerFacts
    placed_at: datetime
    price: float | None = None
    currency: str = "USD"
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    estimated_delivery: datetime | None = None
    tracking_number: str | None = None
    refund_status: str | None = None
    request: RequestFacts | None = None
    twin_order_ids: tuple[str, ...] = ()
    dispute_open: bool = False


@dataclass(frozen=True)
class Guidance:
    path: Path
    message: str
    offer: Offer = Offer.NONE
    question: str | None = None  # the yes/no question that goes with the offer
    facts: dict = field(default_factory=dict)


# --- small formatting helpers ------------------------------------------------------------


def when(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M UTC")


def day(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def describe_duration(hours: float) -> str:
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        whole = int(hours)
        return f"{whole} hour" + ("" if whole == 1 else "s")
    days = int(hours // 24)
    return f"{days} days"


def seller_summary(seller: SellerFacts, now: datetime) -> str:
    text = (
        f"{seller.name} has a {seller.rating:.1f}/5 rating with "
        f"{seller.positive_feedback_pct:.0f}% positive feedback"
    )
    if seller.store_opened_at:
        age_days = (now - seller.store_opened_at).days
        if age_days < 90:
            text += f", and the store opened only {age_days // 7} weeks ago"
        else:
            text += f", and has been open since {day(seller.store_opened_at)}"
    return text + "."


def quote_policy(seller: SellerFacts) -> str:
    """The seller's own rules, to be read before acting."""
    if not seller.cancellation_policy:
        return f"{seller.name} has not published a cancellation policy."
    text = f'{seller.name}\'s cancellation policy: "{seller.cancellation_policy}"'
    if seller.cancellation_deadline_hours:
        text += f" (deadline: {seller.cancellation_deadline_hours} h after payment)"
    return text


def order_label(order: OrderFacts) -> str:
    return f"order {order.order_id} ({order.product})"


def ask_dispute(order: OrderFacts) -> str:
    return f"Shall I open a dispute for order {order.order_id} for you?"


def ask_request(order: OrderFacts) -> str:
    return f"Shall I send the cancellation request for order {order.order_id} to {order.seller.name}?"


def seller_deadline(request: RequestFacts) -> datetime:
    return request.created_at + SELLER_ANSWER_WINDOW


def dispute_evidence(order: OrderFacts, reason: Reason | None = None) -> list[str]:
    """What the buyer should attach to a dispute so AliExpress can decide quickly."""
    evidence = [f"the order number {order.order_id}"]
    if order.request is not None:
        evidence.append(f"the date you asked the seller to cancel ({day(order.request.created_at)})")
        if order.request.state == "declined":
            evidence.append("a screenshot of the seller's refusal")
        elif order.request.state == "pending":
            evidence.append("a screenshot showing the seller never answered")
    if reason is Reason.PRICE_OR_PRODUCT_CHANGE:
        evidence.append("screenshots of the original listing and price")
    if reason is Reason.SELLER_COMMUNICATION:
        evidence.append("screenshots of your unanswered messages")
    if order.status is Status.DELIVERED:
        evidence.append("photos or a short video of the item as it arrived")
    if order.tracking_number:
        evidence.append(f"the tracking number {order.tracking_number}")
    return evidence


def _evidence_text(order: OrderFacts, reason: Reason | None) -> str:
    return "Include as evidence: " + "; ".join(dispute_evidence(order, reason)) + "."


def live_request(order: OrderFacts) -> RequestFacts | None:
    return order.request if order.request and order.request.state in ("pending", "declined") else None


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


def _cancel_unpaid(order: OrderFacts, reason: Reason | None) -> Guidance:
    lines = [
        f"Your {order_label(order)} is still awaiting payment, so it can be cancelled "
        "right away — no money has been taken."
    ]
    if reason is Reason.PAYMENT_ISSUE:
        lines.append(
            "After cancelling, place a new order and pay with a valid payment method "
            "(check the card number, expiry date and billing address, or choose another method)."
        )
    if reason is Reason.DUPLICATE_ORDER and order.twin_order_ids:
        lines.append(_twin_sentence(order))
    return Guidance(
        Path.CANCEL_NOW,
        " ".join(lines),
        Offer.CANCEL_NOW,
        f"Shall I cancel order {order.order_id} now?",
    )


def _request_cancellation(order: OrderFacts, reason: Reason | None, now: datetime) -> Guidance:
    if reason is Reason.PRICE_OR_PRODUCT_CHANGE:
        return _contact_first_about_change(order)
    lines = [
        f"Your {order_label(order)} is paid but not shipped yet, so the seller can still "
        "cancel it. " + quote_policy(order.seller)
    ]
    if reason is Reason.CHANGED_MIND:
        lines.append(
            "Cancelling now is better than receiving an item you don't want: "
            "a return after delivery takes much longer."
        )
    elif reason is Reason.SELLER_COMMUNICATION:
        lines.append(
            "I'll send the request with your reason; if the seller doesn't answer within "
            "48 hours, you can open a dispute and I'll help you with it."
        )
    elif reason is Reason.PAYMENT_ISSUE:
        lines.append(
            "Once the seller confirms, the payment goes back to your original payment method; "
            "if you were charged twice, the extra charge is returned the same way."
        )
    elif reason is Reason.SHIPPING_DELAY:
        if order.estimated_delivery:
            lines.append(f"The current delivery estimate is {day(order.estimated_delivery)}.")
        lines.append(
            "As it hasn't shipped, you can cancel and buy from a seller with faster shipping "
            '(filter by "Fast delivery" or choose a local warehouse).'
        )
    elif reason is Reason.DUPLICATE_ORDER:
        lines.append(
            _twin_sentence(order)
            if order.twin_order_ids
            else "I couldn't find a second order of the same item on your account, "
            "so please check My Orders before cancelling."
        )
    elif reason is Reason.UNRELIABLE_SELLER:
        lines.append(seller_summary(order.seller, now) + " Cancelling before it ships is the safest choice.")
    lines.append("Sellers normally answer a cancellation request within 24–48 hours.")
    return Guidance(
        Path.REQUEST_CANCELLATION,
        " ".join(lines),
        Offer.SUBMIT_REQUEST,
        ask_request(order),
    )


def _contact_first_about_change(order: OrderFacts) -> Guidance:
    return Guidance(
        Path.CONTACT_SELLER,
        f"For a price or listing change on your {order_label(order)}, contact "
        f"{order.seller.name} first: sellers often honour the original price or offer the "
        "advertised item. If they won't, cancel the order — it hasn't shipped yet. " + quote_policy(order.seller),
        Offer.SEND_SELLER_MESSAGE,
        "Shall I send the seller a message about it on your behalf?",
    )


def _twin_sentence(order: OrderFacts) -> str:
    twins = ", ".join(order.twin_order_ids)
    return (
        f"You also have order {twins} for the same {order.product}, placed at nearly the same "
        f"time. Keep one and cancel the extra one: I'll cancel {order.order_id} and leave "
        f"{twins} as it is."
    )


def _follow_up_request(order: OrderFacts, request: RequestFacts, reason: Reason | None, now: datetime) -> Guidance:
    if request.state == "declined":
        note = f' ("{request.seller_note}")' if request.seller_note else ""
        return Guidance(
            Path.OPEN_DISPUTE,
            f"{order.seller.name} declined your cancellation request for "
            f"{order_label(order)}{note}"
            + (f" on {day(request.responded_at)}" if request.responded_at else "")
            + ". The next step is a dispute — the marketplace then decides, so use it as "
            f"a last resort: {DISPUTE_STEPS}. " + _evidence_text(order, reason),
            Offer.OPEN_DISPUTE,
            ask_dispute(order),
            {"declined_at": request.responded_at},
        )
    deadline = seller_deadline(request)
    age = hours_between(request.created_at, now)
    if now < deadline:
        left = hours_between(now, deadline)
        return Guidance(
            Path.WAIT_FOR_SELLER,
            f"You already asked {order.seller.name} to cancel {order_label(order)} "
            f"{describe_duration(age)} ago. The seller still has time to answer: until "
            f"{when(deadline)} (about {describe_duration(left)} from now). If there is no answer "
            "by then, come back and I'll help you open a dispute.",
            facts={"deadline": deadline, "hours_left": left},
        )
    return Guidance(
        Path.OPEN_DISPUTE,
        f"You asked {order.seller.name} to cancel {order_label(order)} "
        f"{describe_duration(age)} ago and got no answer — the seller's 48 hours ran out on "
        f"{when(deadline)}. You can now open a dispute (a last resort, the marketplace then "
        f"decides): {DISPUTE_STEPS}. " + _evidence_text(order, reason),
        Offer.OPEN_DISPUTE,
        ask_dispute(order),
        {"deadline": deadline},
    )


def _shipped(order: OrderFacts) -> Guidance:
    tracking = f" Tracking number: {order.tracking_number}." if order.tracking_number else ""
    estimate = f" Estimated delivery: {day(order.estimated_delivery)}." if order.estimated_delivery else ""
    return Guidance(
        Path.NOT_CANCELLABLE,
        f"Your {order_label(order)} has already shipped"
        + (f" (on {day(order.shipped_at)})" if order.shipped_at else "")
        + ", so it can no longer be cancelled."
        + tracking
        + estimate
        + " Please wait for the package; once it arrives (or if it hasn't arrived by the end "
        f"of the delivery estimate), you can ask for a refund by opening a dispute: {DISPUTE_STEPS}.",
        facts={"tracking_number": order.tracking_number, "estimated_delivery": order.estimated_delivery},
    )


def _delivered(order: OrderFacts, reason: Reason | None) -> Guidance:
    return Guidance(
        Path.DISPUTE_AFTER_DELIVERY,
        f"Your {order_label(order)} was delivered"
        + (f" on {day(order.delivered_at)}" if order.delivered_at else "")
        + ", so it can't be cancelled any more. A refund or return is only possible through a "
        f"dispute: {DISPUTE_STEPS}. " + _evidence_text(order, reason),
        Offer.OPEN_DISPUTE,
        ask_dispute(order),
    )


def _already_cancelled(order: OrderFacts) -> Guidance:
    return Guidance(
        Path.ALREADY_CANCELLED,
        f"Your {order_label(order)} is already cancelled"
        + (f" (since {day(order.cancelled_at)})" if order.cancelled_at else "")
        + ". "
        + refund_explanation(order),
    )


def _dispute_already_open(order: OrderFacts) -> Guidance:
    return Guidance(
        Path.DISPUTE_OPEN,
        f"There is already an open dispute for {order_label(order)}. The marketplace will "
        "review it and answer in the dispute itself; you can add evidence there: "
        f"{DISPUTE_STEPS}.",
    )


def refund_explanation(order: OrderFacts | None = None) -> str:
    """Where the money goes and how long it takes."""
    text = (
        "Refunds go back to the original payment method. After the cancellation is confirmed, "
        "processing takes 3–7 business days, and your bank or card issuer may need up to "
        "15 business days more to show it."
    )
    if order is None:
        return text
    if order.status is Status.CANCELLED:
        state = "in progress" if order.refund_status == "in_progress" else (order.refund_status or "being processed")
        return f"The refund of {order.price:.2f} {order.currency} is {state}. " + text
    if order.status is Status.AWAITING_PAYMENT:
        return "Nothing was paid for this order, so there is nothing to refund."
    return "This order isn't cancelled, so no refund has started yet. " + text


# --- other topics ------------------------------------------------------------------------


def draft_seller_message(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> str:
    """A polite, professional message with the order number and the reason."""
    if order.status in (Status.AWAITING_PAYMENT, Status.AWAITING_SHIPMENT) and reason:
        ask = "Could you please cancel this order before it ships?"
        if reason is Reason.PRICE_OR_PRODUCT_CHANGE:
            ask = (
                "Could you please confirm the original price and listing? If that is not "
                "possible, please cancel the order."
            )
    elif order.status is Status.SHIPPED:
        ask = "Could you please tell me when it will be delivered?"
    else:
        ask = "Could you please help me with this order?"
    because = f" I am writing because {REASON_SENTENCES[reason]}." if reason else ""
    signature = f"\nKind regards,\n{buyer_name}" if buyer_name else "\nKind regards"
    return (
        f"Hello {order.seller.name},\n"
        f"I am contacting you about my order {order.order_id} ({order.product})."
        f"{because} {ask}\nThank you.{signature}"
    )


def guide_contact_seller(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> Guidance:
    draft = draft_seller_message(order, reason, buyer_name)
    return Guidance(
        Path.CONTACT_SELLER,
        f"Here is a message for {order.seller.name}. It goes through {CONTACT_STEPS}:\n\n{draft}",
        Offer.SEND_SELLER_MESSAGE,
        "Shall I send it on your behalf?",
        {"draft": draft},
    )


def guide_dispute(order: OrderFacts, reason: Reason | None, now: datetime) -> Guidance:
    """A dispute is the last resort: offer it only where it is the right step."""
    if order.dispute_open:
        return _dispute_already_open(order)
    if order.status is Status.AWAITING_PAYMENT:
        return Guidance(
            Path.CANCEL_NOW,
            f"No dispute is needed for {order_label(order)}: it isn't paid yet, so it can "
            "simply be cancelled, with no money taken.",
            Offer.CANCEL_NOW,
            f"Shall I cancel order {order.order_id} now?",
        )
    if order.status is Status.CANCELLED:
        return _already_cancelled(order)
    if order.status is Status.SHIPPED:
        overdue = order.estimated_delivery is not None and now > order.estimated_delivery
        if not overdue:
            return _shipped(order)
        return Guidance(
            Path.OPEN_DISPUTE,
            f"Your {order_label(order)} is past its delivery estimate. You can open a dispute "
            f"for a refund: {DISPUTE_STEPS}. " + _evidence_text(order, reason),
            Offer.OPEN_DISPUTE,
            ask_dispute(order),
        )
    if order.status is Status.DELIVERED:
        return _delivered(order, reason)
    pending = live_request(order)
    if pending is None:
        return Guidance(
            Path.REQUEST_CANCELLATION,
            f"A dispute is a last resort. Your {order_label(order)} hasn't shipped yet, so the "
            f"first step is a cancellation request to {order.seller.name}; if they don't answer "
            "within 48 hours or decline, you can open a dispute. " + quote_policy(order.seller),
            Offer.SUBMIT_REQUEST,
            ask_request(order),
        )
    return _follow_up_request(order, pending, reason, now)


def describe_status(order: OrderFacts, now: datetime) -> str:
    """A one-paragraph answer to "where is my order?"."""
    base = f"Order {order.order_id} ({order.product}, {order.seller.name})"
    if order.status is Status.AWAITING_PAYMENT:
        return f"{base} is awaiting payment; it was placed on {when(order.placed_at)}."
    if order.status is Status.AWAITING_SHIPMENT:
        text = f"{base} is paid and awaiting shipment."
        if order.estimated_delivery:
            text += f" Estimated delivery: {day(order.estimated_delivery)}."
        request = order.request
        if request and request.state == "pending":
            text += (
                f" Your cancellation request from {day(request.created_at)} is waiting for the "
                f"seller's answer (until {when(seller_deadline(request))})."
            )
        elif request and request.state == "declined":
            text += " The seller declined your cancellation request."
        return text
    if order.status is Status.SHIPPED:
        text = f"{base} shipped"
        if order.shipped_at:
            text += f" on {day(order.shipped_at)}"
        text += "."
        if order.tracking_number:
            text += f" Tracking number: {order.tracking_number}."
        if order.estimated_delivery:
            text += f" Estimated delivery: {day(order.estimated_delivery)}."
        return text
    if order.status is Status.DELIVERED:
        return f"{base} was delivered" + (f" on {day(order.delivered_at)}." if order.delivered_at else ".")
    return f"{base} is cancelled. " + refund_explanation(order)
