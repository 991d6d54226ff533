"""The message to the seller that the assistant drafts for the buyer (docs/product.md §4, "Contact
seller"): polite, with the order number and the reason, and whatever the buyer asked to say;
or the buyer's own message, with the order number above it. No Rasa imports, no sentences: the
wording is in :mod:`actions.replies`.

What is sent is the text the buyer was shown and said yes to (the adapters keep it in a slot);
this module only composes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from actions.dictation_languages import read_other_languages
from actions.facts import OrderFacts
from actions.guidance import Guidance, Path
from actions.replies import Say, render, say
from actions.vocabulary import Offer, OrderStatus, Reason

# What the buyer may put in one message to a seller; the whole body stays well under the
# channels' 2,000-character message limit.
MAX_SELLER_WORDS = 1000


class Dictation(str, Enum):
    ADD = "add"  # a line added to the drafted message ("add that I need it before Christmas")
    OWN = "own"  # the buyer's own message, in place of the drafted request


@dataclass(frozen=True)
class BuyerWords:
    """What the buyer asked to say to the seller, bound to one order once it is known."""

    order_id: str | None = None
    own: str | None = None
    added: tuple[str, ...] = ()

    @classmethod
    def from_slot(cls, value: Any) -> BuyerWords:
        """From the ``seller_words`` slot; anything malformed counts as nothing said."""
        if not isinstance(value, dict):
            return cls()
        own = value.get("own")
        added = value.get("added")
        order_id = value.get("order_id")
        return cls(
            order_id if isinstance(order_id, str) else None,
            own if isinstance(own, str) and own else None,
            tuple(line for line in added if isinstance(line, str) and line) if isinstance(added, list) else (),
        )

    def to_slot(self) -> dict[str, Any] | None:
        if not self.own and not self.added:
            return None
        return {"order_id": self.order_id, "own": self.own, "added": list(self.added)}

    def __bool__(self) -> bool:
        return bool(self.own or self.added)

    def for_order(self, order_id: str | None) -> BuyerWords:
        """These words for `order_id`: words said about another order are not carried over."""
        if self.order_id and order_id and self.order_id != order_id:
            return BuyerWords(order_id)
        return replace(self, order_id=order_id or self.order_id)

    def with_dictation(self, kind: Dictation, words: str) -> BuyerWords:
        if kind is Dictation.OWN:
            return replace(self, own=words, added=())
        return replace(self, added=(*self.added, words))

    def length(self) -> int:
        """Characters the buyer's words take in the message."""
        return len(self.own or "") + sum(len(line) + 1 for line in self.added)


NO_WORDS = BuyerWords()

# --- reading what the buyer dictates ------------------------------------------------------------

