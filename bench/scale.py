"""`make bench-scale`: the scale-out topology under 1,000 conversations open at once.

The topology is the one `make test-scale` starts (tests/support/cluster.py): nginx in front
of two Rasa servers and two action servers, the PostgreSQL tracker store, the Redis lock
store and one order store both action servers share.

1. **Load.** Every conversation is a whole cancellation path of SPEC §4 on an order of its
   own (5-7 turns): unpaid → cancelled at once; paid → request sent to the seller; shipped →
   wait, or contact the seller; declined by the seller → dispute; contact the seller →
   message sent. All conversations start together, at most `--in-flight` requests are in
   the air at a time, and turn i of conversation c goes to [nginx, rasa 1, rasa 2][(c+i) % 3].
   Each conversation has its own loopback source address, so nginx's per-client rate limit
   sees many buyers, as it would in production.
2. **Constant cost.** One long conversation alone on the cluster: median latency of the
   turns around turn 5 and around turn 200.
3. **Faults.** The same load on fresh orders while Redis restarts, PostgreSQL is paused for
   3 s, an action server and a Rasa server are killed and restarted. A buyer who gets an
   HTTP error, a timeout or the channel's "try again" waits 1-2 s and sends the same text
   again (to the next address), at most 10 times.

Every message carries metadata {"attempt": <uuid>}, which the REST channel stores on the
user event in PostgreSQL: per conversation, what was sent is compared with what was stored
(0 lost: every normally answered message stored once; 0 duplicated: no attempt stored
twice), and the order store must hold exactly one write per confirmed offer.
Writes results/bench_scale.{md,json,png} (with --quick: results/tmp/bench-scale-quick/).

    .venv/bin/python -m bench.scale            (make bench-scale; 1,000 conversations)
    .venv/bin/python -m bench.scale --quick    (100 conversations, a few minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import platform
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import requests
from rasa.core.lock_store import LOCK_LIFETIME

from actions.store import OrderStore, to_text, utc_now
from bench.run import summary
from channels.guard import TRY_AGAIN
from tests.support.cluster import (
    MODEL,
    POSTGRES_PAUSE_S,
    REST_TOKEN,
    Cluster,
    kill_action_server,
    kill_rasa_server,
    pause_postgres,
    postmaster_pid,
    process_tree,
    read_processes,
    restart_redis,
    running_cluster,
)
from tests.support.stack import ROOT, rss_mb

RESULTS = ROOT / "results"
QUICK_RESULTS = RESULTS / "tmp" / "bench-scale-quick"
BEARER = {"Authorization": f"Bearer {REST_TOKEN}"}
ENDPOINTS = ("nginx", "rasa 1", "rasa 2")

# The buyers all the benchmark's orders belong to: a few accounts with many orders each.
BUYERS = {f"bench.buyer{n}@example.com": f"BB{n}" for n in range(1, 9)}
RETRIES = 10
RETRY_WAIT_S = (1.0, 2.0)
# Longer than nginx's proxy_read_timeout (60 s), so that a stuck upstream shows as nginx's 504.
REQUEST_TIMEOUT_S = 90.0
PROGRESS_EVERY_S = 15.0
# A fault's effects are counted until this long after it recovered; the next fault waits as long.
FAULT_TAIL_S = 5.0
LONG_TURNS = 202
LONG_PAIRS = 3  # long conversations, each measured against a fresh one
# Turns 4-8 and 198-202 hold the same mix (order lookup, question, lookup, question, lookup).
TURN_WINDOWS = {"turn 5": (4, 8), "turn 200": (198, 202)}
RATIO_TARGET = 1.5
# Second octet of each phase's client addresses: 127.<block>.x.y.
ADDRESS_BLOCKS = {"load": 101, "faults": 102}
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


# --- the client ------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One HTTP request: a try of one turn."""

    conversation: int
    turn: int
    attempt_id: str
    endpoint: int
    started_s: float  # since the phase began
    latency_s: float
    waited_s: float  # for a slot among the requests in flight
    outcome: str  # "ok", "try again", "http 502", "timeout", "connect error", ...


@dataclass
class Outcome:
    """How one conversation went."""

    plan: Plan
    turns_answered: int = 0
    failed: str | None = None  # why it stopped before its last turn
    off_script: list[dict[str, str]] = field(default_factory=list)  # answers without the expected phrase


def source_address(block: int, index: int) -> str:
    """A loopback address of the conversation's own (all of 127/8 is loopback on Linux)."""
    return f"127.{block}.{index // 250}.{index % 250 + 1}"


async def post(session: aiohttp.ClientSession, url: str, sender: str, text: str, attempt: str) -> tuple[str, str]:
    """Send one message; the outcome's kind and the reply's text."""
    body = {"sender": sender, "message": text, "metadata": {"attempt": attempt}}
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
            if response.status != 200:
                await response.read()
                return f"http {response.status}", ""
            replies = await response.json()
    except asyncio.TimeoutError:
        return "timeout", ""
    except aiohttp.ClientConnectorError:
        return "connect error", ""
    except aiohttp.ServerDisconnectedError:
        return "disconnected", ""
    except aiohttp.ClientOSError as error:  # e.g. the connection reset by a server killed mid-request
        return f"connection error ({errno.errorcode.get(error.errno or 0, error.errno)})", ""
    except aiohttp.ClientError as error:
        return type(error).__name__, ""
    except ValueError:  # a body that is not JSON
        return "bad reply", ""
    texts = [reply.get("text") or "" for reply in replies]
    if TRY_AGAIN in texts:
        return "try again", TRY_AGAIN
    if not any(texts):
        return "no reply", ""
    return "ok", "\n".join(texts)


