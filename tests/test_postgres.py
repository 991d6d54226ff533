"""The PostgreSQL backend's own promises (the store's are in test_store.py, on both backends):
sqlite-style placeholders, one setting, writers serialised across processes, a held lock or a
lost connection reported as "try again" or healed, and a URL's password never shown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import psycopg2
import pytest

from actions.database import describe_location, is_database_url
from actions.demo_data import open_demo_store
from actions.postgres import WRITE_LOCK, connection_parameters, connection_url, pyformat
from actions.store import OrderStore, StoreUnavailable
from tests.conftest import postgres_only
from tests.support.stack import ROOT, free_port

ALEX = "C1"


# --- no server needed ----------------------------------------------------------------------------


def test_placeholders_become_psycopg2_ones_outside_quotes():
    assert pyformat("id = ? and state in (?, ?)") == "id = %s and state in (%s, %s)"
    assert pyformat("where id = :id and s = :waiting") == "where id = %(id)s and s = %(waiting)s"
    assert pyformat("select '?:x%' as \"a?\", 5::text, 100 % 7") == "select '?:x%%' as \"a?\", 5::text, 100 %% 7"
    assert pyformat("select 'it''s ?', ?") == "select 'it''s ?', %s"


def test_the_url_is_the_setting_and_its_password_is_never_shown():
    url = "postgresql://orders:s3cret-pw@db.internal:5432/orders?sslmode=require"
    assert is_database_url(url) and not is_database_url("/var/orders.db")
    shown = describe_location(url)
    assert "s3cret-pw" not in shown and shown == "postgresql://orders:***@db.internal:5432/orders?sslmode=require"
    assert describe_location("postgresql://orders@db/orders") == "postgresql://orders@db/orders"
    assert connection_url("postgresql+psycopg2://u@h/d") == "postgresql://u@h/d"
    with pytest.raises(ValueError):
        connection_url("mysql://u@h/d")
    with pytest.raises(ValueError) as refused:
        connection_parameters("postgresql://u:s3cret-pw@h/d?no_such_parameter=1")
    assert "s3cret-pw" not in str(refused.value) and refused.value.__cause__ is None


def test_the_urls_own_connection_parameters_are_kept():
    parameters = connection_parameters(
        "postgresql://u@h/d?sslmode=require&connect_timeout=2&options=-csearch_path%3Dorders"
    )
    assert parameters["sslmode"] == "require" and parameters["connect_timeout"] == "2"
    assert parameters["options"] == "-csearch_path=orders" and parameters["fallback_application_name"] == "order-store"


def test_an_unreachable_server_is_reported_not_crashed():
    url = f"postgresql://orders:s3cret-pw@127.0.0.1:{free_port()}/orders"
    with pytest.raises(StoreUnavailable) as raised:
        open_demo_store(url)
    assert "s3cret-pw" not in str(raised.value)


# --- against the test server -----------------------------------------------------------------------


@postgres_only
def test_db_url_comes_from_environment_and_wins_over_the_path(order_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ORDER_DB_PATH", str(tmp_path / "unused.db"))
    monkeypatch.setenv("ORDER_DB_URL", order_db)
    store = open_demo_store()
    assert store.location == order_db and store.path is None
    assert len(store.orders_for_customer(ALEX)) == 11
    assert not (tmp_path / "unused.db").exists()


@postgres_only
def test_a_held_write_lock_is_reported_and_reads_go_on(store, order_db, clock):
    impatient = OrderStore(order_db, clock=clock)
    impatient.db.execute("set lock_timeout = 50")
    blocker = psycopg2.connect(order_db)
    try:
        blocker.cursor().execute("select pg_advisory_xact_lock(%s)", (WRITE_LOCK,))  # a writer mid-transaction
        assert impatient.order_for_customer("8100000000000002", ALEX) is not None
        with pytest.raises(StoreUnavailable):
            impatient.record_cancellation_request("8100000000000002", None, None)
    finally:
        blocker.rollback()
        blocker.close()
    assert impatient.record_cancellation_request("8100000000000002", None, None).created, "the lock is free again"


def _end_sessions(server, order_db: str) -> int:
    """What a server restart or a cut network does to the store's connections."""
    name = order_db.rsplit("/", 1)[1]
    rows = server.admin(
        "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
        (name,),
    )
    return len(rows)


@postgres_only
def test_a_lost_connection_is_replaced(store, order_db, postgres_server):
    assert store.order_for_customer("8100000000000002", ALEX)
    assert _end_sessions(postgres_server, order_db) >= 1
    assert store.order_for_customer("8100000000000002", ALEX), "a read reconnects"
    _end_sessions(postgres_server, order_db)
    assert store.record_cancellation_request("8100000000000002", None, None).created, "so does a write"


@postgres_only
def test_a_connection_lost_in_a_write_is_reported_and_writes_nothing(store, order_db, postgres_server):
    with pytest.raises(StoreUnavailable), store._write() as db:
        db.table("orders").update("8100000000000001", {"status": "cancelled"})
        _end_sessions(postgres_server, order_db)
        db.table("orders").update("8100000000000002", {"status": "cancelled"})
    assert store.order_for_customer("8100000000000001", ALEX)["status"] == "awaiting_payment"
    assert store.cancel_unpaid_order("8100000000000001", None, None).created, "the next write reconnects"


@postgres_only
def test_threads_have_their_own_connections(store):
    pids = set()

    def read() -> None:
        pids.add(next(iter(store.db.query("select pg_backend_pid() as pid")))["pid"])

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read()
    assert len(pids) == 4


@postgres_only
def test_a_forked_child_opens_its_own_connection(store):
    def backend_pid() -> int:
        return next(iter(store.db.query("select pg_backend_pid() as pid")))["pid"]

    parent = backend_pid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, str(backend_pid()).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        assert int(pipe.read()) != parent
    assert backend_pid() == parent, "the parent's session was left alone"


WRITER = textwrap.dedent(
    """
    import sys
    from actions.demo_data import open_demo_store
    store = open_demo_store(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # all start writing together
    request = store.record_cancellation_request("8100000000000012", "unreliable_seller", "scam")
    dispute = store.open_dispute("8100000000000005", "C1", "seller_communication", "no answer", "ids")
    print(int(request.created), int(dispute.created))
    """
)


@postgres_only
def test_writers_in_separate_processes_make_each_write_once(store, order_db):
    """As action servers on several hosts: their own processes, one database."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, order_db], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=120)[0].split() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert sum(int(request) for request, _ in outputs) == 1
    assert sum(int(dispute) for _, dispute in outputs) == 1
    assert len(store.cancellation_requests("8100000000000012")) == 1
