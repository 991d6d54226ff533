"""The order database's tables (SPEC §3) and the one migration older files need."""

from __future__ import annotations

import sqlite_utils

# Every table, children before parents: the order to drop them in.
TABLES = (
    "verification_failures",
    "disputes",
    "seller_messages",
    "cancellation_requests",
    "orders",
    "sellers",
    "customers",
)


def create_schema(db: sqlite_utils.Database) -> None:
    """Every table and index, on an empty database."""
    db["customers"].create({"id": str, "name": str, "email": str}, pk="id", not_null={"name", "email"})
    db["customers"].create_index(["email"], unique=True)
    db["sellers"].create(
        {
            "id": str,
            "name": str,
            "rating": float,
            "positive_feedback_pct": float,
            "store_opened_at": str,
            "cancellation_policy": str,
            "cancellation_deadline_hours": int,
        },
        pk="id",
        not_null={"name"},
    )
    db["orders"].create(
        {
            "id": str,
            "customer_id": str,
            "seller_id": str,
            "item_id": str,
            "product": str,
            "quantity": int,
            "price": float,
            "currency": str,
            "status": str,
            "placed_at": str,
            "paid_at": str,
            "shipped_at": str,
            "delivered_at": str,
            "cancelled_at": str,
            "estimated_delivery": str,
            "tracking_number": str,
            "refund_status": str,
        },
        pk="id",
        not_null={"customer_id", "seller_id", "status", "placed_at"},
        foreign_keys=[("customer_id", "customers"), ("seller_id", "sellers")],
    )
    db["orders"].create_index(["customer_id"])
    db["cancellation_requests"].create(
        {
            "id": int,
            "order_id": str,
            "reason": str,
            "buyer_words": str,
            "created_at": str,
            "state": str,
            "responded_at": str,
            "seller_response_hours": float,
            "seller_note": str,
        },
        pk="id",
        not_null={"order_id", "created_at", "state"},
        foreign_keys=[("order_id", "orders")],
    )
    db["cancellation_requests"].create_index(["order_id"])
    db["seller_messages"].create(
        {
            "id": int,
            "order_id": str,
            "customer_id": str,
            "seller_id": str,
            "body": str,
            "created_at": str,
        },
        pk="id",
        not_null={"order_id", "body", "created_at"},
        foreign_keys=[("order_id", "orders"), ("customer_id", "customers"), ("seller_id", "sellers")],
    )
    db["disputes"].create(
        {
            "id": int,
            "order_id": str,
            "customer_id": str,
            "reason": str,
            "description": str,
            "evidence": str,
            "state": str,
            "created_at": str,
        },
        pk="id",
        not_null={"order_id", "state", "created_at"},
        foreign_keys=[("order_id", "orders"), ("customer_id", "customers")],
    )
    db["disputes"].create_index(["order_id"])
    create_verification_failures(db)


def create_verification_failures(db: sqlite_utils.Database) -> None:
    """Failed email checks, per order number (existing or not), to slow down guessing."""
    db["verification_failures"].create(
        {"id": int, "order_id": str, "created_at": str},
        pk="id",
        not_null={"order_id", "created_at"},
        if_not_exists=True,
    )
    db["verification_failures"].create_index(["order_id", "created_at"], if_not_exists=True)


def migrate(db: sqlite_utils.Database) -> None:
    """Bring a database made by an older version up to date."""
    if not db["verification_failures"].exists():
        create_verification_failures(db)


def needs_migration(db: sqlite_utils.Database) -> bool:
    return not db["verification_failures"].exists()
