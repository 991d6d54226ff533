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
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.profiling import sampling, stage_shares
from bench.scale.load import RETRIES
from bench.scale.measure import constant_cost, order_store_kind, warm_up
from bench.scale.paths import plan_conversations, seed_customers
from bench.scale.phases import run_phase
from bench.scale.report import QUICK_RESULTS, RESULTS, limits_note, series_path, write_report
from tests.support.cluster import MODEL, running_cluster
from tests.support.stack import ROOT


def measure(count: int, in_flight: int, quick: bool) -> tuple[dict[str, Any], dict[str, list]]:
    """Start the cluster, run both phases and the long conversation; the report and the series."""
    stacks = ROOT / "results" / "tmp" / ("bench-scale-quick-stacks.txt" if quick else "bench-scale-stacks.txt")
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
            plans = plan_conversations(count, phase, emails)
            if phase == "load":  # what inside a Rasa server takes the CPU (bench/profiling.py)
                with sampling(cluster.rasa[0].pid, stacks) as sampled:
                    result = run_phase(cluster, phase, plans, in_flight, with_faults)
                if sampled is not None and sampled.exists():
                    report["profile"] = {**stage_shares(sampled), "raw": str(sampled.relative_to(ROOT))}
            else:
                result = run_phase(cluster, phase, plans, in_flight, with_faults)
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
    # Named, or argparse would call the command "__main__.py" (Python < 3.12).
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