class Load:
    """One phase's traffic: every conversation at once, at most `in_flight` requests at a time."""

    def __init__(self, urls: list[str], plans: list[Plan], in_flight: int, block: int) -> None:
        self.urls, self.plans, self.block = urls, plans, block
        self.in_flight = in_flight
        self.attempts: list[Attempt] = []
        self.planned_turns = sum(len(plan.turns) for plan in plans)
        self.answered = 0
        self.done = False
        self.began = time.perf_counter()
        self.wall_s = 0.0

    def clock(self) -> float:
        return time.perf_counter() - self.began

    def progress(self) -> float:
        return self.answered / self.planned_turns

    async def run(self) -> list[Outcome]:
        self.slots = asyncio.Semaphore(self.in_flight)
        self.began = time.perf_counter()
        reporter = asyncio.create_task(self.report_progress())
        try:
            outcomes = await asyncio.gather(*(self.converse(plan) for plan in self.plans))
        finally:
            self.wall_s = self.clock()
            self.done = True
            reporter.cancel()
        return list(outcomes)

    async def report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            errors = sum(attempt.outcome != "ok" for attempt in self.attempts)
            print(f"  {self.clock():6.0f} s  {self.answered}/{self.planned_turns} turns answered, "
                  f"{errors} errors so far", flush=True)  # fmt: skip

    async def converse(self, plan: Plan) -> Outcome:
        outcome = Outcome(plan)
        connector = aiohttp.TCPConnector(local_addr=(source_address(self.block, plan.index), 0), force_close=True)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, headers=BEARER, timeout=timeout) as session:
            for turn, step in enumerate(plan.turns):
                kind, reply = await self.turn(session, plan, turn, step.text)
                if kind != "ok":
                    outcome.failed = f"turn {turn + 1}: {kind} after {RETRIES} retries"
                    break
                outcome.turns_answered += 1
                if step.expect not in reply:
                    outcome.off_script.append({"turn": str(turn + 1), "sent": step.text, "reply": reply[:300]})
        return outcome

    async def turn(self, session: aiohttp.ClientSession, plan: Plan, turn: int, text: str) -> tuple[str, str]:
        """Send one turn; on an error or "try again", wait and send the same text again
        (with a new attempt id, to the next address), as a buyer would."""
        kind, reply = "not sent", ""
        for retry in range(RETRIES + 1):
            if retry:
                await asyncio.sleep(random.uniform(*RETRY_WAIT_S))
            endpoint = (plan.index + turn + retry) % len(self.urls)
            attempt = uuid.uuid4().hex
            queued = self.clock()
            async with self.slots:
                started = self.clock()
                kind, reply = await post(session, self.urls[endpoint], plan.sender, text, attempt)
                latency = self.clock() - started
            self.attempts.append(
                Attempt(plan.index, turn, attempt, endpoint, started, latency, started - queued, kind)
            )  # fmt: skip
            if kind == "ok":
                self.answered += 1
                break
        return kind, reply


@dataclass(frozen=True)
class Fault:
    name: str
    at_progress: float  # share of the phase's turns answered before it starts
    inject: Callable[[Cluster], None]  # blocking; returns once the cluster has recovered


# Quick faults first: a Rasa server takes a minute or more to load its model again.
FAULTS = (
    Fault("Redis restarted", 0.15, restart_redis),
    Fault(f"PostgreSQL paused {POSTGRES_PAUSE_S:.0f} s", 0.30, pause_postgres),
    Fault("action server 1 killed, restarted", 0.45, kill_action_server),
    Fault("Rasa server 2 killed, restarted", 0.60, kill_rasa_server),
)


async def inject_faults(load: Load, cluster: Cluster, records: list[dict[str, Any]]) -> None:
    """Each fault once its share of the load is answered and the previous one has recovered
    (and its effects had time to show); a fault the load finished before is reported as not
    injected."""
    quiet_from = 0.0
    for fault in FAULTS:
        while (load.progress() < fault.at_progress or load.clock() < quiet_from) and not load.done:
            await asyncio.sleep(0.2)
        if load.done:
            records.append({"fault": fault.name, "injected": False})
            continue
        started = load.clock()
        print(f"  {started:6.0f} s  fault: {fault.name}", flush=True)
        error = None
        try:
            await asyncio.to_thread(fault.inject, cluster)
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
        recovered = load.clock()
        quiet_from = recovered + FAULT_TAIL_S
        print(f"  {recovered:6.0f} s  recovered from: {fault.name}", flush=True)
        records.append({"fault": fault.name, "injected": True, "at_s": started, "recovered_s": recovered,
                        "error": error})  # fmt: skip


# --- measuring the machine -------------------------------------------------------------------


TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_ticks() -> int:
    """CPU ticks the whole machine spent on anything but idling (and waiting for I/O) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(values) - values[3] - values[4]


class CpuMeter:
    """CPU seconds per role (a process, with or without its children) over a phase, sampled
    every second so that processes killed and restarted meanwhile are counted too."""

    def __init__(self, roles: dict[str, tuple[Callable[[], int], bool]]) -> None:
        self.roles = roles
        self.used = dict.fromkeys(roles, 0)
        self.last: dict[int, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self) -> None:
        self.last = {pid: ticks for pid, (_, ticks) in read_processes().items()}
        self.machine = machine_busy_ticks()
        self.began = time.perf_counter()
        self.thread.start()

    def loop(self) -> None:
        while not self.stopping.wait(1.0):
            self.sample()

    def sample(self) -> None:
        table = read_processes()
        for role, (pid_of, with_children) in self.roles.items():
            try:
                root = pid_of()
            except Exception:  # the process is being restarted
                continue
            for pid in process_tree(root, table) if with_children else [root]:
                if pid in table:
                    ticks = table[pid][1]
                    self.used[role] += max(0, ticks - self.last.get(pid, 0))
                    self.last[pid] = ticks

    def stop(self) -> dict[str, Any]:
        self.stopping.set()
        self.thread.join()
        self.sample()
        wall = time.perf_counter() - self.began
        cores = {role: ticks / TICKS / wall for role, ticks in self.used.items()}
        machine_cores = (machine_busy_ticks() - self.machine) / TICKS / wall
        return {
            "wall_s": wall,
            "cores_used": cores,
            "machine_cores_busy": machine_cores,
            "other_cores": max(0.0, machine_cores - sum(cores.values())),
            "cores": os.cpu_count(),
        }


def cpu_roles(cluster: Cluster) -> dict[str, tuple[Callable[[], int], bool]]:
    """Who to charge CPU to; looked up at each sample, as servers get restarted."""
    return {
        "rasa 1": (lambda: cluster.rasa[0].pid, True),
        "rasa 2": (lambda: cluster.rasa[1].pid, True),
        "actions 1": (lambda: cluster.actions[0].pid, True),
        "actions 2": (lambda: cluster.actions[1].pid, True),
        "postgres": (lambda: postmaster_pid(cluster), True),
        "redis": (lambda: cluster.redis.process.pid, True),
        "nginx": (lambda: cluster.nginx.process.pid, True),
        "bench client": (os.getpid, False),  # its children are the servers themselves
    }


def memory(cluster: Cluster) -> dict[str, float]:
    """RSS (MB) of each Rasa and action server."""
    servers = {f"rasa {i + 1}": p for i, p in enumerate(cluster.rasa)}
    servers.update({f"actions {i + 1}": p for i, p in enumerate(cluster.actions)})
    return {name: round(rss_mb(process.pid), 1) for name, process in servers.items()}


# --- checking what was stored ----------------------------------------------------------------


def stored_attempts(cluster: Cluster, sender_prefix: str) -> tuple[Counter, Counter]:
    """How often each attempt id, and how many user events per conversation, PostgreSQL holds."""
    rows = cluster.postgres.query(
        "select sender_id, data from events where type_name = 'user' and sender_id like %s", (sender_prefix + "%",)
    )
    by_attempt: Counter = Counter()
    by_sender: Counter = Counter()
    for sender, data in rows:
        by_attempt[(json.loads(data).get("metadata") or {}).get("attempt")] += 1
        by_sender[sender] += 1
    return by_attempt, by_sender


def check_events(cluster: Cluster, plans: list[Plan], attempts: list[Attempt]) -> dict[str, Any]:
    """0 lost (a normally answered message stored exactly once) and 0 duplicated (no
    attempt id stored twice); a message that failed may or may not have been stored."""
    by_attempt, by_sender = stored_attempts(cluster, plans[0].sender.rsplit("-", 1)[0])
    answered = [a for a in attempts if a.outcome == "ok"]
    lost = [a for a in answered if by_attempt[a.attempt_id] == 0]
    duplicated = [attempt for attempt, n in by_attempt.items() if n > 1]
    failed_but_stored = [a for a in attempts if a.outcome != "ok" and by_attempt[a.attempt_id]]
    sent_ids = {a.attempt_id for a in attempts}
    sent_per_conversation = Counter(a.conversation for a in attempts)
    mismatched = sum(by_sender[plan.sender] != sent_per_conversation[plan.index] for plan in plans)
    return {
        "messages_sent": len(attempts),
        "answered_normally": len(answered),
        "user_events_stored": sum(by_attempt.values()),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "failed_but_stored": len(failed_but_stored),
        "stored_without_known_attempt": sum(n for a, n in by_attempt.items() if a not in sent_ids),
        "conversations_with_stored_other_than_sent": mismatched,
        "lost_examples": [asdict(a) for a in lost[:5]],
    }


# --- the phases ------------------------------------------------------------------------------


def urls_of(cluster: Cluster) -> list[str]:
    return [cluster.nginx.url, *cluster.rasa_urls]


async def drive(cluster: Cluster, load: Load, with_faults: bool) -> tuple[list[Outcome], list[dict]]:
    records: list[dict[str, Any]] = []
    if not with_faults:
        return await load.run(), records
    faults = asyncio.create_task(inject_faults(load, cluster, records))
    outcomes = await load.run()
    await faults  # a server still restarting is waited for before anything is checked
    return outcomes, records


def run_phase(cluster: Cluster, phase: str, plans: list[Plan], in_flight: int, with_faults: bool) -> dict:
    """Seed the phase's orders, run its load (and faults), then check what was stored."""
    store = cluster.order_store()
    seeded = utc_now()
    seed_orders(store, plans, seeded)
    print(f"{phase}: {len(plans)} conversations, {sum(len(p.turns) for p in plans)} turns, "
          f"{in_flight} requests in flight", flush=True)  # fmt: skip
    rss_before = memory(cluster)
    meter = CpuMeter(cpu_roles(cluster))
    meter.start()
    load = Load(urls_of(cluster), plans, in_flight, ADDRESS_BLOCKS[phase])
    outcomes, faults = asyncio.run(drive(cluster, load, with_faults))
    cpu = meter.stop()
    result = summarise(load, outcomes, faults)
    result.update(
        cpu=cpu,
        rss_before_mb=rss_before,
        rss_after_mb=memory(cluster),
        events=check_events(cluster, plans, load.attempts),
        writes=check_writes(store, plans, seeded),
    )
    result["series"] = [
        (round(a.started_s + a.latency_s, 3), round(a.latency_s, 4), a.outcome, a.conversation, a.turn, a.endpoint)
        for a in load.attempts
    ]
    return result


