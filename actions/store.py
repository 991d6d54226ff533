"""The order store: the one way to reach the SQLite database.

Every read and write the assistant makes goes through :class:`OrderStore`, built on
sqlite-utils with parameterised queries. Writes run in ``BEGIN IMMEDIATE`` transactions so
that two action servers sharing the file cannot record the same request twice.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

Clock = Callable[[], datetime]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "orders.db"
DB_PATH_ENV = "ORDER_DB_PATH"

# Order states, as stored.
AWAITING_PAYMENT = "awaiting_payment"
AWAITING_SHIPMENT = "awaiting_shipment"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELLED = "cancelled"

# Cancellation request states.
PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"

# Two orders of the same listing placed this close together look like a duplicate.
DUPLICATE_WINDOW = timedelta(hours=24)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_text(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None


def to_datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def default_db_path() -> Path:
    return Path(os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH)


class StoreUnavailable(RuntimeError):
    """The database cannot be read or written right now (locked, read-only, missing)."""


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the row id and whether this call created it (False = already there)."""

    id: int
    created: bool


class OrderStore:
    """Orders, sellers, cancellation requests, seller messages and disputes."""

    def __init__(self, path: Path | str | None = None, clock: Clock = utc_now) -> None:
        self.path = Path(path) if path else default_db_path()
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        try:
            self._ensure_schema()
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error

    # --- connection handling -------------------------------------------------------------

    @property
    def db(self) -> sqlite_utils.Database:
        """One connection per thread: sqlite3 connections must not cross threads."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), timeout=5, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 5000")
            # WAL: readers never wait for the writer, so several action servers on one host
            # can share the file. (A read-only file keeps its journal mode.)
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA journal_mode = WAL")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes the write lock first, so check-then-insert is atomic."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                raise StoreUnavailable(str(error)) from error

    def _read(self, fn: Callable[[sqlite_utils.Database], Any]) -> Any:
        try:
            return fn(self.db)
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error

    # --- schema and demo data ------------------------------------------------------------

    def _ensure_schema(self) -> None:
        db = self.db
        if db["orders"].exists():
            if not db["verification_failures"].exists():  # databases made before it existed
                with self._write() as db:
                    _create_verification_failures(db)
            return
        with self._write() as db:
            if db["orders"].exists():  # another process won the race
                return
            _create_schema(db)
            _seed_demo_data(db, self.clock())

    def reset(self) -> None:
        """Drop everything and seed the demo data again, relative to now."""
        with self._write() as db:
            for table in (
                "verification_failures",
                "disputes",
                "seller_messages",
                "cancellation_requests",
                "orders",
                "sellers",
                "customers",
            ):
                if db[table].exists():
                    db[table].drop()
            _create_schema(db)
            _seed_demo_data(db, self.clock())

    # --- reads ---------------------------------------------------------------------------

    def customer_by_email(self, email: str) -> dict | None:
        rows = self._read(
            lambda db: list(db["customers"].rows_where("lower(email) = lower(?)", [email.strip()], limit=1))
        )
        return rows[0] if rows else None

    def customer(self, customer_id: str) -> dict | None:
        rows = self._read(lambda db: list(db["customers"].rows_where("id = ?", [customer_id], limit=1)))
        return rows[0] if rows else None

    def order_for_customer(self, order_id: str, customer_id: str) -> dict | None:
        """The order, only if it belongs to this customer: foreign and unknown look the same."""
        rows = self._read(
            lambda db: list(db["orders"].rows_where("id = ? and customer_id = ?", [order_id, customer_id], limit=1))
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
            lambda db: list(db["orders"].rows_where("customer_id = ?", [customer_id], order_by="placed_at desc"))
        )

    def seller(self, seller_id: str) -> dict | None:
        rows = self._read(lambda db: list(db["sellers"].rows_where("id = ?", [seller_id], limit=1)))
        return rows[0] if rows else None

    def latest_cancellation_request(self, order_id: str) -> dict | None:
        rows = self._read(
            lambda db: list(
                db["cancellation_requests"].rows_where(
                    "order_id = ?", [order_id], order_by="created_at desc, id desc", limit=1
                )
            )
        )
        return rows[0] if rows else None

    def cancellation_requests(self, order_id: str) -> list[dict]:
        return self._read(
            lambda db: list(db["cancellation_requests"].rows_where("order_id = ?", [order_id], order_by="id"))
        )

    def open_dispute_for(self, order_id: str) -> dict | None:
        rows = self._read(
            lambda db: list(db["disputes"].rows_where("order_id = ? and state = 'open'", [order_id], limit=1))
        )
        return rows[0] if rows else None

    def seller_messages(self, order_id: str) -> list[dict]:
        return self._read(lambda db: list(db["seller_messages"].rows_where("order_id = ?", [order_id], order_by="id")))

    def likely_duplicates(self, order_id: str) -> list[dict]:
        """Other live orders of the same listing by the same buyer, placed close together."""
        order = self._read(lambda db: list(db["orders"].rows_where("id = ?", [order_id], limit=1)))
        if not order:
            return []
        order = order[0]
        placed = to_datetime(order["placed_at"])
        assert placed is not None
        window = (to_text(placed - DUPLICATE_WINDOW), to_text(placed + DUPLICATE_WINDOW))
        return self._read(
            lambda db: list(
                db["orders"].rows_where(
                    "customer_id = ? and item_id = ? and id != ? and status not in (?, ?) "
                    "and placed_at between ? and ?",
                    [
                        order["customer_id"],
                        order["item_id"],
                        order_id,
                        CANCELLED,
                        DELIVERED,
                        *window,
                    ],
                    order_by="placed_at",
                )
            )
        )

    def recent_verification_failures(self, order_id: str, window: timedelta) -> int:
        since = to_text(self.clock() - window)
        return self._read(
            lambda db: db["verification_failures"].count_where("order_id = ? and created_at >= ?", [order_id, since])
        )

    # --- writes --------------------------------------------------------------------------

    def record_verification_failure(self, order_id: str) -> None:
        with self._write() as db:
            db["verification_failures"].insert({"order_id": order_id[:32], "created_at": to_text(self.clock())})

    def record_cancellation_request(self, order_id: str, reason: str | None, buyer_words: str | None) -> WriteResult:
        """Submit a request to the seller; a second submit returns the live one instead."""
        with self._write() as db:
            live = list(
                db["cancellation_requests"].rows_where(
                    "order_id = ? and state in (?, ?)", [order_id, PENDING, APPROVED], limit=1
                )
            )
            if live:
                return WriteResult(live[0]["id"], created=False)
            table = db["cancellation_requests"]
            table.insert(
                {
                    "order_id": order_id,
                    "reason": reason,
                    "buyer_words": (buyer_words or "")[:2000],
                    "created_at": to_text(self.clock()),
                    "state": PENDING,
                    "responded_at": None,
                    "seller_response_hours": None,
                    "seller_note": None,
                }
            )
            return WriteResult(int(table.last_pk), created=True)

    def cancel_unpaid_order(self, order_id: str, reason: str | None, buyer_words: str | None) -> WriteResult:
        """Cancel at once (nothing was paid); the request row keeps the buyer's reason."""
        with self._write() as db:
            order = db["orders"].get(order_id)
            if order["status"] == CANCELLED:
                existing = list(db["cancellation_requests"].rows_where("order_id = ?", [order_id], limit=1))
                return WriteResult(existing[0]["id"] if existing else 0, created=False)
            if order["status"] != AWAITING_PAYMENT:
                raise ValueError(f"order {order_id} is {order['status']}, not awaiting payment")
            now = to_text(self.clock())
            db["orders"].update(order_id, {"status": CANCELLED, "cancelled_at": now})
            table = db["cancellation_requests"]
            table.insert(
                {
                    "order_id": order_id,
                    "reason": reason,
                    "buyer_words": (buyer_words or "")[:2000],
                    "created_at": now,
                    "state": APPROVED,
                    "responded_at": now,
                    "seller_response_hours": 0.0,
                    "seller_note": "Cancelled automatically: the order was never paid.",
                }
            )
            return WriteResult(int(table.last_pk), created=True)

    def record_seller_message(self, order_id: str, customer_id: str, body: str) -> WriteResult:
        """Keep the message sent through "Contact Now"; the same text twice is one message."""
        with self._write() as db:
            order = db["orders"].get(order_id)
            same = list(db["seller_messages"].rows_where("order_id = ? and body = ?", [order_id, body], limit=1))
            if same:
                return WriteResult(same[0]["id"], created=False)
            table = db["seller_messages"]
            table.insert(
                {
                    "order_id": order_id,
                    "customer_id": customer_id,
                    "seller_id": order["seller_id"],
                    "body": body[:4000],
                    "created_at": to_text(self.clock()),
                }
            )
            return WriteResult(int(table.last_pk), created=True)

    def open_dispute(
        self, order_id: str, customer_id: str, reason: str | None, description: str, evidence: str
    ) -> WriteResult:
        """Open a dispute; an order has at most one open dispute."""
        with self._write() as db:
            live = list(db["disputes"].rows_where("order_id = ? and state = 'open'", [order_id], limit=1))
            if live:
                return WriteResult(live[0]["id"], created=False)
            table = db["disputes"]
            table.insert(
                {
                    "order_id": order_id,
                    "customer_id": customer_id,
                    "reason": reason,
                    "description": description[:4000],
                    "evidence": evidence[:4000],
                    "state": "open",
                    "created_at": to_text(self.clock()),
                }
            )
            return WriteResult(int(table.last_pk), created=True)


