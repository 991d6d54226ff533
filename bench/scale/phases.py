"""One phase end to end: seed its orders, drive its load (and faults), check what was
stored, summarise."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from actions.store import utc_now
from bench.run import summary
from bench.scale.faults import fault_impact, inject_faults, stalled_turns
from bench.scale.load import ADDRESS_BLOCKS, ENDPOINTS, Load, Outcome, urls_of
from bench.scale.measure import CpuMeter, check_events, cpu_roles, memory
from bench.scale.paths import Plan, check_writes, seed_orders
from tests.support.cluster import Cluster


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