def summarise(load: Load, outcomes: list[Outcome], faults: list[dict]) -> dict[str, Any]:
    """Latency, throughput, errors and how the conversations ended."""
    ok = [a for a in load.attempts if a.outcome == "ok"]
    by_path: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        row = by_path.setdefault(outcome.plan.path.name, {"conversations": 0, "completed": 0, "as_scripted": 0})
        row["conversations"] += 1
        row["completed"] += outcome.failed is None
        row["as_scripted"] += outcome.failed is None and not outcome.off_script
    failed = [o for o in outcomes if o.failed]
    off_script = [{"conversation": o.plan.sender, "path": o.plan.path.name, **o.off_script[0]}
                  for o in outcomes if o.off_script]  # fmt: skip
    return {
        "conversations": len(outcomes),
        "completed": len(outcomes) - len(failed),
        "failed": len(failed),
        "failure_reasons": dict(Counter(o.failed.split(": ", 1)[1] for o in failed if o.failed)),
        "failed_examples": [{"conversation": o.plan.sender, "reason": o.failed} for o in failed[:10]],
        "off_script_conversations": len(off_script),
        "off_script_examples": off_script[:10],
        "by_path": by_path,
        "turns_planned": load.planned_turns,
        "turns_answered": len(ok),
        "messages_sent": len(load.attempts),
        "wall_s": load.wall_s,
        "throughput_turns_s": len(ok) / load.wall_s,
        "latency": summary([a.latency_s for a in ok]),
        "latency_by_endpoint": {
            name: summary([a.latency_s for a in ok if a.endpoint == i]) for i, name in enumerate(ENDPOINTS)
        },
        "wait_for_slot": summary([a.waited_s for a in load.attempts]),
        "errors": dict(Counter(a.outcome for a in load.attempts if a.outcome != "ok")),
        "faults": [{**fault, **fault_impact(fault, load.attempts)} for fault in faults],
        "stalled_turns": stalled_turns(load.attempts),
    }


# A request cut off inside a server: the message may have been mid-way when the server died.
CUT_OFF = ("disconnected", "http 502", "connection error")
STALLED_S = 30.0


def stalled_turns(attempts: list[Attempt]) -> dict[str, int]:
    """Answered turns slower than STALLED_S, and how many of them retry a message that was cut
    off inside a server: a server killed while handling a message never releases that
    conversation's lock, and the next message waits until the lock's lifetime runs out."""
    cut_off = {(a.conversation, a.turn) for a in attempts if a.outcome.startswith(CUT_OFF)}
    slow = [a for a in attempts if a.outcome == "ok" and a.latency_s > STALLED_S]
    return {
        "answered_after_30s": len(slow),
        "retrying_a_cut_off_message": sum((a.conversation, a.turn) in cut_off for a in slow),
    }


def fault_impact(fault: dict[str, Any], attempts: list[Attempt]) -> dict[str, Any]:
    """The attempts that failed from the fault until a few seconds after recovery, and the
    slowest answered turn in the air meanwhile."""
    if not fault["injected"]:
        return {}
    begin, end = fault["at_s"], fault["recovered_s"] + FAULT_TAIL_S
    failed = [a for a in attempts if a.outcome != "ok" and begin <= a.started_s + a.latency_s <= end]
    overlapping = [
        a for a in attempts if a.outcome == "ok" and a.started_s <= end and a.started_s + a.latency_s >= begin
    ]
    return {
        "failed_attempts": len(failed),
        "failed_by_kind": dict(Counter(a.outcome for a in failed)),
        "slowest_turn_ms": max((a.latency_s for a in overlapping), default=0.0) * 1000,
    }


