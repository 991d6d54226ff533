"""One reading of a Rasa tracker: the order, the verified buyer, the goal, the reason and
the pending offer, as plain values for the service.

Only the adapters build it (:meth:`ConversationView.of`); it reads the tracker's slots,
latest message and events, with no Rasa import, so the service and its tests use it freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actions import identity
from actions.seller_message import NO_WORDS, BuyerWords
from actions.vocabulary import Goal, Offer, Reason, goal_of, offer_of

# Button payloads arrive as "/intent" text: they are not the buyer's own words.
PAYLOAD_PREFIX = "/"
MAX_BUYER_WORDS = 2000


@dataclass(frozen=True)
class ConversationView:
    sender_id: str = ""
    order_id: str | None = None  # normalised: 16 digits, or None
    # Proven by a valid signed token in this very message, or else by an email check earlier in
    # this session (the slot; a session ends after the idle time in domain/intents.yml).
    customer_id: str | None = None
    verified_by: str | None = None  # "token", "email" or None
    goal: Goal = Goal.CANCEL
    reason: Reason | None = None
    reason_text: str | None = None
    reason_used_for: str | None = None
    pending_offer: Offer = Offer.NONE
    offer_order_id: str | None = None  # the order the pending offer was made for
    seller_message_draft: str | None = None
    seller_message_language: str | None = None  # "en" when the buyer asked for English
    seller_words: BuyerWords = NO_WORDS  # what the buyer asked to say to the seller
    seller_text: str | None = None  # a message the buyer typed in the seller message form
    email: str | None = None
    verification_attempts: int = 0
    locked: bool = False
    intent: str = ""
    intent_ranking: tuple[dict[str, Any], ...] = ()
    text: str = ""
    earlier_order: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, tracker: Any) -> ConversationView:
        """Read a rasa-sdk ``Tracker`` once."""
        slot = tracker.get_slot
        latest = tracker.latest_message or {}
        metadata = latest_metadata(tracker)
        customer_id, verified_by = proven_customer(metadata, slot("customer_id"))
        offer, offer_order_id = parse_offer(slot("pending_offer"))
        return cls(
            sender_id=str(tracker.sender_id or ""),
            order_id=identity.normalise_order_id(slot("order_id")),
            customer_id=customer_id,
            verified_by=verified_by,
            goal=goal_of(slot("goal")),
            reason=Reason.parse(slot("reason")),
            reason_text=slot("reason_text"),
            reason_used_for=slot("reason_used_for"),
            pending_offer=offer,
            offer_order_id=offer_order_id,
            seller_message_draft=slot("seller_message_draft"),
            seller_message_language=slot("seller_message_language"),
            seller_words=BuyerWords.from_slot(slot("seller_words")),
            seller_text=slot("seller_text"),
            email=slot("email"),
            verification_attempts=int(slot("verification_attempts") or 0),
            # A signed-in buyer is never locked out by failed email checks.
            locked=bool(slot("verification_locked")) and verified_by != "token",
            intent=str((latest.get("intent") or {}).get("name") or ""),
            intent_ranking=tuple(latest.get("intent_ranking") or ()),
            text=str(latest.get("text") or ""),
            earlier_order=earlier_order(tracker.events or []),
            metadata=metadata,
        )

    @property
    def buyer_words(self) -> str | None:
        """The latest message as typed, unless it was a button press."""
        if not self.text or self.text.startswith(PAYLOAD_PREFIX):
            return None
        return self.text[:MAX_BUYER_WORDS]

    @property
    def gives_reason(self) -> bool:
        """The latest message itself gives a reason (a reason intent or its button)."""
        return Reason.from_intent(self.intent) is not None

    def reason_is_stale(self, order_id: str | None) -> bool:
        """The reason was already used to guide the buyer about another order, and this
        message does not give a reason again. A corrected order number (before any guidance)
        keeps its reason. The slot ``reason_used_for`` remembers the order, so this holds
        however long the conversation grows, unlike a look back through the events."""
        used_for = self.reason_used_for
        return bool(used_for and order_id and used_for != order_id and not self.gives_reason)


def proven_customer(metadata: dict[str, Any], email_verified: str | None) -> tuple[str | None, str | None]:
    """Who the buyer is, and by what proof. A token in the message decides alone: a valid
    one names the customer, a bad or expired one proves nobody (and drops an email check
    for someone else). Without a token, only an email check made in this session counts:
    a token's customer is never remembered, so a missing token proves nothing."""
    if identity.IDENTITY_METADATA_KEY in metadata:
        customer = identity.customer_from_metadata(metadata)
        return (customer, "token") if customer else (None, None)
    return (email_verified, "email") if email_verified else (None, None)


def offer_slot(offer: Offer, order_id: str) -> str:
    """The pending offer as stored: what will be done, and to which order."""
    return f"{offer.value}:{order_id}"


def parse_offer(value: object) -> tuple[Offer, str | None]:
    """An offer that does not name its order is no offer: a "yes" must not guess the order."""
    kind, _, order_id = str(value or "").partition(":")
    offer = offer_of(kind)
    normalised = identity.normalise_order_id(order_id)
    if offer is Offer.NONE or normalised is None or normalised != order_id:
        return Offer.NONE, None
    return offer, normalised


def latest_metadata(tracker: Any) -> dict[str, Any]:
    """The metadata of the latest user message (where a channel puts the signed identity)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}


def earlier_order(events: list[dict[str, Any]]) -> str | None:
    """The order number before the latest message. (The slot already holds the new number:
    Rasa extracts slots before the form runs.)"""
    user_turns = [i for i, event in enumerate(events) if event.get("event") == "user"]
    for event in reversed(events[: user_turns[-1]] if user_turns else events):
        if event.get("event") == "slot" and event.get("name") == "order_id" and event.get("value"):
            return str(event["value"])
    return None
