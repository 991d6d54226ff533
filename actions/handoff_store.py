"""The handoff queue: conversations handed to a person, the agents at the desk, failed console
sign-ins and the deliveries to a helpdesk webhook (docs/product.md §4, "Human handoff").

It lives in the order database, which every action server and every agent console reaches,
never in a process's memory. Writes run in transactions that take the write lock first
(SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock; :mod:`actions.database`): two agents
claiming one conversation at the same moment cannot both get it, and a buyer asking twice
is queued once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from actions.database import Database, OrderDatabase, to_datetime, to_text
from actions.store import WriteResult
from actions.vocabulary import HandoffState, HandoffTrigger

LIVE = (HandoffState.WAITING.value, HandoffState.WITH_AGENT.value)
MAX_DELIVERY_ATTEMPTS = 8


class HandoffStore(OrderDatabase):
    """Handoffs, agents and webhook deliveries, in the order database."""

    # --- the queue ------------------------------------------------------------------------

    def open_handoff(
        self,
        conversation_id: str,
        channel: str,
        trigger: HandoffTrigger,
        summary: dict[str, Any],
        webhook: bool = False,
    ) -> WriteResult:
        """Queue the conversation for a person. A conversation already queued or with an
        agent keeps its place: asking again is not a second entry. With `webhook`, a delivery
        of the summary is recorded in the same transaction, so none is lost."""
        with self._write() as db:
            live = _live(db, conversation_id)
            if live:
                return WriteResult(live[0]["id"], created=False)
            row = {
                "conversation_id": conversation_id[:256],
                "channel": channel[:64],
                "customer_id": summary.get("customer_id"),
                "order_id": summary.get("order_id"),
                "reason": summary.get("reason"),
                "trigger": trigger.value,
                "summary": json.dumps(summary),
                "state": HandoffState.WAITING.value,
                "agent_id": None,
                "agent_name": None,
                "created_at": to_text(self.clock()),
                "claimed_at": None,
                "ended_at": None,
            }
            handoffs = db.table("handoffs")
            handoffs.insert(row)
            handoff_id = int(handoffs.last_pk or 0)
            if webhook:
                payload = {"id": handoff_id, **row, "summary": summary}
                db.table("webhook_deliveries").insert(
                    {
                        "handoff_id": handoff_id,
                        "payload": json.dumps(payload),
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": row["created_at"],
                        "delivered_at": None,
                        "last_error": None,
                    }
                )
            return WriteResult(handoff_id, created=True)

    def handoff(self, handoff_id: int) -> dict | None:
        rows = self._read(lambda db: list(db.table("handoffs").rows_where("id = ?", [handoff_id], limit=1)))
        return _decoded(rows[0]) if rows else None

    def live_handoff(self, conversation_id: str) -> dict | None:
        """The conversation's handoff that is waiting or with an agent, if any."""
        rows = self._read(lambda db: _live(db, conversation_id))
        return _decoded(rows[0]) if rows else None

    def queue_position(self, handoff_id: int) -> int:
        """1 for the next in line; 0 once an agent has it (or it ended)."""
        return int(
            self._read(
                lambda db: db.execute(
                    "select case when (select state from handoffs where id = :id) = :waiting then "
                    "(select count(*) from handoffs where state = :waiting and id <= :id) else 0 end",
                    {"id": handoff_id, "waiting": HandoffState.WAITING.value},
                ).fetchone()[0]
            )
        )

    def queue(self, limit: int = 200) -> list[dict]:
        """What the console lists: waiting and claimed conversations, oldest first."""
        rows = self._read(
            lambda db: list(db.table("handoffs").rows_where("state in (?, ?)", list(LIVE), order_by="id", limit=limit))
        )
        return [_decoded(row) for row in rows]

    def claim(self, handoff_id: int, agent_id: str, agent_name: str) -> bool:
        """Give a waiting conversation to this agent. Only one claim can win."""
        with self._write() as db:
            cursor = db.execute(
                "update handoffs set state = ?, agent_id = ?, agent_name = ?, claimed_at = ? "
                "where id = ? and state = ?",
                [
                    HandoffState.WITH_AGENT.value,
                    agent_id,
                    agent_name,
                    to_text(self.clock()),
                    handoff_id,
                    HandoffState.WAITING.value,
                ],
            )
            return cursor.rowcount == 1

    def end(self, handoff_id: int, agent_id: str, state: HandoffState) -> bool:
        """Hand back to the bot or close: only the agent who holds the conversation can."""
        if state not in (HandoffState.HANDED_BACK, HandoffState.CLOSED):
            raise ValueError(f"a handoff cannot end as {state}")
        with self._write() as db:
            cursor = db.execute(
                "update handoffs set state = ?, ended_at = ? where id = ? and state = ? and agent_id = ?",
                [state.value, to_text(self.clock()), handoff_id, HandoffState.WITH_AGENT.value, agent_id],
            )
            return cursor.rowcount == 1

    def withdraw(self, conversation_id: str) -> bool:
        """The buyer ended the chat: its live entry is closed (the console shows it ended), so
        no agent answers a chat nobody reads. Whether there was one."""
        with self._write() as db:
            cursor = db.execute(
                "update handoffs set state = ?, ended_at = ? where conversation_id = ? and state in (?, ?)",
                [HandoffState.CLOSED.value, to_text(self.clock()), conversation_id, *LIVE],
            )
            return cursor.rowcount > 0

    # --- who is at the desk ---------------------------------------------------------------

    def agent_seen(self, agent_id: str, name: str) -> None:
        with self._write() as db:
            db.table("agents").upsert({"id": agent_id, "name": name, "last_seen": to_text(self.clock())}, pk="id")

    def agents_at_desk(self, within: timedelta) -> int:
        since = to_text(self.clock() - within)
        return int(self._read(lambda db: db.table("agents").count_where("last_seen >= ?", [since])))

    # --- console sign-in failures ---------------------------------------------------------------

    def record_login_failure(self, agent: str, address: str, window: timedelta) -> None:
        """Count a failed sign-in; failures older than the window are forgotten."""
        with self._write() as db:
            failures = db.table("agent_login_failures")
            now = self.clock()
            failures.delete_where("created_at < ?", [to_text(now - window)])
            failures.insert({"agent": agent[:128].lower(), "address": address[:64], "created_at": to_text(now)})

    def login_failures(self, agent: str, address: str, window: timedelta) -> tuple[int, int]:
        """Failed sign-ins within the window: for this agent name, and from this address."""
        since = to_text(self.clock() - window)
        table = "agent_login_failures"

        def count(db: Database) -> tuple[int, int]:
            failures = db.table(table)
            by_agent = failures.count_where("agent = ? and created_at >= ?", [agent[:128].lower(), since])
            by_address = failures.count_where("address = ? and created_at >= ?", [address[:64], since])
            return int(by_agent), int(by_address)

        return self._read(count)

    # --- helpdesk webhook deliveries --------------------------------------------------------------

    def due_deliveries(self, lease: timedelta, limit: int = 10) -> list[dict]:
        """Deliveries to make now, each leased for `lease` so that another process does not
        send it at the same time; a sender that dies lets the lease run out and it is retried."""
        with self._write() as db:
            now = self.clock()
            rows = list(
                db.table("webhook_deliveries").rows_where(
                    "state = 'pending' and next_attempt_at <= ?", [to_text(now)], order_by="id", limit=limit
                )
            )
            for row in rows:
                db.table("webhook_deliveries").update(
                    row["id"], {"next_attempt_at": to_text(now + lease), "attempts": row["attempts"] + 1}
                )
                row["attempts"] += 1
            return rows

    def delivery_done(self, delivery_id: int) -> None:
        with self._write() as db:
            db.table("webhook_deliveries").update(
                delivery_id, {"state": "delivered", "delivered_at": to_text(self.clock()), "last_error": None}
            )

    def delivery_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: tried again at `retry_at`, or given up (state "failed") without one."""
        with self._write() as db:
            change: dict[str, Any] = {"last_error": error[:500]}
            if retry_at is None:
                change["state"] = "failed"
            else:
                change["next_attempt_at"] = to_text(retry_at)
            db.table("webhook_deliveries").update(delivery_id, change)

    def deliveries(self, handoff_id: int) -> list[dict]:
        return self._read(
            lambda db: list(db.table("webhook_deliveries").rows_where("handoff_id = ?", [handoff_id], order_by="id"))
        )

    # --- the support lead's figures --------------------------------------------------------------

    def handoff_report(self) -> dict[str, Any]:
        """Handoffs by trigger and by state, and how long buyers waited for an agent."""
        rows = self._read(lambda db: list(db.table("handoffs").rows))
        waits = sorted(
            (to_datetime(row["claimed_at"]) - to_datetime(row["created_at"])).total_seconds()  # type: ignore[operator]
            for row in rows
            if row["claimed_at"]
        )
        by_trigger = {trigger.value: sum(row["trigger"] == trigger.value for row in rows) for trigger in HandoffTrigger}
        by_state = {state.value: sum(row["state"] == state.value for row in rows) for state in HandoffState}
        return {
            "handoffs": len(rows),
            "by_trigger": by_trigger,
            "by_state": by_state,
            "claimed": len(waits),
            "median_wait_seconds": waits[len(waits) // 2] if waits else None,
            "longest_wait_seconds": waits[-1] if waits else None,
        }


def _live(db: Database, conversation_id: str) -> list[dict]:
    return list(
        db.table("handoffs").rows_where(
            "conversation_id = ? and state in (?, ?)", [conversation_id, *LIVE], order_by="id desc", limit=1
        )
    )


def _decoded(row: dict) -> dict:
    try:
        summary = json.loads(row.get("summary") or "{}")
    except ValueError:
        summary = {}
    return {**row, "summary": summary if isinstance(summary, dict) else {}}
