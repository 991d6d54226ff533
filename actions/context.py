"""Glue between Rasa trackers, the order store and the guidance rules."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker

from actions import identity
from actions.guidance import OrderFacts, Reason, RequestFacts, SellerFacts, Status
from actions.store import OrderStore, to_datetime

# Button payloads arrive as "/intent" text: they are not the buyer's own words.
PAYLOAD_PREFIX = "/"


@lru_cache(maxsize=4)
def _store_for(path: str) -> OrderStore:
    return OrderStore(path)


def get_store() -> OrderStore:
    """One store per database path, so tests can point ORDER_DB_PATH elsewhere."""
    from actions.store import default_db_path

    return _store_for(str(default_db_path()))


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}


def verified_customer(tracker: Tracker) -> str | None:
    """The proven customer: the slot set by an earlier check, or a valid signed token now."""
    return tracker.get_slot("customer_id") or identity.customer_from_metadata(latest_metadata(tracker))


def reason_from(tracker: Tracker) -> Reason | None:
    value = tracker.get_slot("reason")
    try:
        return Reason(value) if value else None
    except ValueError:
        return None


def buyer_words(tracker: Tracker) -> str | None:
    """The latest message as typed, unless it was a button press."""
    text = (tracker.latest_message or {}).get("text") or ""
    return None if not text or text.startswith(PAYLOAD_PREFIX) else text[:2000]


def earlier_order(tracker: Tracker) -> str | None:
    """The order number before the latest message. (The slot already holds the new number:
    Rasa extracts slots before the form runs.)"""
    events = tracker.events or []
    user_turns = [i for i, event in enumerate(events) if event.get("event") == "user"]
    for event in reversed(events[: user_turns[-1]] if user_turns else events):
        if event.get("event") == "slot" and event.get("name") == "order_id" and event.get("value"):
            return str(event["value"])
    return None


def message_gives_reason(tracker: Tracker) -> bool:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return intent.startswith("reason_")


def reason_is_stale(tracker: Tracker, order_id: str | None) -> bool:
    """The reason was already used to guide the buyer about another order, and this message
    does not give a reason again. A corrected order number (before any guidance) keeps its
    reason. The slot `reason_used_for` remembers the order, so this holds however long the
    conversation grows, unlike a look back through the events."""
    used_for = tracker.get_slot("reason_used_for")
    return bool(used_for and order_id and used_for != order_id and not message_gives_reason(tracker))


def order_facts(store: OrderStore, order: dict) -> OrderFacts:
    """Everything the rules need to know about one order, read from the store."""
    seller_row = store.seller(order["seller_id"]) or {}
    seller = SellerFacts(
        name=seller_row.get("name", "the seller"),
        rating=float(seller_row.get("rating") or 0),
        positive_feedback_pct=float(seller_row.get("positive_feedback_pct") or 0),
        store_opened_at=to_datetime(seller_row.get("store_opened_at")),
        cancellation_policy=seller_row.get("cancellation_policy"),
        cancellation_deadline_hours=seller_row.get("cancellation_deadline_hours"),
    )
    request_row = store.latest_cancellation_request(order["id"])
    request = (
        RequestFacts(
            state=request_row["state"],
            created_at=to_datetime(request_row["created_at"]),  # type: ignore[arg-type]
            responded_at=to_datetime(request_row["responded_at"]),
            seller_note=request_row["seller_note"],
        )
        if request_row
        else None
    )
    return OrderFacts(
        order_id=order["id"],
        status=Status(order["status"]),
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
        twin_order_ids=tuple(twin["id"] for twin in store.likely_duplicates(order["id"])),
        dispute_open=store.open_dispute_for(order["id"]) is not None,
    )


def human_support_hint() -> str:
    return os.environ.get(
        "HUMAN_SUPPORT_HINT",
        "You can also reach AliExpress customer service at any time through " "Help Center → Online Service.",
    )