def _create_schema(db: sqlite_utils.Database) -> None:
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
    _create_verification_failures(db)


def _create_verification_failures(db: sqlite_utils.Database) -> None:
    """Failed email checks, per order number (existing or not), to slow down guessing."""
    db["verification_failures"].create(
        {"id": int, "order_id": str, "created_at": str},
        pk="id",
        not_null={"order_id", "created_at"},
        if_not_exists=True,
    )
    db["verification_failures"].create_index(["order_id", "created_at"], if_not_exists=True)


def _seed_demo_data(db: sqlite_utils.Database, now: datetime) -> None:
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
            "status": AWAITING_SHIPMENT,
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
                status=AWAITING_PAYMENT,
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
                status=SHIPPED,
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
                status=DELIVERED,
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
                status=CANCELLED,
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
                PENDING,
                reason="unreliable_seller",
                buyer_words="This store looks like a scam, please cancel.",
            ),
            request(
                "8100000000000006",
                ago(days=2),
                DECLINED,
                reason="changed_mind",
                buyer_words="I don't need the drone anymore.",
                responded_at=ago(days=1),
                seller_response_hours=24.0,
                seller_note="The parcel is already packed, we cannot cancel.",
            ),
            request(
                "8100000000000007",
                ago(days=2, hours=3),
                APPROVED,
                reason="shipping_delay",
                buyer_words="It takes too long.",
                responded_at=ago(days=2),
                seller_response_hours=3.0,
                seller_note="Cancelled, refund issued.",
            ),
            request(
                "8100000000000011",
                ago(hours=6),
                PENDING,
                reason="changed_mind",
                buyer_words="Found a better one, sorry.",
            ),
        ]
    )


def main() -> None:
    """``python -m actions.store [--reset]``: create (or re-seed) the demo database."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--reset", action="store_true", help="drop all data and seed again")
    args = parser.parse_args()
    store = OrderStore()
    if args.reset:
        store.reset()
    print(f"order store ready at {store.path}")


if __name__ == "__main__":
    main()
