"""What the machine spent (CPU, memory), what PostgreSQL stored, and the constant cost of
a long conversation, measured alone on the cluster after the load."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests

from actions.store import utc_now
from bench.scale.load import BEARER, REQUEST_TIMEOUT_S, Attempt, urls_of
from bench.scale.paths import BUYERS, ORDER_PREFIXES, PAID, SHIPPED, Plan, order_row
from tests.support.cluster import Cluster, postmaster_pid, process_tree, read_processes
from tests.support.stack import rss_mb

LONG_TURNS = 202
LONG_PAIRS = 3  # long conversations, each measured against a fresh one
# Turns 4-8 and 198-202 hold the same mix (order lookup, question, lookup, question, lookup).
TURN_WINDOWS = {"turn 5": (4, 8), "turn 200": (198, 202)}
RATIO_TARGET = 1.5


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


# --- the constant cost -----------------------------------------------------------------------


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