class Speaker:
    """A plain client for the long conversations: one message at a time, its latency."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.session = requests.Session()
        self.session.headers.update(BEARER)

    def say(self, sender: str, text: str, turn: int) -> float:
        """Send turn `turn` (from 1) to the address the load would use for it; seconds taken."""
        body = {"sender": sender, "message": text, "metadata": {"attempt": uuid.uuid4().hex}}
        started = time.perf_counter()
        response = self.session.post(
            f"{self.urls[turn % len(self.urls)]}/webhooks/rest/webhook", json=body, timeout=REQUEST_TIMEOUT_S
        )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed


def constant_cost(cluster: Cluster, email: str) -> dict[str, Any]:
    """Latency around turn 200 of a long conversation against latency around turn 5.

    Other work on the machine comes and goes within seconds, more than the effect to
    measure: each late turn is sent right after an early turn of the same kind of a fresh
    conversation, to the same address, so both windows see the same machine. LONG_PAIRS
    pairs; the median of each window over all of them."""
    store = cluster.order_store()
    prefix = ORDER_PREFIXES["long"]
    shipped, paid = f"{prefix}{0:014d}", f"{prefix}{1:014d}"
    store.db["orders"].insert_all(
        [order_row(shipped, BUYERS[email], SHIPPED, utc_now(), 0), order_row(paid, BUYERS[email], PAID, utc_now(), 1)]
    )
    texts = ["where is my order?", shipped, email]
    texts += [paid if turn % 2 == 0 else "how can I cancel it myself?" for turn in range(4, LONG_TURNS + 1)]
    (early_from, _), (late_from, late_to) = TURN_WINDOWS["turn 5"], TURN_WINDOWS["turn 200"]
    speaker = Speaker(urls_of(cluster))
    pairs = [(f"scale-long-{uuid.uuid4().hex[:6]}", f"scale-fresh-{uuid.uuid4().hex[:6]}") for _ in range(LONG_PAIRS)]
    curve: list[float] = []  # every turn of the first long conversation
    for long, fresh in pairs:
        before_late = [speaker.say(long, texts[turn - 1], turn) for turn in range(1, late_from)]
        curve = curve or before_late
        for turn in range(1, early_from):
            speaker.say(fresh, texts[turn - 1], turn)
    early: list[float] = []
    late: list[float] = []
    for offset in range(late_to - late_from + 1):
        for number, (long, fresh) in enumerate(pairs):
            late.append(speaker.say(long, texts[late_from + offset - 1], late_from + offset))
            early.append(speaker.say(fresh, texts[early_from + offset - 1], late_from + offset))
            if number == 0:
                curve.append(late[-1])
    medians = {"turn 5": statistics.median(early) * 1000, "turn 200": statistics.median(late) * 1000}
    ratio = medians["turn 200"] / medians["turn 5"]
    return {
        "turns": LONG_TURNS,
        "pairs": LONG_PAIRS,
        "samples_per_window": len(early),
        "windows": {name: list(window) for name, window in TURN_WINDOWS.items()},
        "median_ms": medians,
        "ratio": ratio,
        "target": RATIO_TARGET,
        "pass": ratio <= RATIO_TARGET,
        "latency_ms_by_turn": [round(seconds * 1000, 1) for seconds in curve],
    }


def order_store_kind(cluster: Cluster) -> str:
    """Which order store the cluster's action servers share (ORDER_DB_URL wins over the file)."""
    if cluster.env.get("ORDER_DB_URL"):
        return "orders in PostgreSQL (their own database on the same server, `ORDER_DB_URL`)"
    return "orders in one SQLite file (`ORDER_DB_PATH`)"


def warm_up(cluster: Cluster) -> None:
    """One message to each Rasa server: the first call of a fresh server loads lazily."""
    for url in cluster.rasa_urls:
        body = {"sender": f"warm-up-{uuid.uuid4().hex[:6]}", "message": "hi"}
        requests.post(f"{url}/webhooks/rest/webhook", json=body, headers=BEARER, timeout=120).raise_for_status()


# --- the report ------------------------------------------------------------------------------

PHASE_TITLES = {"load": "load", "faults": "load with faults"}


def limits_note(phase: dict[str, Any]) -> list[str]:
    """What bounded throughput in the load phase, from the CPU each process used."""
    cpu = phase["cpu"]
    cores, busy, other = cpu["cores"], cpu["machine_cores_busy"], cpu["other_cores"]
    used = sorted(cpu["cores_used"].items(), key=lambda item: -item[1])
    ms_per_turn = {role: value * cpu["wall_s"] / phase["turns_answered"] * 1000 for role, value in used}

    def per_turn(prefix: str) -> float:
        return sum(value for role, value in ms_per_turn.items() if role.startswith(prefix))

    cluster = busy - other
    rasa = sum(value for role, value in used if role.startswith("rasa"))
    lines = [
        f"The machine's {cores} cores were {busy / cores:.0%} busy during the load ({busy:.2f} cores): "
        + ", ".join(f"{role} {value:.2f}" for role, value in used)
        + f", everything else on the machine {other:.2f}.",
        f"CPU per answered turn: {per_turn('rasa'):.0f} ms in the Rasa servers, {per_turn('actions'):.0f} ms in "
        f"the action servers, {per_turn('postgres'):.0f} ms in PostgreSQL, "
        f"{per_turn('nginx') + per_turn('redis'):.0f} ms in nginx and Redis, {per_turn('bench'):.0f} ms in the "
        "load generator.",
    ]
    if busy >= 0.85 * cores:
        lines.append(
            f"The limit was CPU: the cores were saturated, and the two Rasa servers took {rasa / cluster:.0%} of "
            "the cluster's share (NLU, the policies and the tracker, on one Python event loop per server). More "
            "cores or more Rasa servers raise the throughput; more requests in flight only lengthen the queue."
        )
    else:
        lines.append(
            "The cores were not saturated: the limit was elsewhere (the requests in flight, the lock store "
            "serialising each conversation, or waiting on PostgreSQL)."
        )
    if other > 0.2:
        lines.append(
            f"Other work on the machine took {other:.2f} cores meanwhile: on an idle machine the Rasa servers "
            "would get that CPU too, and the throughput would be higher."
        )
    lines.append(
        f"With {phase['in_flight']} requests in flight and {phase['throughput_turns_s']:.1f} turns/s, a turn spends "
        f"about {phase['in_flight'] / phase['throughput_turns_s']:.1f} s in the servers (Little's law; measured "
        f"p50 {phase['latency']['p50_ms'] / 1000:.1f} s), for about {per_turn(''):.0f} ms of CPU in all processes: "
        "under this load a turn mostly waits for a core."
    )
    return lines


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def both(phases: dict[str, Any], label: str, cell: Callable[[dict[str, Any]], str]) -> list[str]:
    """A row with the same figure for each phase."""
    return [label] + [cell(phases[name]) for name in PHASE_TITLES]


