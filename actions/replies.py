"""Every sentence the action server and the channels show a buyer (or send for the buyer),
keyed by message id, with named parameters: the one place to change wording and the
place translation hangs on. What Rasa utters by itself (``utter_*``) is in
``domain/responses.yml``; the reason labels shared by both are checked equal by
``tests/test_vocabulary.py``.

Rules and services return :class:`Say` (a message id and its parameters), never text;
:func:`render` turns them into text. Placeholders take format specs for our own types:
``{when:when}`` and ``{date:day}`` for datetimes, ``{hours:duration}`` for a number of hours.
A parameter may itself be a ``Say`` (rendered first) or a list of them (joined with "; ").
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.vocabulary import Reason


@dataclass(frozen=True)
class Say:
    """A message to show: its id in :data:`MESSAGES` and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def say(key: str, **params: Any) -> Say:
    if key not in MESSAGES:
        raise KeyError(f"no message {key!r} in the catalogue")
    return Say(key, params)


# Times are shown in UTC: the buyer, the seller and support read the same moment.
WHEN_FORMAT = "%a %d %b %Y, %H:%M UTC"
DAY_FORMAT = "%d %b %Y"

MESSAGES: dict[str, str] = {
    # --- shared pieces ----------------------------------------------------------------------
    "order.label": "order {order_id} ({product})",
    "steps.dispute": 'My Orders → the order → "Open Dispute"',
    "steps.contact": '"Contact Now" on the order details page',
    "on_date": " on {date:day}",
    "since_date": " (since {date:day})",
    "shipped_on_date": " (on {date:day})",
    "duration.under_hour": "less than an hour",
    "duration.one_hour": "1 hour",
    "duration.hours": "{count} hours",
    "duration.days": "{count} days",
    "facts.tracking": "Tracking number: {tracking}.",
    "facts.estimate": "Estimated delivery: {estimate:day}.",
    # --- the seller ------------------------------------------------------------------------
    "seller.summary": "{seller} has a {rating:.1f}/5 rating with {feedback:.0f}% positive feedback{age}.",
    "seller.opened_recently": ", and the store opened only {weeks} weeks ago",
    "seller.open_since": ", and has been open since {opened:day}",
    "policy.none": "{seller} has not published a cancellation policy.",
    "policy.quote": '{seller}\'s cancellation policy: "{policy}"{deadline}',
    "policy.deadline": " (deadline: {hours} h after payment)",
    "policy.read_first": "Please read it before cancelling. In any case an unpaid order can be cancelled at once, "
    "and a paid one can be cancelled with the seller's agreement until it ships.",
    "policy.general": "Each seller sets their own cancellation policy — you'll find it on the store page and in the "
    "order details. In general: an unpaid order can be cancelled at once; a paid order can be cancelled until it "
    "ships, with the seller's agreement (they usually answer within 24–48 hours); once shipped, a refund goes through "
    "a dispute. Give me the order number and I'll quote that seller's policy.",
    # --- the reasons: button labels, and the sentence a message to the seller gives ----------
    "reason.changed_mind": "I changed my mind",
    "reason.seller_communication": "The seller doesn't answer",
    "reason.payment_issue": "Payment problem",
    "reason.shipping_delay": "Shipping takes too long",
    "reason.price_or_product_change": "Price or product changed",
    "reason.duplicate_order": "I ordered it twice",
    "reason.unreliable_seller": "The seller looks unreliable",
    "reason_sentence.changed_mind": "I no longer need this item",
    "reason_sentence.seller_communication": "I have not been able to get an answer to my messages",
    "reason_sentence.payment_issue": "there was a problem with my payment",
    "reason_sentence.shipping_delay": "the order has not shipped yet and the delivery time is too long for me",
    "reason_sentence.price_or_product_change": "the price or the product details changed after I ordered",
    "reason_sentence.duplicate_order": "I placed this order twice by mistake",
    "reason_sentence.unreliable_seller": "I am no longer comfortable with this purchase",
    # --- questions that go with an offer -----------------------------------------------------
    "ask.cancel_now": "Shall I cancel order {order_id} now?",
    "ask.request": "Shall I send the cancellation request for order {order_id} to {seller}?",
    "ask.dispute": "Shall I open a dispute for order {order_id} for you?",
    "ask.message_about_change": "Shall I send the seller a message about it on your behalf?",
    "ask.send_draft": "Shall I send it on your behalf? You can also tell me what to add, or write it yourself.",
    "ask.cancel_as_well": "Do you want to cancel order {order_id} as well?",
    "ask.again.cancel_now": "Shall I still cancel order {order_id}?",
    "ask.again.submit_request": "Shall I still send the cancellation request for order {order_id}?",
    "ask.again.send_seller_message": "Shall I still send the message to the seller of order {order_id}?",
    "ask.again.open_dispute": "Shall I still open the dispute for order {order_id}?",
    "greet.again": "Hello again! What would you like to do?",
    "button.yes": "Yes, go ahead",
    "button.no": "No, thanks",
    "button.write_own": "Write my own",
    "button.cancel_order": "Cancel an order",
    "button.where_is_order": "Where is my order?",
    "button.talk_to_person": "Talk to a person",
    "button.contact_seller": "Contact the seller",
    # --- guidance: cancelling -----------------------------------------------------------------
    "cancel_now.unpaid": "Your {order} is still awaiting payment, so it can be cancelled right away — "
    "no money has been taken.",
    "cancel_now.payment_advice": "After cancelling, place a new order and pay with a valid payment method "
    "(check the card number, expiry date and billing address, or choose another method).",
    "duplicate.twin": "You also have order {twins} for the same {product}, placed at nearly the same time. "
    "Keep one and cancel the extra one: I'll cancel {order_id} and leave {twins} as it is.",
    "duplicate.twin_being_cancelled": "Your other order {twins} for the same {product} is already being cancelled, "
    "so order {order_id} is the one you keep: I'd leave it as it is, or you would get neither.",
    "duplicate.no_twin": "I couldn't find a second order of the same item on your account, so please check "
    "My Orders before cancelling.",
    "request.cancellable": "Your {order} is paid but not shipped yet, so the seller can still cancel it.",
    "request.past_seller_deadline": "Note that the seller's own window ({hours} h after payment) has passed, so "
    "they may decline; if they do, a dispute is the next step, and I'll help you with it.",
    "request.changed_mind": "Cancelling now is better than receiving an item you don't want: a return after "
    "delivery takes much longer.",
    "request.seller_communication": "I'll send the request with your reason; if the seller doesn't answer within "
    "48 hours, you can open a dispute and I'll help you with it.",
    "request.payment_issue": "Once the seller confirms, the payment goes back to your original payment method; "
    "if you were charged twice, the extra charge is returned the same way.",
    "request.estimate": "The current delivery estimate is {estimate:day}.",
    "request.shipping_delay": "As it hasn't shipped, you can cancel and buy from a seller with faster shipping "
    '(filter by "Fast delivery" or choose a local warehouse).',
    "request.unreliable_seller": "Cancelling before it ships is the safest choice.",
    "request.answer_time": "Sellers normally answer a cancellation request within 24–48 hours.",
    "contact.price_change": "For a price or listing change on your {order}, contact {seller} first: sellers often "
    "honour the original price or offer the advertised item. If they won't, cancel the order — it hasn't shipped yet.",
    "followup.declined": "{seller} declined your cancellation request for {order}{note}{declined_on}. The next step "
    "is a dispute — the marketplace then decides, so use it as a last resort: {dispute_steps}.",
    "followup.seller_note": ' ("{note}")',
    "followup.waiting": "You already asked {seller} to cancel {order} {age:duration} ago. The seller still has time "
    "to answer: until {deadline:when} (about {left:duration} from now). If there is no answer by then, come back "
    "and I'll help you open a dispute.",
    "followup.expired": "You asked {seller} to cancel {order} {age:duration} ago and got no answer — the seller's "
    "48 hours ran out on {deadline:when}. You can now open a dispute (a last resort, the marketplace then "
    "decides): {dispute_steps}.",
    "shipped.not_cancellable": "Your {order} has already shipped{shipped_on}, so it can no longer be cancelled.",
    "shipped.wait": "Please wait for the package; once it arrives (or if it hasn't arrived by the end of the delivery "
    "estimate), you can ask for a refund by opening a dispute: {dispute_steps}.",
    "delivered.dispute_only": "Your {order} was delivered{delivered_on}, so it can't be cancelled any more. A refund "
    "or return is only possible through a dispute: {dispute_steps}.",
    "cancelled.already": "Your {order} is already cancelled{since}.",
    "dispute.already_open": "There is already an open dispute for {order}. The marketplace will review it and answer "
    "in the dispute itself; you can add evidence there: {dispute_steps}.",
    "dispute.not_needed_unpaid": "No dispute is needed for {order}: it isn't paid yet, so it can simply be "
    "cancelled, with no money taken.",
    "dispute.overdue": "Your {order} is past its delivery estimate. You can open a dispute for a refund: "
    "{dispute_steps}.",
    "dispute.request_first": "A dispute is a last resort. Your {order} hasn't shipped yet, so the first step is a "
    "cancellation request to {seller}; if they don't answer within 48 hours or decline, you can open a dispute.",
    # --- evidence for a dispute -----------------------------------------------------------------
    "evidence.include": "Include as evidence: {items}.",
    "evidence.order_number": "the order number {order_id}",
    "evidence.request_date": "the date you asked the seller to cancel ({date:day})",
    "evidence.refusal_screenshot": "a screenshot of the seller's refusal",
    "evidence.no_answer_screenshot": "a screenshot showing the seller never answered",
    "evidence.listing_screenshots": "screenshots of the original listing and price",
    "evidence.unanswered_messages": "screenshots of your unanswered messages",
    "evidence.arrival_photos": "photos or a short video of the item as it arrived",
    "evidence.tracking": "the tracking number {tracking}",
    # --- refunds ----------------------------------------------------------------------------------
    "refund.general": "Refunds go back to the original payment method. After the cancellation is confirmed, "
    "processing takes 3–7 business days, and your bank or card issuer may need up to 15 business days more to "
    "show it.",
    "refund.of_cancelled": "The refund of {price:.2f} {currency} is {state}.",
    "refund.state.in_progress": "in progress",
    "refund.state.unknown": "being processed",
    "refund.nothing_paid": "Nothing was paid for this order, so there is nothing to refund.",
    "refund.not_cancelled": "This order isn't cancelled, so no refund has started yet.",
    # --- where is my order -------------------------------------------------------------------------
    "status.awaiting_payment": "Order {order_id} ({product}, {seller}) is awaiting payment; it was placed on "
    "{placed:when}.",
    "status.awaiting_shipment": "Order {order_id} ({product}, {seller}) is paid and awaiting shipment.",
    "status.request_pending": "Your cancellation request from {created:day} is waiting for the seller's answer "
    "(until {deadline:when}).",
    "status.request_declined": "The seller declined your cancellation request.",
    "status.shipped": "Order {order_id} ({product}, {seller}) shipped{shipped_on}.",
    "status.delivered": "Order {order_id} ({product}, {seller}) was delivered{delivered_on}.",
    "status.cancelled": "Order {order_id} ({product}, {seller}) is cancelled.",
    # --- the message to the seller, written for the buyer ----------------------------------------------
    "seller_message.body": "Hello {seller},\nI am contacting you about my order {order_id} ({product}).{because} "
    "{ask}{added}\nThank you.{signature}",
    "seller_message.own_body": "Hello {seller},\nAbout my order {order_id} ({product}):\n{words}{signature}",
    "seller_message.because": " I am writing because {sentence}.",
    "seller_message.ask_cancel": "Could you please cancel this order before it ships?",
    "seller_message.ask_price": "Could you please confirm the original price and listing? If that is not possible, "
    "please cancel the order.",
    "seller_message.ask_delivery": "Could you please tell me when it will be delivered?",
    "seller_message.ask_help": "Could you please help me with this order?",
    "seller_message.signature": "\nKind regards,\n{name}",
    "seller_message.signature_anonymous": "\nKind regards",
    "contact.draft": "Here is a message for {seller}. It goes through {contact_steps}:\n\n{draft}",
    "contact.own_draft": "Here is your message to {seller}, exactly as it will be sent through {contact_steps}:"
    "\n\n{draft}",
    "offer.no_draft": "There is no message for me to send yet: tell me what you'd like to say to the seller.",
    # "ask them to pack it well", "ask them if they can ship it before Christmas", as put to the seller
    "seller_words.ask_to": "Could you please {clause}?",
    "seller_words.ask_whether": "Could you tell me {how} {clause}?",
    "seller_words.ask_for": "I would like to ask for {thing}.",
    "seller_words.kept": "OK, the message stays as it was.",
    "seller_words.nothing_sent": "OK, I haven't sent anything to the seller.",
    "seller_words.empty": "I didn't find any words to send. Please type your message to the seller.",
    "seller_words.too_long": "That is {count} characters; a message to the seller can hold up to {limit}. Please "
    "shorten it.",
    # --- after the buyer's yes -----------------------------------------------------------------------
    "done.cancelled": "Done — order {order_id} ({product}) is cancelled. No money was taken.",
    "done.reorder": "You can now place a new order and pay with a valid payment method.",
    "done.already_cancelled": "Order {order_id} was already cancelled.",
    "done.request_sent": "Done — I've sent your cancellation request for order {order_id} to {seller}.",
    "done.request_already_sent": "Your cancellation request for order {order_id} was already sent — "
    "I didn't send it twice.",
    "done.request_next": "The seller normally answers within 24–48 hours. If there's no answer by {deadline:when}, "
    "come back and I'll help you open a dispute. Once approved, the refund goes back to your original payment "
    "method.",
    "done.message_sent": 'Sent — your message is in the chat with {seller} ("Contact Now" on the order page). '
    "Sellers usually reply within 24–48 hours.",
    "done.message_already_sent": "That message was already sent to the seller — I didn't send it twice.",
    "done.dispute_opened": "Done — dispute #{dispute_id} is open for order {order_id}.",
    "done.dispute_already_open": "Dispute #{dispute_id} was already open for order {order_id}.",
    "done.dispute_next": "Add your evidence in the dispute ({evidence}). The seller has {days} days to respond "
    "(until {answer_by:when}); after that AliExpress steps in and decides.",
    "dispute.description_default": "Opened by the buyer through the assistant.",
    "offer.none_pending": "Great! What would you like to do — cancel an order, check where it is, contact the "
    "seller or open a dispute?",
    "offer.save_failed": 'Sorry, I couldn\'t save that just now — nothing was changed. Say "yes" again in a moment '
    "to retry.",
    "offer.order_gone": "I can't find that order on your account any more.",
    "offer.order_changed": "The order has changed since I checked, so I didn't do that.",
    "offer.declined": "OK, I haven't changed anything — order {order_id} stays as it is.",
    # --- which order, and who is asking ---------------------------------------------------------
    "order_id.wrong_length": "That order number doesn't look right: order numbers have exactly 16 digits (spaces "
    "or dashes are fine).",
    "order_id.which": "Which order? Pick one of your recent orders below, or type its number (16 digits, shown in "
    "My Orders under each order).",
    "order_id.choice": "{product} ({order_id})",
    "order_id.missing": "I need the order number to go on — 16 digits, shown in My Orders under each order.",
    "order.not_found": "I can't find order {order_id} on your account. Please check the number in My Orders "
    "(16 digits) and type it again.",
    "order.not_found_any": "I can't find that order on your account. Please check the number in My Orders.",
    "email.invalid": "That doesn't look like an email address. Please type the address you use to sign in, like "
    "name@example.com.",
    "email.no_match": "I couldn't match order {order_id} with that email address. Please check both — you can type "
    "a corrected order number or email.",
    "verify.paused": "For your security, email checks for this order number or this address are paused for a "
    'while: too many wrong tries. Customer service can help you — say "talk to a person" to see how to reach them.',
    "verify.locked_orders": "For your security I can't look up orders in this chat any more. Customer service can "
    'help you — say "talk to a person" to see how to reach them.',
    # --- help, a person, clarification ------------------------------------------------------------
    # No agent reads this chat (yet): never promise one (docs/product.md §4, "Human handoff").
    "handoff.not_here": "I can't pass this chat to a person: no support agent reads it, so nobody would answer "
    "you here.",
    # --- the queue for a person (actions/handoff.py) and the agent console (console/) ---------
    "handoff.queued": "I've passed this conversation to our support team, with everything we've covered, so you "
    "won't have to repeat it. You're number {position} in the queue. A support agent will answer here; whatever "
    "you write now goes to them, not to me.",
    "handoff.queued_nobody_at_desk": "I've passed this conversation to our support team, with everything we've "
    "covered. You're number {position} in the queue. No agent is at the desk right now: the first one to sign in "
    "sees your request and answers here. Whatever you write now goes to them, not to me.",
    "handoff.queued_closed": "I've passed this conversation to our support team, with everything we've covered. "
    "They're away now and back {opens:when}: your request is kept (number {position} in the queue) and an agent "
    "will answer here then. Whatever you write now goes to them, not to me.",
    "handoff.misunderstood": "Sorry, I still don't understand.",
    "handoff.joined": "{agent} from customer support has joined the conversation.",
    "handoff.handed_back": "{agent} has handed you back to me, the order assistant. What else can I do for you?",
    "handoff.closed": "{agent} has closed this conversation. If you need anything else, just write: the order "
    "assistant will answer.",
    "handoff.about_order": " about order {order_id}",
    "handoff.hint": "To talk to someone{about}, contact AliExpress customer service through Help Center → Online "
    "Service, open at any time.",
    "howto.doing_it": "You gave me order {order_id}, so let's cancel it together now.",
    "clarify.reasons": "Just to be sure I understood — which of these fits best?",
    "clarify.unknown": "Sorry, I didn't quite get that. Could you say it another way?",
    # --- the channels --------------------------------------------------------------------------------
    "channel.try_again": "Sorry, I couldn't finish that just now — please try again in a moment. Anything already "
    "done is kept, and nothing will be done twice.",
    "channel.numbered_footer": "Reply with a number, or in your own words.",
    "channel.too_long": "Sorry, that message is too long for me: please keep it under {limit} characters, or send "
    "it in shorter parts.",
}


