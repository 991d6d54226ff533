"""The domain's terms, in one place: order states, request states, the seven reasons, the
buyer's goals and the offers the assistant can carry out.

The store writes these values, the rules reason with them, and the Rasa domain (slot
values, intents, buttons) names them; ``tests/test_vocabulary.py`` checks that
``domain/`` and ``data/`` agree with this module. The words a buyer reads for each term are
in :mod:`actions.replies`.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar


class OrderStatus(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class RequestState(str, Enum):
    """A cancellation request's state: the seller has not answered, agreed, or refused."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class DisputeState(str, Enum):
    OPEN = "open"
    CLOSED = "closed"


class Reason(str, Enum):
    """Why the buyer wants to cancel; each reason is also an intent, ``reason_<value>``."""

    CHANGED_MIND = "changed_mind"
    SELLER_COMMUNICATION = "seller_communication"
    PAYMENT_ISSUE = "payment_issue"
    SHIPPING_DELAY = "shipping_delay"
    PRICE_OR_PRODUCT_CHANGE = "price_or_product_change"
    DUPLICATE_ORDER = "duplicate_order"
    UNRELIABLE_SELLER = "unreliable_seller"

    @property
    def intent(self) -> str:
        return REASON_INTENT_PREFIX + self.value

    @classmethod
    def from_intent(cls, intent: str | None) -> Reason | None:
        """The reason an intent name gives, or None for any other intent."""
        if not intent or not intent.startswith(REASON_INTENT_PREFIX):
            return None
        return cls.parse(intent[len(REASON_INTENT_PREFIX) :])

    @classmethod
    def parse(cls, value: object) -> Reason | None:
        """A slot value as a reason; anything else (unset, unknown) as None."""
        return parse(cls, value)


REASON_INTENT_PREFIX = "reason_"


class Goal(str, Enum):
    """What the buyer came for; the latest order-related intent decides (slot ``goal``)."""

    CANCEL = "cancel"
    STATUS = "status"
    CONTACT_SELLER = "contact_seller"
    DISPUTE = "dispute"


class Offer(str, Enum):
    """A write the assistant can do for the buyer, only after they confirm (slot ``pending_offer``)."""

    NONE = "none"
    CANCEL_NOW = "cancel_now"
    SUBMIT_REQUEST = "submit_request"
    SEND_SELLER_MESSAGE = "send_seller_message"
    OPEN_DISPUTE = "open_dispute"


class HandoffState(str, Enum):
    """Where a conversation handed to a person is (docs/product.md §4, "Human handoff")."""

    WAITING = "waiting"  # in the queue: the bot is paused, no agent yet
    WITH_AGENT = "with_agent"  # an agent claimed it and answers the buyer
    HANDED_BACK = "handed_back"  # the agent gave it back to the bot
    CLOSED = "closed"  # the agent closed it (the bot answers again)


class HandoffTrigger(str, Enum):
    """Why a conversation went to a person: a signal for the support lead's reports."""

    ASKED = "asked"  # the buyer asked for a person
    LOCKED = "locked"  # the buyer was stopped by the limits on failed checks
    MISUNDERSTOOD = "misunderstood"  # the bot did not understand twice in a row


E = TypeVar("E", bound=Enum)


def parse(enum: type[E], value: object, default: E | None = None) -> E | None:
    """The member whose value this is, or ``default`` (slot values come from outside)."""
    try:
        return enum(value) if value else default
    except ValueError:
        return default


def goal_of(value: object) -> Goal:
    """Unset or unknown means the buyer wants to cancel: the product's aim."""
    return parse(Goal, value) or Goal.CANCEL


def offer_of(value: object) -> Offer:
    """Unset or unknown means nothing is offered."""
    return parse(Offer, value) or Offer.NONE
