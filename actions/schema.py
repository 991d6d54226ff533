"""The order database's tables (docs/product.md §3) and the one migration older files
need. Each table is declared once, as data: its columns, key, required columns, links and
indexes. Types are Python's (``str``, ``int``, ``float``); each backend maps them to its own
(an ``int`` key is SQLite's rowid, PostgreSQL's identity column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # actions.database needs this module first
    from actions.database import Database


@dataclass(frozen=True)
class Table:
    name: str
    columns: str  # space-separated names; text unless `types` says otherwise
    types: dict[str, type] = field(default_factory=dict)
    not_null: frozenset[str] = frozenset()
    foreign_keys: tuple[tuple[str, str], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()

    def create(self, db: Database) -> None:
        columns = {name: self.types.get(name, str) for name in self.columns.split()}
        db.table(self.name).create(
            columns, pk="id", not_null=set(self.not_null), foreign_keys=list(self.foreign_keys), if_not_exists=True
        )
        for index in self.indexes:
            db.table(self.name).create_index(list(index), if_not_exists=True)
        for index in self.unique_indexes:
            db.table(self.name).create_index(list(index), unique=True, if_not_exists=True)


ORDER_COLUMNS = (
    "id customer_id seller_id item_id product quantity price currency status placed_at paid_at shipped_at "
    "delivered_at cancelled_at estimated_delivery tracking_number refund_status"
)

# Parents before children: the order to create them in (and, reversed, to drop them).
ORDER_TABLES = (
    Table("customers", "id name email", not_null=frozenset({"name", "email"}), unique_indexes=(("email",),)),
    Table(
        "sellers",
        "id name rating positive_feedback_pct store_opened_at cancellation_policy cancellation_deadline_hours",
        types={"rating": float, "positive_feedback_pct": float, "cancellation_deadline_hours": int},
        not_null=frozenset({"name"}),
    ),
    Table(
        "orders",
        ORDER_COLUMNS,
        types={"quantity": int, "price": float},
        not_null=frozenset({"customer_id", "seller_id", "status", "placed_at"}),
        foreign_keys=(("customer_id", "customers"), ("seller_id", "sellers")),
        indexes=(("customer_id",),),
    ),
    Table(
        "cancellation_requests",
        "id order_id reason buyer_words created_at state responded_at seller_response_hours seller_note",
        types={"id": int, "seller_response_hours": float},
        not_null=frozenset({"order_id", "created_at", "state"}),
        foreign_keys=(("order_id", "orders"),),
        indexes=(("order_id",),),
    ),
    Table(
        "seller_messages",
        "id order_id customer_id seller_id body created_at",
        types={"id": int},
        not_null=frozenset({"order_id", "body", "created_at"}),
        foreign_keys=(("order_id", "orders"), ("customer_id", "customers"), ("seller_id", "sellers")),
    ),
    Table(
        "disputes",
        "id order_id customer_id reason description evidence state created_at",
        types={"id": int},
        not_null=frozenset({"order_id", "state", "created_at"}),
        foreign_keys=(("order_id", "orders"), ("customer_id", "customers")),
        indexes=(("order_id",),),
    ),
    # Failed email checks (the order number tried, existing or not, the email and the
    # conversation), to stop guessing; kept only for the guessing window.
    Table(
        "verification_failures",
        "id order_id email conversation created_at",
        types={"id": int},
        not_null=frozenset({"order_id", "created_at"}),
        indexes=(("order_id", "created_at"), ("email", "created_at"), ("conversation", "created_at")),
    ),
)
# Conversations handed to a person (docs/product.md §4, "Human handoff"): the queue that every
# Rasa server, action server and agent console shares, and the signals a support lead reports
# on (why, how long the buyer waited). `summary` is JSON: what the agent needs without asking.
HANDOFFS = (
    Table(
        "handoffs",
        "id conversation_id channel customer_id order_id reason trigger summary state agent_id agent_name "
        "created_at claimed_at ended_at",
        types={"id": int},
        not_null=frozenset({"conversation_id", "trigger", "state", "created_at"}),
        indexes=(("state", "created_at"), ("conversation_id", "state")),
    ),
    # Agents seen in the console lately: whether anyone is at the desk.
    Table("agents", "id name last_seen", not_null=frozenset({"name"})),
    # Failed console sign-ins, per agent name and address, to slow down password guessing.
    Table(
        "agent_login_failures",
        "id agent address created_at",
        types={"id": int},
        not_null=frozenset({"created_at"}),
        indexes=(("agent", "created_at"), ("address", "created_at")),
    ),
    # Each handoff posted to the team's helpdesk webhook (if configured), retried with backoff.
    Table(
        "webhook_deliveries",
        "id handoff_id payload state attempts next_attempt_at delivered_at last_error",
        types={"id": int, "handoff_id": int, "attempts": int},
        not_null=frozenset({"handoff_id", "payload", "state"}),
        indexes=(("state", "next_attempt_at"),),
    ),
)
TABLES: tuple[Table, ...] = ORDER_TABLES + HANDOFFS
TABLE_NAMES = tuple(table.name for table in TABLES)


def create_schema(db: Database) -> None:
    """Every table and index, on an empty database (or the missing ones on an older one)."""
    for table in TABLES:
        table.create(db)


def _missing_columns(db: Database, table: Table) -> list[str]:
    existing = {column.name for column in db.table(table.name).columns}
    return [name for name in table.columns.split() if name not in existing]


def needs_migration(db: Database) -> bool:
    """A database made before a table or a column was added."""
    return any(not db.table(t.name).exists() or _missing_columns(db, t) for t in TABLES)


def migrate(db: Database) -> None:
    """Bring a database made by an older version up to date: tables and columns are only
    ever added, so this is safe to run on any older file."""
    for table in TABLES:
        if db.table(table.name).exists():
            for name in _missing_columns(db, table):
                db.table(table.name).add_column(name, table.types.get(name, str))
    create_schema(db)


def drop_all(db: Database) -> None:
    for name in reversed(TABLE_NAMES):
        if db.table(name).exists():
            db.table(name).drop()
