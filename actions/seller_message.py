"""The message to the seller that the assistant drafts for the buyer (docs/product.md §4, "Contact
seller"): polite, with the order number and the reason. No Rasa imports, no sentences: the
wording is in :mod:`actions.replies`.
"""

from __future__ import annotations

from actions.facts import OrderFacts
from actions.guidance import Guidance, Path
from actions.replies import Say, say
from actions.vocabulary import Offer, OrderStatus, Reason


def draft_seller_message(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> Say:
    """A polite, professional message with the order number and the reason."""
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_SHIPMENT) and reason:
        ask = "seller_message.ask_price" if reason is Reason.PRICE_OR_PRODUCT_CHANGE else "seller_message.ask_cancel"
    elif order.status is OrderStatus.SHIPPED:
        ask = "seller_message.ask_delivery"
    else:
        ask = "seller_message.ask_help"
    because = say("seller_message.because", sentence=say(f"reason_sentence.{reason.value}")) if reason else ""
    signature = (
        say("seller_message.signature", name=buyer_name) if buyer_name else say("seller_message.signature_anonymous")
    )
    return say(
        "seller_message.body",
        seller=order.seller.name,
        order_id=order.order_id,
        product=order.product,
        because=because,
        ask=say(ask),
        signature=signature,
    )


def guide_contact_seller(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> Guidance:
    draft = draft_seller_message(order, reason, buyer_name)
    return Guidance(
        Path.CONTACT_SELLER,
        (say("contact.draft", seller=order.seller.name, draft=draft),),
        Offer.SEND_SELLER_MESSAGE,
        say("ask.send_draft"),
        {"draft": draft},
    )
