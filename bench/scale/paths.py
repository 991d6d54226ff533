"""What the buyers say and what it must leave in the order store.

Each conversation is a whole cancellation path of SPEC §4 on an order of its own; its order
is seeded in the state the path needs, and afterwards the order store must hold exactly one
write per confirmed offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from actions.store import OrderStore, to_text

# The buyers all the benchmark's orders belong to: a few accounts with many orders each.
BUYERS = {f"bench.buyer{n}@example.com": f"BB{n}" for n in range(1, 9)}
ORDER_PREFIXES = {"load": "82", "faults": "83", "long": "84"}


# --- what the buyers say -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One message and a phrase of the reply that shows the step went as scripted."""

    text: str  # "{order}" and "{email}" are filled in per conversation
    expect: str


@dataclass(frozen=True)
class Writes:
    """What a path leaves in the order store for its order."""

    requests: int = 0
    messages: int = 0
    disputes: int = 0
    cancelled: bool = False


@dataclass(frozen=True)
class BuyerPath:
    name: str
    order: dict[str, Any]  # order columns; timedeltas are relative to the seeding moment
    steps: tuple[Step, ...]
    writes: Writes
    declined_request: bool = False  # the seller already declined a cancellation request


def path(name: str, order: dict[str, Any], opening: str, after_email: str, *rest: Step, **writes: Any) -> BuyerPath:
    """Every path starts the same way: what the buyer wants, the order number, the email."""
    declined = writes.pop("declined_request", False)
    verify = (Step(opening, "order number"), Step("{order}", "email address"), Step("{email}", after_email))
    return BuyerPath(name, order, (*verify, *rest), Writes(**writes), declined)


DAY = timedelta(days=1)
UNPAID = {"status": "awaiting_payment", "placed_at": -timedelta(hours=1), "estimated_delivery": 20 * DAY}
PAID = {"status": "awaiting_shipment", "placed_at": -DAY, "paid_at": -DAY, "estimated_delivery": 18 * DAY}
PAID_DAYS_AGO = {**PAID, "placed_at": -4 * DAY, "paid_at": -4 * DAY}
SHIPPED = {**PAID, "status": "shipped", "placed_at": -8 * DAY, "paid_at": -8 * DAY, "shipped_at": -5 * DAY,
           "tracking_number": "LP{n:011d}CN"}  # fmt: skip
CANCEL = "I want to cancel an order"
CONTACT = "I want to message the seller"
YES = "yes"

PATHS = (
    path("unpaid → cancelled at once", UNPAID, CANCEL, "Why do you want to cancel",
         Step("my card was declined when I paid", "no money has been taken"), Step("yes please", "is cancelled"),
         requests=1, cancelled=True),
    path("paid → request to the seller", PAID, CANCEL, "Why do you want to cancel",
         Step("/reason_changed_mind", "Shall I send the cancellation request"),
         Step(YES, "sent your cancellation request"), requests=1),
    path("shipped → wait", SHIPPED, CANCEL, "can no longer be cancelled",
         Step("when will it arrive?", "Tracking number"), Step("thanks", "welcome")),
    path("shipped → contact the seller", SHIPPED, CANCEL, "can no longer be cancelled",
         Step(CONTACT, "Contact Now"), Step(YES, "Sent"), messages=1),
    path("declined → dispute", PAID_DAYS_AGO, "the seller refused to cancel my order", "Shall I open a dispute",
         Step(YES, "dispute #"), Step("thanks", "welcome"), disputes=1, declined_request=True),
    path("contact the seller → sent", PAID, CONTACT, "Contact Now",
         Step("add that I need it before Christmas", "I need it before Christmas."), Step(YES, "Sent"), messages=1),
)  # fmt: skip
GREETING = Step("hi", "order assistant")
THANKS = Step("thanks", "welcome")


@dataclass
class Plan:
    """One conversation: its buyer, its order and its turns."""

    index: int
    sender: str
    order_id: str
    email: str
    path: BuyerPath
    turns: list[Step]


