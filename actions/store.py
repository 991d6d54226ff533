"""The order store: the one way to reach the order database (SQLite, or PostgreSQL when
``ORDER_DB_URL`` is set; :mod:`actions.database`).

Every read and write the assistant makes goes through :class:`OrderStore`, written once
against sqlite-utils' API with parameterised queries (on PostgreSQL, through
:mod:`actions.postgres`). Writes run in transactions that take the write lock first
(``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so that two action servers sharing the
database cannot record the same request twice. The tables are in :mod:`actions.schema`; what
a new database is seeded with is the caller's choice (the demo data, :mod:`actions.demo_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from actions.database import (  # re-exported: the store is the one way to the database
    DB_PATH_ENV,
    DB_URL_ENV,
    Clock,
    Database,
    OrderDatabase,
    Seed,
    StoreUnavailable,
    default_db_path,
    default_location,
    to_datetime,
    to_text,
    utc_now,
)
from actions.vocabulary import DisputeState, OrderStatus, RequestState

__all__ = [
    "DB_PATH_ENV",
    "DB_URL_ENV",
    "Clock",
    "EmailCheck",
    "GuessingLimits",
    "OrderStore",
    "Seed",
    "StoreUnavailable",
    "WriteResult",
    "default_db_path",
    "default_location",
    "to_datetime",
    "to_text",
    "utc_now",
]

# The buyer's own words are kept up to this length.
MAX_BUYER_WORDS = 2000
# What the request row of an order cancelled before payment says (for support, not buyers).
UNPAID_CANCELLATION_NOTE = "Cancelled automatically: the order was never paid."

# Two orders of the same listing placed this close together look like a duplicate.
DUPLICATE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class GuessingLimits:
    """Failed email checks allowed within the window before checks stop."""

    window: timedelta
    per_conversation: int
    per_order: int
    per_email: int


@dataclass(frozen=True)
class EmailCheck:
    """The result of one email check: the customer when it matched, this conversation's
    failures so far, and whether checks stopped (``locked``: this conversation failed too
    often; ``paused``: someone is guessing this order number or email, in any conversation)."""

    customer_id: str | None
    failures: int
    locked: bool = False
    paused: bool = False


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the row id and whether this call created it (False = already there)."""

    id: int
    created: bool