def percentiles(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures[key]:.0f}" for key in ("p50_ms", "p95_ms", "p99_ms"))


def overview_section(phases: dict[str, Any]) -> list[str]:
    rows = [
        both(phases, "conversations completed", lambda p: f"{p['completed']} / {p['conversations']}"),
        both(phases, "conversations with an answer off script", lambda p: str(p["off_script_conversations"])),
        both(phases, "turns answered / messages sent (with retries)",
             lambda p: f"{p['turns_answered']} / {p['messages_sent']}"),
        both(phases, "wall time (s)", lambda p: f"{p['wall_s']:.0f}"),
        both(phases, "throughput (turns/s)", lambda p: f"{p['throughput_turns_s']:.1f}"),
        both(phases, "latency per turn p50 / p95 / p99 (ms)", lambda p: percentiles(p["latency"])),
        both(phases, "wait in the client for a slot, p50 / p95 / p99 (ms)", lambda p: percentiles(p["wait_for_slot"])),
        both(phases, "errors by kind",
             lambda p: ", ".join(f"{kind}: {n}" for kind, n in sorted(p["errors"].items())) or "none"),
        both(phases, "user events stored / messages sent",
             lambda p: f"{p['events']['user_events_stored']} / {p['events']['messages_sent']}"),
        both(phases, "**lost** (answered normally, not stored once)", lambda p: f"**{p['events']['lost']}**"),
        both(phases, "**duplicated** (an attempt id stored twice)", lambda p: f"**{p['events']['duplicated']}**"),
        both(phases, "failed attempts stored all the same", lambda p: str(p["events"]["failed_but_stored"])),
        both(phases, "writes made / expected",
             lambda p: f"{p['writes']['writes_made']} / {p['writes']['writes_expected']}"),
        both(phases, "**double writes**", lambda p: f"**{p['writes']['double_writes']}**"),
        both(phases, "missing / unexpected writes",
             lambda p: f"{p['writes']['missing_writes']} / {p['writes']['unexpected_writes']}"),
    ]  # fmt: skip
    return ["## Load, then the same load with faults", "", *table(["", *PHASE_TITLES.values()], rows)]


def detail_section(phases: dict[str, Any]) -> list[str]:
    by_address = [
        [name] + [percentiles(phases[phase]["latency_by_endpoint"][name]) for phase in PHASE_TITLES]
        for name in ENDPOINTS
    ]
    empty = {"completed": 0, "as_scripted": 0, "conversations": 0}
    by_path = [
        [name]
        + [
            "{completed} / {as_scripted} / {conversations}".format(**phases[phase]["by_path"].get(name, empty))
            for phase in PHASE_TITLES
        ]
        for name in phases["load"]["by_path"]
    ]
    lines = [
        "### Latency by address (ms, p50 / p95 / p99)",
        "",
        *table(["address", *PHASE_TITLES.values()], by_address),
    ]
    lines += ["", "### Paths (completed / as scripted / conversations)", ""]
    lines += table(["path", *PHASE_TITLES.values()], by_path)
    reasons = {**phases["load"]["failure_reasons"], **phases["faults"]["failure_reasons"]}
    if reasons:
        lines += ["", "Conversations that did not complete: " + "; ".join(f"{k}: {n}" for k, n in reasons.items())]
    examples = phases["faults"]["off_script_examples"][:4] + phases["load"]["off_script_examples"][:4]
    if examples:
        lines += ["", "Answers off script (the first of each such conversation, a few):", ""]
        lines += [f"- {e['path']}, turn {e['turn']} {e['sent']!r} → {e['reply'][:160]!r}" for e in examples]
    return lines