def reason_label(reason: Reason) -> str:
    return MESSAGES[f"reason.{reason.value}"]


def describe_duration(hours: float) -> str:
    if hours < 1:
        return render(say("duration.under_hour"))
    if hours < 48:
        whole = int(hours)
        return render(say("duration.one_hour") if whole == 1 else say("duration.hours", count=whole))
    return render(say("duration.days", count=int(hours // 24)))


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if format_spec == "when" and isinstance(value, datetime):
            return value.strftime(WHEN_FORMAT)
        if format_spec == "day" and isinstance(value, datetime):
            return value.strftime(DAY_FORMAT)
        if format_spec == "duration":
            return describe_duration(float(value))
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()
_SHARED = {"dispute_steps": "steps.dispute", "contact_steps": "steps.contact"}


def _value(value: Any) -> Any:
    if isinstance(value, Say):
        return render(value)
    if isinstance(value, list | tuple) and all(isinstance(item, Say) for item in value):
        return "; ".join(render(item) for item in value)
    return "" if value is None else value


def render(message: Say) -> str:
    """The text of one message."""
    template = MESSAGES[message.key]
    params = {name: _value(value) for name, value in message.params.items()}
    for name, key in _SHARED.items():
        if "{" + name + "}" in template and name not in params:
            params[name] = MESSAGES[key]
    return _FORMATTER.format(template, **params)


def render_all(messages: Iterable[Say]) -> str:
    """Several messages as one paragraph."""
    return " ".join(render(message) for message in messages)