_LEAD = (
    r"^(?:(?:ok(?:ay)?|and|also|please|pls|plz|kindly|can (?:you|u)|could (?:you|u)|would (?:you|u)|then"
    r"|i (?:need|want|would like|'d like) to|i wanna|i'd like to)[,\s]+)*"
)
# "the seller", "seller", "the shop owner", "them"; "for me" after it changes nothing.
_SELLER = r"(?:him|her|them|(?:the\s+)?(?:seller|store|shop|vendor|merchant)(?:\s+owner)?)(?:\s+for\s+me)?"
_ORDER_REF = (
    r"(?:\s+(?:of|for|about)\s+(?:my\s+|the\s+)?(?:order|purchase|package)?\s*(?:no\.?|number|#)?\s*[\d][\d \-]{2,24})?"
)
# "contact the shop (of order 8100…) and ask …", "check with the seller whether …": the
# request leads to a question.
_REACH = (
    r"(?:(?:contact|message|msg|ping|write\s+to|reach\s+out\s+to|get\s+in\s+touch\s+with)\s+"
    + _SELLER
    + _ORDER_REF
    + r",?\s+and\s+ask(?:\s+(?:them|him|her))?|check\s+with\s+"
    + _SELLER
    + _ORDER_REF
    + r")"
)
# "send this to the seller of order 8100…: could you …", "message the store: …", "write: …"
_OWN = re.compile(
    _LEAD + r"(?:send|write|message|tell|say)"
    r"(?:\s+(?:this|that|the following|these words|a message|this message))?"
    r"(?:\s+(?:to\s+)?" + _SELLER + _ORDER_REF + r")?(?:\s+(?:this|that|the following))?\s*[:\-–]\s*(?P<words>.+)$",
    re.I | re.S,
)
# "add that …", "also mention …", "include: …", "put in that …"
_ADD = re.compile(
    _LEAD + r"(?:add|include|mention|append|put in|write in)"
    r"(?:\s+(?:that|this|a line|a note|a sentence|saying|to the message|to it|in the message|as well))*"
    r"\s*[:,\-–]?\s+(?P<words>.+)$",
    re.I | re.S,
)
# "tell them I need it before Christmas", "let the seller know that …", "say that …"
_TELL = re.compile(
    _LEAD
    + r"(?:(?:tell|inform|remind)\s+"
    + _SELLER
    + r"|let\s+"
    + _SELLER
    + r"\s+know|say(?:\s+to\s+"
    + _SELLER
    + r")?)"
    + _ORDER_REF
    + r"(?:\s+that)?\s*[:,\-–]?\s+(?P<words>.+)$",
    re.I | re.S,
)
# "ask the seller …", "contact the shop and ask …": what comes next is put to the seller.
_ASKING = r"(?:ask\s+" + _SELLER + _ORDER_REF + r"|" + _REACH + r")"
_AUXILIARY = r"(?:can|could|will|would|do|does|did|is|are|have|has)"
# "ask them if they can ship it before Christmas", "ask the seller to pack it well"
_ASK = re.compile(
    _LEAD
    + _ASKING
    + r"\s+(?P<how>if|whether|when|why|how|what|where|who|to|for)\s+(?P<words>.+)$"
    # "ask if they do cash on delivery": with no one named, the one asked is the seller.
    + r"|"
    + _LEAD
    + r"ask\s+(?P<how_>if|whether)\s+(?P<words_>.+)$",
    re.I | re.S,
)
# "ask the seller can he send it with dhl": a question put straight after "ask the seller".
_ASK_DIRECT = re.compile(
    _LEAD + _ASKING + r"[,:]?\s+(?P<words>" + _AUXILIARY + r"\s+(?:he|she|they|it|you|the|this|that)\b.+)$",
    re.I | re.S,
)
# In a question put to the seller, the buyer's "they" is the seller's "you".
_PRONOUNS = {
    "they": "you",
    "them": "you",
    "their": "your",
    "theirs": "yours",
    "he": "you",
    "him": "you",
    "his": "your",
    "she": "you",
    "themselves": "yourselves",
    "they're": "you're",
    "they'll": "you'll",
    "they've": "you've",
    "they'd": "you'd",
}
_PRONOUN = re.compile(r"\b(" + "|".join(re.escape(word) for word in _PRONOUNS) + r")\b", re.I)
_LONE_I = re.compile(r"\bi\b")
_QUESTION = re.compile(
    r"(?:could|can|would|will|when|where|what|why|how|is|are|do|does|did|have|has"
    # The same openings in Spanish, Portuguese, French and Russian ("¿" is the buyer's to add).
    r"|puede|puedes|podría|podria|cuándo|dónde|cómo|qué|pode|poderia|quando|onde|pourriez|pouvez|"
    r"est-ce|quand|comment|можете|могли|когда|где|как|есть\s+ли)\b",
    re.I,
)
_QUOTES = ('"', "'", "“", "”", "‘", "’", "«", "»")


# "Send it in English", in the buyer's language: many sellers read English better than it.
_IN_ENGLISH = re.compile(
    r"\b(?:in\s+english|en\s+ingl[eé]s|em\s+ingl[eê]s|en\s+anglais|po[- ]?angliysk[iy])\b"
    r"|на\s+английском|по-английски|английск",
    re.IGNORECASE,
)


def asks_for_english(text: str | None) -> bool:
    """Whether the buyer asks for the message to the seller in English."""
    return bool(text and _IN_ENGLISH.search(text))


def read_dictation(text: str) -> tuple[Dictation, str]:
    """What to put in the message, from a message that says what to tell the seller: the
    words after "add that", "tell them", "send this to the seller: …"; a question after "ask
    them if …" addressed to the seller; and a message with none of these, whole, as the
    buyer's own (it is written to the seller: "could you ship it before Christmas?"). The
    same in Spanish, Portuguese, French and Russian (actions/dictation_languages.py)."""
    text = text.strip()
    if match := _OWN.match(text):
        return Dictation.OWN, tidy(match["words"])
    if match := _ADD.match(text):
        return Dictation.ADD, tidy(match["words"])
    if match := _TELL.match(text):
        return Dictation.ADD, tidy(match["words"])
    if match := _ASK_DIRECT.match(text):
        question = _to_seller(match["words"])
        return Dictation.ADD, tidy(question[0].upper() + question[1:] + "?")
    if match := _ASK.match(text):
        clause = _to_seller(match["words"] or match["words_"])
        how = (match["how"] or match["how_"]).lower()
        if how == "to":
            return Dictation.ADD, tidy(render(say("seller_words.ask_to", clause=clause)))
        if how == "for":
            return Dictation.ADD, tidy(render(say("seller_words.ask_for", thing=clause)))
        return Dictation.ADD, tidy(render(say("seller_words.ask_whether", how=how, clause=clause)))
    if dictated := read_other_languages(text):
        if dictated.kind == "own":
            return Dictation.OWN, tidy(dictated.words)
        if dictated.kind == "add":
            return Dictation.ADD, tidy(dictated.words)
        clause = re.sub(r"[\s.?!]+$", "", dictated.words)
        put_to_seller = say("seller_words.ask_whether", how=dictated.how, clause=clause)
        return Dictation.ADD, tidy(render(put_to_seller, dictated.language))
    return Dictation.OWN, tidy(text)


