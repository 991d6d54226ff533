"""The order store: schema, demo data relative to now, and writes that never duplicate, on
both backends (SQLite, PostgreSQL; tests/conftest.py). The tests marked ``@sqlite_only`` are
about the SQLite file itself; the PostgreSQL adapter's own tests are in test_postgres.py."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlite_utils.db import NotFoundError

from actions.demo_data import open_demo_store
from actions.store import OrderStore, StoreUnavailable, to_datetime
from actions.vocabulary import OrderStatus, RequestState
from tests.conftest import NOW, sqlite_only

APPROVED, DECLINED, PENDING = RequestState.APPROVED, RequestState.DECLINED, RequestState.PENDING
AWAITING_PAYMENT, CANCELLED = OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED

ALEX = "C1"


def test_database_is_created_and_seeded_on_first_use(store):
    assert store.path is None or store.path.exists()
    orders = store.orders_for_customer(ALEX)
    assert len(orders) == 11
    assert {o["id"] for o in orders} == {f"81000000000000{n:02d}" for n in range(1, 13)} - {"8100000000000010"}


def test_seeding_happens_once(store, clock):
    again = OrderStore(store.location, clock=clock)
    assert len(again.orders_for_customer(ALEX)) == 11


def test_db_path_comes_from_environment(tmp_path, monkeypatch):
    """SQLite, the default: the file ORDER_DB_PATH names."""
    monkeypatch.delenv("ORDER_DB_URL", raising=False)
    monkeypatch.setenv("ORDER_DB_PATH", str(tmp_path / "elsewhere.db"))
    assert open_demo_store().path == tmp_path / "elsewhere.db"


def test_migration_adds_what_an_older_database_lacks(store, clock):
    with store._write() as db:
        db.execute("alter table cancellation_requests drop column seller_note")
        db.table("webhook_deliveries").drop()
    again = OrderStore(store.location, clock=clock)
    assert store.db.table("webhook_deliveries").exists()
    assert "seller_note" in {column.name for column in store.db.table("cancellation_requests").columns}
    assert again.latest_cancellation_request("8100000000000005")["seller_note"] is None


@pytest.mark.parametrize(
    "order_id,status,product,age_field,age",
    [
        ("8100000000000001", "awaiting_payment", "USB-C cable", "placed_at", timedelta(hours=1)),
        ("8100000000000002", "awaiting_shipment", "Bluetooth earbuds", "paid_at", timedelta(days=1)),
        ("8100000000000003", "shipped", "Phone case", "shipped_at", timedelta(days=5)),
        ("8100000000000004", "delivered", "LED strip", "delivered_at", timedelta(days=3)),
        ("8100000000000007", "cancelled", "Keyboard", "cancelled_at", timedelta(days=2)),
        ("8100000000000008", "awaiting_shipment", "Wireless mouse", "placed_at", timedelta(hours=2)),
        ("8100000000000012", "awaiting_shipment", "Power bank", "paid_at", timedelta(days=2)),
    ],
)
def test_demo_orders_match_the_spec(store, order_id, status, product, age_field, age):
    order = store.order_for_customer(order_id, ALEX)
    assert order["status"] == status
    assert order["product"] == product
    assert to_datetime(order[age_field]) == NOW - age


def test_shipped_order_has_tracking_and_estimate(store):
    order = store.order_for_customer("8100000000000003", ALEX)
    assert order["tracking_number"]
    assert to_datetime(order["estimated_delivery"]) == NOW + timedelta(days=14)


def test_sellers_carry_rating_feedback_age_and_policy(store):
    bad = store.seller(store.order_for_customer("8100000000000005", ALEX)["seller_id"])
    assert (bad["name"], bad["rating"], bad["positive_feedback_pct"]) == ("Cheap Deals 4U", 2.1, 61.0)
    assert to_datetime(bad["store_opened_at"]) == NOW - timedelta(weeks=3)
    assert bad["cancellation_policy"] and bad["cancellation_deadline_hours"] == 24
    good = store.seller("S1")
    assert (good["rating"], good["positive_feedback_pct"]) == (4.8, 96.0)


def test_seeded_cancellation_requests(store):
    five = store.latest_cancellation_request("8100000000000005")
    assert five["state"] == PENDING and to_datetime(five["created_at"]) == NOW - timedelta(hours=72)
    six = store.latest_cancellation_request("8100000000000006")
    assert six["state"] == DECLINED and to_datetime(six["responded_at"]) == NOW - timedelta(days=1)
    eleven = store.latest_cancellation_request("8100000000000011")
    assert eleven["state"] == PENDING and to_datetime(eleven["created_at"]) == NOW - timedelta(hours=6)
    assert store.latest_cancellation_request("8100000000000002") is None


def test_foreign_and_unknown_orders_look_the_same(store):
    assert store.order_for_customer("8100000000000010", ALEX) is None
    assert store.order_for_customer("8100000000009999", ALEX) is None
    assert store.order_for_customer("8100000000000010", "C2")["product"] == "Hair dryer"


def test_email_match_is_case_insensitive_and_owner_only(store):
    assert store.owner_matches_email("8100000000000002", " Alex.Buyer@Example.com ") == ALEX
    assert store.owner_matches_email("8100000000000010", "alex.buyer@example.com") is None
    assert store.owner_matches_email("8100000000000010", "sam.other@example.com") == "C2"
    assert store.owner_matches_email("9999999999999999", "alex.buyer@example.com") is None


def test_injection_text_is_only_data(store):
    assert store.owner_matches_email("8100000000000002", "x' OR '1'='1") is None
    assert store.order_for_customer("8100000000000002' OR '1'='1", ALEX) is None
    assert store.customer_by_email("'; DROP TABLE orders; --") is None
    assert len(store.orders_for_customer(ALEX)) == 11


def test_twin_order_is_found_both_ways(store):
    assert [o["id"] for o in store.likely_duplicates("8100000000000008")] == ["8100000000000009"]
    assert [o["id"] for o in store.likely_duplicates("8100000000000009")] == ["8100000000000008"]
    assert store.likely_duplicates("8100000000000002") == []
    assert store.likely_duplicates("0000000000000000") == []


def test_cancellation_request_is_recorded_once(store):
    first = store.record_cancellation_request("8100000000000002", "changed_mind", "wrong size")
    second = store.record_cancellation_request("8100000000000002", "changed_mind", "wrong size")
    assert first.created and not second.created and first.id == second.id
    rows = store.cancellation_requests("8100000000000002")
    assert len(rows) == 1
    assert rows[0]["buyer_words"] == "wrong size" and rows[0]["state"] == PENDING
    assert to_datetime(rows[0]["created_at"]) == NOW


def test_concurrent_submissions_create_one_request(order_db, clock):
    path = order_db
    open_demo_store(path, clock=clock)
    results = []

    def submit():
        results.append(
            OrderStore(path, clock=clock).record_cancellation_request("8100000000000012", "unreliable_seller", "scam")
        )

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.created for result in results) == 1
    assert len(OrderStore(path, clock=clock).cancellation_requests("8100000000000012")) == 1


def test_a_declined_request_can_be_followed_by_a_new_one(store):
    result = store.record_cancellation_request("8100000000000006", "changed_mind", "please")
    assert result.created
    assert store.latest_cancellation_request("8100000000000006")["state"] == PENDING


def test_unpaid_order_is_cancelled_at_once_and_only_once(store):
    first = store.cancel_unpaid_order("8100000000000001", "payment_issue", "card declined")
    second = store.cancel_unpaid_order("8100000000000001", "payment_issue", "card declined")
    assert first.created and not second.created
    order = store.order_for_customer("8100000000000001", ALEX)
    assert order["status"] == CANCELLED and to_datetime(order["cancelled_at"]) == NOW
    requests = store.cancellation_requests("8100000000000001")
    assert [r["state"] for r in requests] == [APPROVED]
    assert requests[0]["buyer_words"] == "card declined"


def test_paid_order_cannot_be_cancelled_directly(store):
    with pytest.raises(ValueError):
        store.cancel_unpaid_order("8100000000000002", None, None)
    assert store.order_for_customer("8100000000000002", ALEX)["status"] == "awaiting_shipment"
    assert store.order_for_customer("8100000000000001", ALEX)["status"] == AWAITING_PAYMENT


def test_seller_message_is_kept_once(store):
    first = store.record_seller_message("8100000000000002", ALEX, "Hello, please cancel.")
    again = store.record_seller_message("8100000000000002", ALEX, "Hello, please cancel.")
    assert first.created and not again.created
    messages = store.seller_messages("8100000000000002")
    assert len(messages) == 1 and messages[0]["seller_id"] == "S1"


def test_one_open_dispute_per_order(store):
    first = store.open_dispute("8100000000000005", ALEX, "seller_communication", "no answer", "ids")
    second = store.open_dispute("8100000000000005", ALEX, "seller_communication", "no answer", "ids")
    assert first.created and not second.created and first.id == second.id
    assert store.open_dispute_for("8100000000000005")["description"] == "no answer"


def test_failed_write_leaves_nothing_half_written(store, monkeypatch):
    def broken_update(*args, **kwargs):
        raise RuntimeError("disk I/O error")

    table_class = type(store.db.table("orders"))
    monkeypatch.setattr(table_class, "update", broken_update)
    with pytest.raises(RuntimeError):
        store.cancel_unpaid_order("8100000000000001", "payment_issue", "x")
    monkeypatch.undo()
    assert store.order_for_customer("8100000000000001", ALEX)["status"] == AWAITING_PAYMENT
    assert store.cancellation_requests("8100000000000001") == []


@sqlite_only
def test_locked_database_is_reported_not_crashed(store, clock):
    """Another process holds the file's write lock (test_postgres.py: the advisory lock)."""
    impatient = OrderStore(store.location, clock=clock)
    impatient.db.execute("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(str(store.path), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        # WAL mode: reads go on while another process holds the write lock.
        assert impatient.order_for_customer("8100000000000002", ALEX) is not None
        with pytest.raises(StoreUnavailable):
            impatient.record_cancellation_request("8100000000000002", None, None)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.cancellation_requests("8100000000000002") == []


def test_reset_seeds_again(store):
    store.cancel_unpaid_order("8100000000000001", None, None)
    store.reset()
    assert store.order_for_customer("8100000000000001", ALEX)["status"] == AWAITING_PAYMENT
    assert store.cancellation_requests("8100000000000001") == []


def test_ids_go_on_after_rows_inserted_with_their_own(store):
    """As SQLite's rowid does, PostgreSQL's identity continues after explicit ids (seeds, imports)."""
    store.db.table("cancellation_requests").insert_all(
        [{"id": 100, "order_id": "8100000000000002", "created_at": "2026-11-28T00:00:00+00:00", "state": "declined"}]
    )
    assert store.record_cancellation_request("8100000000000002", None, None).id == 101


def test_a_missing_row_is_sqlite_utils_not_found(store):
    with pytest.raises(NotFoundError):
        store.db.table("orders").get("8100000000009999")
    with pytest.raises(NotFoundError), store._write() as db:
        db.table("orders").update("8100000000009999", {"status": "cancelled"})


def test_text_with_a_nul_is_kept_and_matches_nothing(store):
    """SQLite keeps a NUL; PostgreSQL text cannot hold one and stores U+FFFD in its place."""
    assert store.order_for_customer("8100000000000002\x00", ALEX) is None
    assert store.customer_by_email("alex.buyer@example.com\x00") is None
    store.record_cancellation_request("8100000000000002", "changed_mind", "wrong\x00size")
    assert store.latest_cancellation_request("8100000000000002")["buyer_words"] in ("wrong\x00size", "wrong\ufffdsize")
