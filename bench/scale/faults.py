"""The faults injected during the second phase's load, and what each one cost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.scale.load import Attempt, Load
from tests.support.cluster import (
    POSTGRES_PAUSE_S,
    Cluster,
    kill_action_server,
    kill_rasa_server,
    pause_postgres,
    restart_redis,
)

# A fault's effects are counted until this long after it recovered; the next fault waits as long.
FAULT_TAIL_S = 5.0


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
