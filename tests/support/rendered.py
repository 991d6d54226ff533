"""The rules as the buyer reads them: each ``guide_*`` result rendered through the wording
catalogue, so the rules' tests can check both the decision and the text it produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actions import guidance, seller_message
from actions.facts import OrderFacts
from actions.guidance import Path
from actions.replies import Say, render, render_all
from actions.vocabulary import Offer, Reason


@dataclass(frozen=True)
class Rendered:
    path: Path
    offer: Offer
    message: str
    question: str | None
    facts: dict[str, Any]


def rendered(decision: guidance.Guidance) -> Rendered:
    facts = {name: render(value) if isinstance(value, Say) else value for name, value in decision.facts.items()}
    question = render(decision.question) if decision.question else None
    return Rendered(decision.path, decision.offer, render_all(decision.messages), question, facts)


def guide_cancellation(order: OrderFacts, reason: Reason | None, now: datetime) -> Rendered:
    return rendered(guidance.guide_cancellation(order, reason, now))


def guide_dispute(order: OrderFacts, reason: Reason | None, now: datetime) -> Rendered:
    return rendered(guidance.guide_dispute(order, reason, now))


def guide_contact_seller(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> Rendered:
    return rendered(seller_message.guide_contact_seller(order, reason, buyer_name))


def draft_seller_message(order: OrderFacts, reason: Reason | None, buyer_name: str = "") -> str:
    return render(seller_message.draft_seller_message(order, reason, buyer_name))


def describe_status(order: OrderFacts, now: datetime) -> str:
    return render_all(guidance.describe_status(order, now))


def refund_explanation(order: OrderFacts | None = None) -> str:
    return render_all(guidance.refund_explanation(order))