class OrderStore(OrderDatabase):
    """Orders, sellers, cancellation requests, seller messages and disputes."""

    # --- reads ---------------------------------------------------------------------------

    def customer_by_email(self, email: str) -> dict | None:
        rows = self._read(
            lambda db: list(db.table("customers").rows_where("lower(email) = lower(?)", [email.strip()], limit=1))
        )
        return rows[0] if rows else None

    def customer(self, customer_id: str) -> dict | None:
        rows = self._read(lambda db: list(db.table("customers").rows_where("id = ?", [customer_id], limit=1)))
        return rows[0] if rows else None

    def order_for_customer(self, order_id: str, customer_id: str) -> dict | None:
        """The order, only if it belongs to this customer: foreign and unknown look the same."""
        rows = self._read(
            lambda db: list(
                db.table("orders").rows_where("id = ? and customer_id = ?", [order_id, customer_id], limit=1)
            )
        )
        return rows[0] if rows else None

    def owner_matches_email(self, order_id: str, email: str) -> str | None:
        """The customer id when the order exists and its owner's email is this one."""
        rows = self._read(
            lambda db: list(
                db.query(
                    "select customers.id as customer_id from orders "
                    "join customers on customers.id = orders.customer_id "
                    "where orders.id = :order_id and lower(customers.email) = lower(:email)",
                    {"order_id": order_id, "email": email.strip()},
                )
            )
        )
        return rows[0]["customer_id"] if rows else None

    def orders_for_customer(self, customer_id: str) -> list[dict]:
        return self._read(
            lambda db: list(db.table("orders").rows_where("customer_id = ?", [customer_id], order_by="placed_at desc"))
        )

    def seller(self, seller_id: str) -> dict | None:
        rows = self._read(lambda db: list(db.table("sellers").rows_where("id = ?", [seller_id], limit=1)))
        return rows[0] if rows else None

    def latest_cancellation_request(self, order_id: str) -> dict | None:
        rows = self._read(
            lambda db: list(
                db.table("cancellation_requests").rows_where(
                    "order_id = ?", [order_id], order_by="created_at desc, id desc", limit=1
                )
            )
        )
        return rows[0] if rows else None

    def cancellation_requests(self, order_id: str) -> list[dict]:
        return self._read(
            lambda db: list(db.table("cancellation_requests").rows_where("order_id = ?", [order_id], order_by="id"))
        )

    def open_dispute_for(self, order_id: str) -> dict | None:
        rows = self._read(
            lambda db: list(
                db.table("disputes").rows_where(
                    "order_id = ? and state = ?", [order_id, DisputeState.OPEN.value], limit=1
                )
            )
        )
        return rows[0] if rows else None

    def seller_messages(self, order_id: str) -> list[dict]:
        return self._read(
            lambda db: list(db.table("seller_messages").rows_where("order_id = ?", [order_id], order_by="id"))
        )

    def likely_duplicates(self, order_id: str) -> list[dict]:
        """Other orders of the same listing by the same buyer, placed close together and not
        delivered (cancelled ones too: a duplicate may already be on its way out)."""
        order = self._read(lambda db: list(db.table("orders").rows_where("id = ?", [order_id], limit=1)))
        if not order:
            return []
        order = order[0]
        placed = to_datetime(order["placed_at"])
        assert placed is not None
        window = (to_text(placed - DUPLICATE_WINDOW), to_text(placed + DUPLICATE_WINDOW))
        return self._read(
            lambda db: list(
                db.table("orders").rows_where(
                    "customer_id = ? and item_id = ? and id != ? and status != ? and placed_at between ? and ?",
                    [order["customer_id"], order["item_id"], order_id, OrderStatus.DELIVERED.value, *window],
                    order_by="placed_at",
                )
            )
        )

    def attempt_email_check(self, order_id: str, email: str, conversation: str, limits: GuessingLimits) -> EmailCheck:
        """Check that the order belongs to the owner of this email, counting failures per
        conversation, per order number and per email, all in one transaction: the counts
        are read, compared and written together, so parallel guesses cannot slip past them.
        Failures older than the window are deleted."""
        with self._write() as db:
            now = self.clock()
            failures = db.table("verification_failures")
            failures.delete_where("created_at < ?", [to_text(now - limits.window)])
            since = to_text(now - limits.window)
            counts = {
                key: failures.count_where(f"{key} = ? and created_at >= ?", [value, since])
                for key, value in (("conversation", conversation), ("order_id", order_id), ("email", email))
            }
            if counts["order_id"] >= limits.per_order or counts["email"] >= limits.per_email:
                return EmailCheck(None, counts["conversation"], paused=True)
            if counts["conversation"] >= limits.per_conversation:
                return EmailCheck(None, counts["conversation"], locked=True)
            owner = self.owner_matches_email(order_id, email)  # same connection: same transaction
            if owner:
                return EmailCheck(owner, counts["conversation"])
            row = {"order_id": order_id[:32], "email": email[:254].lower(), "conversation": conversation[:128]}
            failures.insert({**row, "created_at": to_text(now)})
            failed = counts["conversation"] + 1
            return EmailCheck(None, failed, locked=failed >= limits.per_conversation)

    def record_cancellation_request(self, order_id: str, reason: str | None, buyer_words: str | None) -> WriteResult:
        """Submit a request to the seller; a second submit returns the live one instead."""
        with self._write() as db:
            live = list(
                db.table("cancellation_requests").rows_where(
                    "order_id = ? and state in (?, ?)",
                    [order_id, RequestState.PENDING.value, RequestState.APPROVED.value],
                    limit=1,
                )
            )
            if live:
                return WriteResult(live[0]["id"], created=False)
            return _insert_request(db, order_id, reason, buyer_words, to_text(self.clock()), RequestState.PENDING)

    def cancel_unpaid_order(self, order_id: str, reason: str | None, buyer_words: str | None) -> WriteResult:
        """Cancel at once (nothing was paid); the request row keeps the buyer's reason."""
        with self._write() as db:
            order = db.table("orders").get(order_id)
            if order["status"] == OrderStatus.CANCELLED.value:
                existing = list(db.table("cancellation_requests").rows_where("order_id = ?", [order_id], limit=1))
                return WriteResult(existing[0]["id"] if existing else 0, created=False)
            if order["status"] != OrderStatus.AWAITING_PAYMENT.value:
                raise ValueError(f"order {order_id} is {order['status']}, not awaiting payment")
            now = to_text(self.clock())
            db.table("orders").update(order_id, {"status": OrderStatus.CANCELLED.value, "cancelled_at": now})
            answer = {"responded_at": now, "seller_response_hours": 0.0, "seller_note": UNPAID_CANCELLATION_NOTE}
            return _insert_request(db, order_id, reason, buyer_words, now, RequestState.APPROVED, **answer)

    def record_seller_message(self, order_id: str, customer_id: str, body: str) -> WriteResult:
        """Keep the message sent through "Contact Now"; the same text twice is one message."""
        with self._write() as db:
            order = db.table("orders").get(order_id)
            same = list(db.table("seller_messages").rows_where("order_id = ? and body = ?", [order_id, body], limit=1))
            row = {
                "order_id": order_id,
                "customer_id": customer_id,
                "seller_id": order["seller_id"],
                "body": body[:4000],
                "created_at": to_text(self.clock()),
            }
            return _insert_unless(db, "seller_messages", same, row)

    def open_dispute(
        self, order_id: str, customer_id: str, reason: str | None, description: str, evidence: str
    ) -> WriteResult:
        """Open a dispute; an order has at most one open dispute."""
        with self._write() as db:
            live = _open_disputes(db, order_id)
            row = {
                "order_id": order_id,
                "customer_id": customer_id,
                "reason": reason,
                "description": description[:4000],
                "evidence": evidence[:4000],
                "state": DisputeState.OPEN.value,
                "created_at": to_text(self.clock()),
            }
            return _insert_unless(db, "disputes", live, row)


def _open_disputes(db: Database, order_id: str) -> list[dict]:
    return list(
        db.table("disputes").rows_where("order_id = ? and state = ?", [order_id, DisputeState.OPEN.value], limit=1)
    )


def _insert_request(
    db: Database,
    order_id: str,
    reason: str | None,
    buyer_words: str | None,
    created_at: str | None,
    state: RequestState,
    **answer: Any,
) -> WriteResult:
    """A cancellation request row; ``answer`` holds the seller's side when it is known."""
    table = db.table("cancellation_requests")
    row = {
        "order_id": order_id,
        "reason": reason,
        "buyer_words": (buyer_words or "")[:MAX_BUYER_WORDS],
        "created_at": created_at,
        "state": state.value,
        "responded_at": None,
        "seller_response_hours": None,
        "seller_note": None,
    }
    table.insert({**row, **answer})
    return WriteResult(int(table.last_pk or 0), created=True)


def _insert_unless(db: Database, table: str, existing: list[dict], row: dict[str, Any]) -> WriteResult:
    """Insert the row unless an equivalent one exists: a write asked for twice is made once."""
    if existing:
        return WriteResult(existing[0]["id"], created=False)
    inserted = db.table(table).insert(row)
    return WriteResult(int(inserted.last_pk or 0), created=True)