def _to_seller(clause: str) -> str:
    """The buyer's clause about the seller, said to the seller: "they" becomes "you"; a
    trailing emoji or full stop goes."""
    clause = re.sub(r"[\s.?!]*(?:[^\w\s,.?!'\"]+[\s.?!]*)*$", "", clause.strip())
    clause = re.sub(r",?\s+(?:please|pls|plz|thanks|thank you)$", "", clause, flags=re.I)
    return _PRONOUN.sub(lambda word: _PRONOUNS[word[0].lower()], clause)


def tidy(words: str) -> str:
    """The buyer's words as a sentence: outer quotes and runs of spaces removed, a capital
    first letter and a full stop if it has none. Line breaks are kept."""
    words = words.strip()
    while len(words) >= 2 and words[0] in _QUOTES and words[-1] in _QUOTES:
        words = words[1:-1].strip()
    lines = [" ".join(line.split()) for line in words.splitlines()]
    words = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not words:
        return ""
    words = _LONE_I.sub("I", words[0].upper() + words[1:])
    if not words[-1].isalnum():
        return words
    return words + ("?" if _QUESTION.match(words) else ".")


# --- the message ---------------------------------------------------------------------------------


def draft_seller_message(
    order: OrderFacts, reason: Reason | None, buyer_name: str = "", words: BuyerWords | None = None
) -> Say:
    """A polite, professional message with the order number and the reason, and the lines
    the buyer added; or the buyer's own message under the order number."""
    words = words or BuyerWords()
    signature = (
        say("seller_message.signature", name=buyer_name) if buyer_name else say("seller_message.signature_anonymous")
    )
    added = "".join("\n" + line for line in words.added)
    if words.own:
        return say(
            "seller_message.own_body",
            seller=order.seller.name,
            order_id=order.order_id,
            product=order.product,
            words=words.own + added,
            signature=signature,
        )
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_SHIPMENT) and reason:
        ask = "seller_message.ask_price" if reason is Reason.PRICE_OR_PRODUCT_CHANGE else "seller_message.ask_cancel"
    elif order.status is OrderStatus.SHIPPED:
        ask = "seller_message.ask_delivery"
    else:
        ask = "seller_message.ask_help"
    because = say("seller_message.because", sentence=say(f"reason_sentence.{reason.value}")) if reason else ""
    return say(
        "seller_message.body",
        seller=order.seller.name,
        order_id=order.order_id,
        product=order.product,
        because=because,
        ask=say(ask),
        added=added,
        signature=signature,
    )


def draft_in(decision: Guidance, language: str) -> Guidance:
    """The decision with its message to the seller written in `language` ("send it in
    English"): the text shown is the text sent; the rest stays in the buyer's language."""
    draft = decision.facts.get("draft")
    if not isinstance(draft, Say):
        return decision
    text = render(draft, language)
    messages = tuple(
        say(message.key, **{**message.params, "draft": text}) if message.params.get("draft") is draft else message
        for message in decision.messages
    )
    return replace(decision, messages=messages, facts={**decision.facts, "draft": text})


def guide_contact_seller(
    order: OrderFacts, reason: Reason | None, buyer_name: str = "", words: BuyerWords | None = None
) -> Guidance:
    return with_draft(Guidance(Path.CONTACT_SELLER, (), Offer.SEND_SELLER_MESSAGE), order, reason, buyer_name, words)


def with_draft(
    decision: Guidance, order: OrderFacts, reason: Reason | None, buyer_name: str = "", words: BuyerWords | None = None
) -> Guidance:
    """A decision that offers to message the seller, with the message shown whole before
    the question: what the buyer approves is what is sent."""
    draft = draft_seller_message(order, reason, buyer_name, words)
    shown = "contact.own_draft" if words else "contact.draft"
    return replace(
        decision,
        messages=(*decision.messages, say(shown, seller=order.seller.name, draft=draft)),
        question=say("ask.send_draft"),
        facts={**decision.facts, "draft": draft},
    )
