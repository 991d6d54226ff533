"""The demo data (``demo_data.yml``): two customers, two sellers and twelve orders in every
state, with times relative to "now". The store does not know about it:
:func:`open_demo_store` hands :func:`seed_demo_data` to the store as the seed of a new
database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.database import Database
from actions.handoff_store import HandoffStore
from actions.schema import TABLES
from actions.store import Clock, OrderStore, to_text, utc_now
from actions.vocabulary import OrderStatus, Reason, RequestState

DEMO_DATA = Path(__file__).with_name("demo_data.yml")
_OFFSET = re.compile(r"^([+-])((?:\d+[wdhm])+)$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def open_demo_store(location: Path | str | None = None, clock: Clock = utc_now) -> OrderStore:
    """The order store, seeded with the demo data when its database is new. ``location``: a
    SQLite file or a PostgreSQL URL; by default ``ORDER_DB_URL``, else ``ORDER_DB_PATH``."""
    return OrderStore(location, clock, seed=seed_demo_data)


def open_handoff_store(location: Path | str | None = None, clock: Clock = utc_now) -> HandoffStore:
    """The handoff queue in the same database (seeded the same way if it is new)."""
    return HandoffStore(location, clock, seed=seed_demo_data)


def offset(text: str) -> timedelta:
    """ "-1d5m" → minus one day and five minutes."""
    match = _OFFSET.match(text.strip())
    if not match:
        raise ValueError(f"not a time offset: {text!r} (e.g. -1d5m or +20d)")
    parts = re.findall(r"(\d+)([wdhm])", match.group(2))
    delta = timedelta(**{_UNITS[unit]: int(amount) for amount, unit in parts})
    return delta if match.group(1) == "+" else -delta


@lru_cache(maxsize=1)
def demo_data() -> dict[str, Any]:
    return yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8"))


def _rows(table: str, records: list[dict[str, Any]], now: datetime, defaults: dict | None = None) -> list[dict]:
    """Every column of the table, the offsets turned into times relative to ``now``."""
    columns = next(spec for spec in TABLES if spec.name == table).columns.split()
    rows = []
    for record in records:
        row: dict[str, Any] = {column: None for column in columns if column != "id" or "id" in record}
        row.update(defaults or {})
        for name, value in record.items():
            is_time = name.endswith("_at") or name == "estimated_delivery"
            row[name] = to_text(now + offset(value)) if is_time and isinstance(value, str) else value
        rows.append(row)
    return rows


def seed_demo_data(db: Database, now: datetime) -> None:
    """Insert the demo data, every time relative to ``now``; unknown states or reasons fail."""
    data = demo_data()
    orders = _rows("orders", data["orders"], now, data["order_defaults"])
    requests = _rows("cancellation_requests", data["cancellation_requests"], now)
    for order in orders:
        OrderStatus(order["status"])
    for request in requests:
        RequestState(request["state"])
        Reason(request["reason"])
    db.table("customers").insert_all(_rows("customers", data["customers"], now))
    db.table("sellers").insert_all(_rows("sellers", data["sellers"], now))
    db.table("orders").insert_all(orders)
    db.table("cancellation_requests").insert_all(requests)


def main() -> None:
    """``python -m actions.demo_data [--reset]``: create (or re-seed) the demo database."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--reset", action="store_true", help="drop all data and seed again")
    args = parser.parse_args()
    store = open_demo_store()
    if args.reset:
        store.reset()
    print(f"order store ready at {store.describe()}")


if __name__ == "__main__":
    main()