def plan_conversations(count: int, phase: str, emails: list[str]) -> list[Plan]:
    """`count` conversations cycling through the paths; some greet first or thank at the
    end, so conversations run 5 to 7 turns."""
    run = uuid.uuid4().hex[:6]
    plans = []
    for index in range(count):
        buyer_path = PATHS[index % len(PATHS)]
        order_id = f"{ORDER_PREFIXES[phase]}{index:014d}"
        email = emails[index % len(emails)]
        steps = list(buyer_path.steps)
        if (index // len(PATHS)) % 2:
            steps.insert(0, GREETING)
        if (index // (2 * len(PATHS))) % 2 and steps[-1] != THANKS:
            steps.append(THANKS)
        turns = [Step(step.text.format(order=order_id, email=email), step.expect) for step in steps]
        plans.append(Plan(index, f"scale-{phase}-{run}-{index:05d}", order_id, email, buyer_path, turns))
    return plans


# --- the order store -------------------------------------------------------------------------


def seed_customers(store: OrderStore) -> list[str]:
    """A few buyer accounts with known emails (how the buyers verify); their emails."""
    store.db["customers"].insert_all(
        {"id": customer, "name": f"Bench Buyer {customer[2:]}", "email": email} for email, customer in BUYERS.items()
    )
    return list(BUYERS)


def order_row(order_id: str, customer_id: str, state: dict[str, Any], now: datetime, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": order_id, "customer_id": customer_id, "seller_id": "S1", "item_id": f"BI-{order_id}",
        "product": f"Bench item {n}", "quantity": 1, "price": 10.0 + n % 50, "currency": "USD",
    }  # fmt: skip
    for column, value in state.items():
        row[column] = to_text(now + value) if isinstance(value, timedelta) else value.format(n=n)
    return row


def seed_orders(store: OrderStore, plans: list[Plan], now: datetime) -> None:
    """An order per conversation in its path's state, and the seller's refusal where the
    path needs one (created two days before `now`, so it is not counted as a write)."""
    store.db["orders"].insert_all(
        order_row(plan.order_id, BUYERS[plan.email], plan.path.order, now, plan.index) for plan in plans
    )
    store.db["cancellation_requests"].insert_all(
        {
            "order_id": plan.order_id, "reason": "changed_mind", "buyer_words": "I don't need it any more.",
            "created_at": to_text(now - 2 * DAY), "state": "declined", "responded_at": to_text(now - DAY),
            "seller_response_hours": 24.0, "seller_note": "The parcel is already packed.",
        }
        for plan in plans
        if plan.path.declined_request
    )  # fmt: skip


WRITE_TABLES = {"requests": "cancellation_requests", "messages": "seller_messages", "disputes": "disputes"}


def writes_found(store: OrderStore, prefix: str, since: datetime) -> dict[str, dict[str, int]]:
    """Rows written since `since` per table and order, for the orders whose id starts with `prefix`."""
    found = {}
    for kind, table in WRITE_TABLES.items():
        rows = store.db.query(
            f"select order_id, count(*) as n from {table} where order_id like ? and created_at >= ? group by order_id",
            [prefix + "%", to_text(since)],
        )
        found[kind] = {row["order_id"]: row["n"] for row in rows}
    return found


def check_writes(store: OrderStore, plans: list[Plan], since: datetime) -> dict[str, Any]:
    """Per order, the writes made since seeding against what its path confirms: exactly one
    per confirmed offer, none for a path that confirms nothing; an unpaid order cancelled."""
    prefix = plans[0].order_id[:2]
    found = writes_found(store, prefix, since)
    status = {row["id"]: row["status"] for row in store.db.query("select id, status from orders where id like ?",
                                                                 [prefix + "%"])}  # fmt: skip
    problems: dict[str, list[dict[str, Any]]] = {"double": [], "unexpected": [], "missing": []}
    for plan in plans:
        expected = plan.path.writes
        for kind in WRITE_TABLES:
            rows, wanted = found[kind].get(plan.order_id, 0), getattr(expected, kind)
            problem = "double" if rows > 1 else "unexpected" if rows > wanted else "missing" if rows < wanted else ""
            if problem:
                problems[problem].append({"order": plan.order_id, "path": plan.path.name, "table": kind, "rows": rows})
        cancelled = status.get(plan.order_id) == "cancelled"
        if cancelled != expected.cancelled:
            problem = "unexpected" if cancelled else "missing"
            problems[problem].append({"order": plan.order_id, "path": plan.path.name, "table": "orders.status"})
    return {
        "writes_expected": sum(p.path.writes.requests + p.path.writes.messages + p.path.writes.disputes for p in plans),
        "writes_made": sum(sum(orders.values()) for orders in found.values()),
        "double_writes": len(problems["double"]),
        "unexpected_writes": len(problems["unexpected"]),
        "missing_writes": len(problems["missing"]),
        "examples": [example for kind in problems.values() for example in kind][:10],
    }