def faults_section(phase: dict[str, Any]) -> list[str]:
    rows = []
    for fault in phase["faults"]:
        if not fault["injected"]:
            rows.append([fault["fault"], "–", "–", "–", "–", "not injected: the load had finished"])
            continue
        rows.append([
            fault["fault"], f"{fault['at_s']:.0f}", f"{fault['recovered_s']:.0f}", str(fault["failed_attempts"]),
            f"{fault['slowest_turn_ms']:.0f}", fault["error"] or "",
        ])  # fmt: skip
    header = ["fault", "at (s)", "recovered (s)", "failed attempts", "slowest answered turn (ms)", "note"]
    stalled = phase.get("stalled_turns") or {}
    note = []
    if stalled.get("answered_after_30s"):
        note = [
            "",
            f"{stalled['answered_after_30s']} answered turns took over {STALLED_S:.0f} s; "
            f"{stalled['retrying_a_cut_off_message']} of them retried a message cut off inside a killed server: "
            f"that conversation's lock stays taken until Rasa's lock lifetime ({LOCK_LIFETIME} s) runs out.",
        ]
    return [
        "### Faults",
        "",
        "Seconds from the start of the phase. Failed attempts: those that ended between the fault and "
        f"{FAULT_TAIL_S:.0f} s after recovery; the slowest answered turn in the air meanwhile.",
        "",
        *table(header, rows),
        *note,
    ]


def cost_section(cost: dict[str, Any]) -> list[str]:
    (first5, last5), (first200, last200) = cost["windows"]["turn 5"], cost["windows"]["turn 200"]
    row = [
        f"{cost['median_ms']['turn 5']:.0f}", f"{cost['median_ms']['turn 200']:.0f}", f"{cost['ratio']:.2f}×",
        f"≤ {cost['target']}× ({'pass' if cost['pass'] else '**miss**'})",
    ]  # fmt: skip
    return [
        "## Constant cost",
        "",
        f"After the load, alone on the cluster: {cost['pairs']} conversations of {cost['turns']} turns; median "
        f"latency of their turns {first200}-{last200} against turns {first5}-{last5} of as many fresh conversations "
        f"({cost['samples_per_window']} turns each, the same mix of order lookups and questions), each late turn "
        "sent right after an early one, to the same address, so that other work on the machine weighs on both "
        "alike.",
        "",
        *table(["turn 5 (ms)", "turn 200 (ms)", "turn 200 / turn 5", "target"], [row]),
    ]


def resources_section(phases: dict[str, Any]) -> list[str]:
    load, faults = phases["load"], phases["faults"]
    memory_rows = [
        [name, *(f"{mb:.0f}" for mb in (load["rss_before_mb"][name], load["rss_after_mb"][name],
                                         faults["rss_after_mb"][name]))]
        for name in load["rss_before_mb"]
    ]  # fmt: skip
    cpu_rows = [
        both(phases, role, lambda p, r=role: f"{p['cpu']['cores_used'][r]:.2f}") for role in load["cpu"]["cores_used"]
    ]
    cpu_rows.append(both(phases, "everything else on the machine", lambda p: f"{p['cpu']['other_cores']:.2f}"))
    cpu_rows.append(both(phases, "**machine**", lambda p: f"**{p['cpu']['machine_cores_busy']:.2f}**"))
    return [
        "## Memory (RSS, MB)",
        "",
        *table(["server", "before the load", "after the load", "after the faults"], memory_rows),
        "",
        "A server killed and restarted in the fault phase shows its new process.",
        "",
        "## CPU (cores used, on average over the phase)",
        "",
        *table(["process", *PHASE_TITLES.values()], cpu_rows),
    ]


def markdown(report: dict[str, Any]) -> str:
    phases = report["phases"]
    quick = " (this run: --quick)" if report["quick"] else ""
    lines = [
        "# Scale-out benchmark",
        "",
        f"{report['date']}, {report['cores']} cores, Python {report['python']}; regenerate with "
        f"`make bench-scale`{quick}. Wall time {report['wall_s'] / 60:.1f} min, of which "
        f"{report['startup_s']:.0f} s to start the cluster.",
        "",
        "The cluster of `make test-scale` (tests/support/cluster.py): nginx in front of 2 Rasa servers and 2 "
        "action servers, PostgreSQL tracker store (`WindowedSQLTrackerStore`), Redis lock store, "
        f"{report.get('order_store', 'one order store')}. {report['conversations']} conversations open at once, "
        "each a whole SPEC §4 path on an order of its own; turn i of conversation c goes to "
        "[nginx, rasa 1, rasa 2][(c+i) % 3], from the "
        f"conversation's own loopback address; at most {report['in_flight']} requests in flight. On an error, a "
        f"timeout or \"try again\" the buyer waits 1-2 s and sends the same text again, to the next address (at "
        f"most {report['retries']} times).",
        "",
        *overview_section(phases),
        "",
        *detail_section(phases),
        "",
        *faults_section(phases["faults"]),
        "",
        *cost_section(report["constant_cost"]),
        "",
        *resources_section(phases),
        "",
        "## What limited throughput",
        "",
        *(f"- {line}" for line in report["limits"]),
        "",
        "![latency over time, latency CDF, latency by turn of one long conversation](bench_scale.png)",
    ]
    return "\n".join(lines) + "\n"


def plot_phase(axis: Any, points: list, faults: list[dict[str, Any]], title: str) -> None:
    """Every request's latency at the moment it ended (so that errors line up with the fault
    that caused them); errors in red; faults shaded."""
    ok = [(t, s * 1000) for t, s, kind, *_ in points if kind == "ok"]
    bad = [(t, s * 1000) for t, s, kind, *_ in points if kind != "ok"]
    if ok:
        axis.scatter(*zip(*ok, strict=True), s=2, alpha=0.3, label="answered")
    if bad:
        axis.scatter(*zip(*bad, strict=True), s=14, marker="x", color="red", label="error / try again")
    for fault in faults:
        if fault["injected"]:
            axis.axvspan(fault["at_s"], max(fault["recovered_s"], fault["at_s"] + 1), color="orange", alpha=0.25)
            axis.annotate(fault["fault"], (fault["at_s"], 0.97), xycoords=("data", "axes fraction"), rotation=90,
                          va="top", fontsize=7)  # fmt: skip
    axis.set(
        yscale="log", xlabel="seconds since the phase began (end of the request)", ylabel="latency (ms)", title=title
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)


