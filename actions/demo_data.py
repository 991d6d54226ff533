"""SPEC §3's demo data: two customers, two sellers and twelve orders in every state, with
times relative to "now", so the demo always shows a fresh order, an expired request, a
shipped parcel and so on. The store does not know about it: :func:`open_demo_store` hands
it to the store as the seed of a new database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from actions.store import Clock, OrderStore, to_text, utc_now
from actions.vocabulary import OrderStatus, RequestState


def open_demo_store(path: Path | str | None = None, clock: Clock = utc_now) -> OrderStore:
    """The order store, seeded with the demo data when its database is new."""
    return OrderStore(path, clock, seed=seed_demo_data)


def seed_demo_data(db: sqlite_utils.Database, now: datetime) -> None:
    """SPEC §3's demo data, with every time relative to ``now``."""

    def ago(**delta: float) -> str:
        return to_text(now - timedelta(**delta))  # type: ignore[return-value]

    def ahead(**delta: float) -> str:
        return to_text(now + timedelta(**delta))  # type: ignore[return-value]

    db["customers"].insert_all(
        [
            {"id": "C1", "name": "Alex Buyer", "email": "alex.buyer@example.com"},
            {"id": "C2", "name": "Sam Other", "email": "sam.other@example.com"},
        ]
    )
    db["sellers"].insert_all(
        [
            {
                "id": "S1",
                "name": "Shenzhen Gadget Store",
                "rating": 4.8,
                "positive_feedback_pct": 96.0,
                "store_opened_at": ago(days=6 * 365),
                "cancellation_policy": (
                    "Orders can be cancelled free of charge at any time before they ship. "
                    "We reply to cancellation requests within 24 hours."
                ),
                "cancellation_deadline_hours": None,
            },
            {
                "id": "S2",
                "name": "Cheap Deals 4U",
                "rating": 2.1,
                "positive_feedback_pct": 61.0,
                "store_opened_at": ago(weeks=3),
                "cancellation_policy": (
                    "Cancellation requests are accepted only within 24 hours of payment. "
                    "Orders being prepared for shipment cannot be cancelled."
                ),
                "cancellation_deadline_hours": 24,
            },
        ]
    )

    def order(order_id: str, product: str, item_id: str, price: float, **fields: Any) -> dict:
        row = {
            "id": order_id,
            "customer_id": "C1",
            "seller_id": "S1",
            "item_id": item_id,
            "product": product,
            "quantity": 1,
            "price": price,
            "currency": "USD",
            "status": OrderStatus.AWAITING_SHIPMENT.value,
            "placed_at": None,
            "paid_at": None,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "estimated_delivery": None,
            "tracking_number": None,
            "refund_status": None,
        }
        row.update(fields)
        return row

    db["orders"].insert_all(
        [
            order(
                "8100000000000001",
                "USB-C cable",
                "I-1001",
                4.99,
                status=OrderStatus.AWAITING_PAYMENT.value,
                placed_at=ago(hours=1),
                estimated_delivery=ahead(days=20),
            ),
            order(
                "8100000000000002",
                "Bluetooth earbuds",
                "I-1002",
                23.50,
                placed_at=ago(days=1, minutes=5),
                paid_at=ago(days=1),
                estimated_delivery=ahead(days=18),
            ),
            order(
                "8100000000000003",
                "Phone case",
                "I-1003",
                6.80,
                status=OrderStatus.SHIPPED.value,
                placed_at=ago(days=8),
                paid_at=ago(days=8),
                shipped_at=ago(days=5),
                tracking_number="LP00123456789CN",
                estimated_delivery=ahead(days=14),
            ),
            order(
                "8100000000000004",
                "LED strip",
                "I-1004",
                12.40,
                status=OrderStatus.DELIVERED.value,
                placed_at=ago(days=25),
                paid_at=ago(days=25),
                shipped_at=ago(days=20),
                delivered_at=ago(days=3),
                tracking_number="LP00987654321CN",
                estimated_delivery=ago(days=2),
            ),
            order(
                "8100000000000005",
                "Smart watch",
                "I-2001",
                39.90,
                seller_id="S2",
                placed_at=ago(days=5),
                paid_at=ago(days=5),
                estimated_delivery=ahead(days=30),
            ),
            order(
                "8100000000000006",
                "Drone",
                "I-1006",
                89.00,
                placed_at=ago(days=4),
                paid_at=ago(days=4),
                estimated_delivery=ahead(days=16),
            ),
            order(
                "8100000000000007",
                "Keyboard",
                "I-1007",
                45.00,
                status=OrderStatus.CANCELLED.value,
                placed_at=ago(days=6),
                paid_at=ago(days=6),
                cancelled_at=ago(days=2),
                refund_status="in_progress",
            ),
            order(
                "8100000000000008",
                "Wireless mouse",
                "I-1008",
                9.99,
                placed_at=ago(hours=2),
                paid_at=ago(hours=2),
                estimated_delivery=ahead(days=15),
            ),
            order(
                "8100000000000009",
                "Wireless mouse",
                "I-1008",
                9.99,
                placed_at=ago(hours=2, minutes=-1),
                paid_at=ago(hours=2, minutes=-1),
                estimated_delivery=ahead(days=15),
            ),
            order(
                "8100000000000010",
                "Hair dryer",
                "I-2002",
                19.00,
                customer_id="C2",
                seller_id="S2",
                placed_at=ago(days=1),
                paid_at=ago(days=1),
                estimated_delivery=ahead(days=25),
            ),
            order(
                "8100000000000011",
                "Backpack",
                "I-1011",
                27.30,
                placed_at=ago(days=1),
                paid_at=ago(days=1),
                estimated_delivery=ahead(days=17),
            ),
            order(
                "8100000000000012",
                "Power bank",
                "I-2003",
                15.60,
                seller_id="S2",
                placed_at=ago(days=2, minutes=10),
                paid_at=ago(days=2),
                estimated_delivery=ahead(days=28),
            ),
        ]
    )

    def request(order_id: str, created: str, state: str, **fields: Any) -> dict:
        row = {
            "order_id": order_id,
            "reason": None,
            "buyer_words": None,
            "created_at": created,
            "state": state,
            "responded_at": None,
            "seller_response_hours": None,
            "seller_note": None,
        }
        row.update(fields)
        return row

    db["cancellation_requests"].insert_all(
        [
            request(
                "8100000000000005",
                ago(hours=72),
                RequestState.PENDING.value,
                reason="unreliable_seller",
                buyer_words="This store looks like a scam, please cancel.",
            ),
            request(
                "8100000000000006",
                ago(days=2),
                RequestState.DECLINED.value,
                reason="changed_mind",
                buyer_words="I don't need the drone anymore.",
                responded_at=ago(days=1),
                seller_response_hours=24.0,
                seller_note="The parcel is already packed, we cannot cancel.",
            ),
            request(
                "8100000000000007",
                ago(days=2, hours=3),
                RequestState.APPROVED.value,
                reason="shipping_delay",
                buyer_words="It takes too long.",
                responded_at=ago(days=2),
                seller_response_hours=3.0,
                seller_note="Cancelled, refund issued.",
            ),
            request(
                "8100000000000011",
                ago(hours=6),
                RequestState.PENDING.value,
                reason="changed_mind",
                buyer_words="Found a better one, sorry.",
            ),
        ]
    )


def main() -> None:
    """``python -m actions.demo_data [--reset]``: create (or re-seed) the demo database."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--reset", action="store_true", help="drop all data and seed again")
    args = parser.parse_args()
    store = open_demo_store()
    if args.reset:
        store.reset()
    print(f"order store ready at {store.path}")


if __name__ == "__main__":
    main()