def plot_cdf(axis: Any, series: dict[str, list]) -> None:
    for phase, label in PHASE_TITLES.items():
        values = sorted(s * 1000 for _, s, kind, *_ in series[phase] if kind == "ok")
        if values:
            axis.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
    axis.set(xscale="log", xlabel="latency of an answered turn (ms)", ylabel="share of turns", title="Latency CDF")
    axis.grid(alpha=0.3)
    axis.legend()


def plot_length(axis: Any, cost: dict[str, Any]) -> None:
    turns = cost["latency_ms_by_turn"]
    axis.plot(range(1, len(turns) + 1), turns, lw=0.8)
    for name, (first, last) in cost["windows"].items():
        axis.axvspan(first, last, color="green", alpha=0.2)
        axis.annotate(f"{name}: {cost['median_ms'][name]:.0f} ms", (first, 0.95), xycoords=("data", "axes fraction"),
                      fontsize=8, ha="left" if first < len(turns) / 2 else "right")  # fmt: skip
    title = f"A long conversation · turn 200 / turn 5 = {cost['ratio']:.2f}"
    axis.set(xlabel="turn", ylabel="latency (ms)", title=title)
    axis.grid(alpha=0.3)


def plot(report: dict[str, Any], series: dict[str, list], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():  # matplotlib's own pyparsing deprecations
        warnings.simplefilter("ignore")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
        for axis, phase in zip(axes[0], PHASE_TITLES, strict=True):
            plot_phase(axis, series[phase], report["phases"][phase]["faults"], PHASE_TITLES[phase].capitalize())
        plot_cdf(axes[1][0], series)
        plot_length(axes[1][1], report["constant_cost"])
        fig.suptitle(f"{report['date']} · {report['cores']} cores · {report['conversations']} conversations open "
                     f"at once · {report['in_flight']} requests in flight")  # fmt: skip
        fig.tight_layout()
        fig.savefig(path, dpi=110)


def series_path(quick: bool) -> Path:
    """Where every request's (start, latency, outcome) of the last run is kept, for --report-only."""
    return RESULTS / "tmp" / f"bench_scale_series{'_quick' if quick else ''}.json"


def write_report(report: dict[str, Any], series: dict[str, list], out: Path) -> str:
    """results/bench_scale.{json,md,png}; the raw latency series goes under results/tmp."""
    series_path(report["quick"]).write_text(json.dumps(series))
    (out / "bench_scale.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    plot(report, series, out / "bench_scale.png")
    text = markdown(report)
    (out / "bench_scale.md").write_text(text)
    return text


def measure(count: int, in_flight: int, quick: bool) -> tuple[dict[str, Any], dict[str, list]]:
    """Start the cluster, run both phases and the long conversation; the report and the series."""
    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "quick": quick,
        "conversations": count,
        "in_flight": in_flight,
        "retries": RETRIES,
        "model": {
            "path": str(MODEL.relative_to(ROOT)),
            "modified": datetime.fromtimestamp(MODEL.stat().st_mtime, timezone.utc).isoformat(timespec="seconds"),
        },
        "phases": {},
    }
    series: dict[str, list] = {}
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    print(f"starting the cluster in {work} …", flush=True)
    with running_cluster(work) as cluster:
        report["startup_s"] = time.perf_counter() - began
        report["order_store"] = order_store_kind(cluster)
        emails = seed_customers(cluster.order_store())
        warm_up(cluster)
        for phase, with_faults in (("load", False), ("faults", True)):
            result = run_phase(cluster, phase, plan_conversations(count, phase, emails), in_flight, with_faults)
            series[phase] = result.pop("series")
            report["phases"][phase] = {**result, "in_flight": in_flight}
            if phase == "load":
                print("constant cost: one long conversation …", flush=True)
                report["constant_cost"] = constant_cost(cluster, emails[0])
    shutil.rmtree(work, ignore_errors=True)  # kept, with the servers' logs, when something failed
    report["wall_s"] = time.perf_counter() - began
    report["limits"] = limits_note(report["phases"]["load"])
    return report, series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000, help="conversations open at once (1000)")
    parser.add_argument("--quick", action="store_true", help="100 conversations, a fast check")
    parser.add_argument("--in-flight", type=int, default=32, help="requests in the air at a time (32)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the .md and .png from the last run's .json and series"
    )
    args = parser.parse_args()
    out = QUICK_RESULTS if args.quick else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        report, series = (
            json.loads((out / "bench_scale.json").read_text()),
            json.loads(series_path(args.quick).read_text()),
        )
        report["limits"] = limits_note(report["phases"]["load"])
    else:
        report, series = measure(100 if args.quick else args.conversations, args.in_flight, args.quick)
    print(write_report(report, series, out))


if __name__ == "__main__":
    main()
