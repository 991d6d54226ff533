"""`make bench`: the real stack under load, ours next to the stock `rasa init` setup.

Measures, for each model, through the REST webhook of a real Rasa server with a real
action server and SQLite store: latency per message (p50/p95/p99) for turns with and without
a database action at 1, 4 and 16 concurrent conversations; the throughput at which p95
passes 500 ms; latency at turns 5, 50 and 200 of one conversation; resident memory idle and
after the load; the p95 of ordinary buyers while one client sends maximum-size messages, as
a ratio to their p95 without it; and the training time of a full `rasa train` and of a
retrain after a one-line NLU change. Writes results/bench.{json,md,png}.

    .venv/bin/python -m bench.run            (make bench; ~30 min, most of it training stock)
    .venv/bin/python -m bench.run --smoke    (seconds; our model only; in `make test`)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from tests.support.stack import ROOT, VENV_BIN, rss_mb, running_stack

RESULTS = ROOT / "results"
OUR_CONFIG = ROOT / "config.yml"
STOCK_CONFIG = ROOT / "bench" / "stock_config.yml"
OUR_MODEL = ROOT / "models" / "current.tar.gz"
STOCK_MODEL = ROOT / "models" / "stock.tar.gz"
STOCK_TIMES = ROOT / "models" / "stock.training.json"
P95_LIMIT = 0.5

EMAIL = "alex.buyer@example.com"
# Each virtual buyer verifies once, then alternates an order lookup (database) with a
# question answered from the domain alone (no database).
PRELUDE = ["where is my order?", "8100000000000003", EMAIL]
DB_TURNS = ["8100000000000004", "8100000000000003", "8100000000000007", "8100000000000011"]
PLAIN_TURNS = ["how can I cancel it myself?", "are you a bot?", "thanks", "hi"]

# Why a target can be missed, and what would meet it (printed under the table when missed).
MISSED = {
    "p95_single_db_ms": "A database turn is several steps: a policy prediction (TED included) before each "
    "action, and the form's validation plus the guidance action as two round trips to the action server. "
    "Would meet it: one round trip (guidance from the form's last validation) or rules and memoization "
    "without TED for the form's turns.",
    "turn200_over_turn5": "Some per-turn cost still grows with the conversation: the windowed tracker store "
    "bounds what Rasa reads, but the window itself grows from 6 to 12 turns between cuts. Would meet it: a "
    "smaller window.",
    "throughput_ratio": "Most of the time per message is Rasa's own processing, shared by both setups. Would "
    "meet it: more Sanic workers per server (the Redis lock store allows it) or fewer round trips per turn.",
    "rasa_rss_mb": "TensorFlow and the loaded model dominate memory.",
    "flood_p95_ratio": "Rasa handles every message on one event loop: NLU on a maximum-size message (the "
    "featurizers and the regex patterns run over the whole text) holds up the other buyers' turns meanwhile. "
    "Would meet it: a smaller MAX_MESSAGE_CHARS, NLU off the event loop, or more Sanic workers.",
    "train_full_s": "Featurizing every example and TED's epochs dominate; the intent classifier takes seconds.",
    "train_retrain_s": "The policies come from the cache, but an NLU change re-featurizes every message: the "
    "uncapped word n-grams take about 80 s and the intent classifier about 40 s (three folds for its "
    "temperature, then the final fit). Would meet it: a word vocabulary cap and fewer temperature folds, "
    "weighed against the cross-validation per language (docs/performance.md).",
}

# What ours changes against the stock setup at run time (printed in the report).
OURS_AT_RUN_TIME = [
    "`addons/tracker_store.py`: the in-memory tracker store hands Rasa the last 6-12 turns plus the state "
    "they started from (slots, active form) instead of re-parsing the whole conversation every turn; the full "
    "history stays in the store.",
    "`addons/action_validation.py`: Rasa checks every action-server response with `jsonschema.validate`, "
    "which re-validates the schema itself each call (30% of the Rasa server's CPU in a py-spy profile); ours "
    "compiles it once.",
    "`enable_selective_domain` in `endpoints.yml`: the domain goes only to `validate_order_form`.",
]

TARGETS = {
    "p95_single_db_ms": ("p95, 1 conversation, turns with a database action", "≤ 150 ms"),
    "turn200_over_turn5": ("latency at turn 200 / turn 5", "≤ 1.5×"),
    "throughput_ratio": ("throughput at p95 ≤ 500 ms, ours / stock", "≥ 2×"),
    "rasa_rss_mb": ("Rasa server RSS after the load", "≤ 1200 MB"),
    "flood_p95_ratio": (
        "p95 of ordinary buyers while one client sends maximum-size messages, / idle",
        "≤ 1.5×",
    ),
    "train_full_s": ("full training", "≤ 300 s"),
    "train_retrain_s": ("retrain after a one-line NLU change", "≤ 60 s"),
}


@dataclass
class Samples:
    db: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            getattr(self, kind).append(seconds)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
    }


def rest_session() -> requests.Session:
    """A client of the REST channel, with its bearer token when the servers have one
    (REST_CHANNEL_TOKEN reaches them from this environment: tests/support/stack.py)."""
    session = requests.Session()
    token = os.environ.get("REST_CHANNEL_TOKEN")
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def send(session: requests.Session, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    if not response.json():
        raise RuntimeError(f"no reply to {text!r}")
    return elapsed


def buyer(url: str, turns: int, samples: Samples) -> None:
    """One conversation: the prelude (its last turn reads the store), then alternating turns."""
    session = rest_session()
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    for index, text in enumerate(PRELUDE):
        elapsed = send(session, url, sender, text)
        if index == len(PRELUDE) - 1:
            samples.add("db", elapsed)
    for turn in range(turns):
        if turn % 2 == 0:
            samples.add("db", send(session, url, sender, DB_TURNS[(turn // 2) % len(DB_TURNS)]))
        else:
            samples.add("plain", send(session, url, sender, PLAIN_TURNS[(turn // 2) % len(PLAIN_TURNS)]))


def load(url: str, concurrency: int, turns: int) -> dict:
    samples = Samples()
    threads = [threading.Thread(target=buyer, args=(url, turns, samples)) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    everything = samples.db + samples.plain
    return {
        "concurrency": concurrency,
        "db": summary(samples.db),
        "plain": summary(samples.plain),
        "all": summary(everything),
        "throughput_msg_s": len(everything) / wall,
    }


def sustained_throughput(levels: list[dict]) -> float:
    """Messages/s where p95 reaches the limit (interpolated between the measured levels)."""
    best = 0.0
    previous = None
    for level in levels:
        p95 = level["all"]["p95_ms"] / 1000
        if p95 <= P95_LIMIT:
            best = max(best, level["throughput_msg_s"])
        elif previous is not None:
            p95_before = previous["all"]["p95_ms"] / 1000
            if p95_before <= P95_LIMIT < p95:
                share = (P95_LIMIT - p95_before) / (p95 - p95_before)
                crossing = previous["throughput_msg_s"] + share * (
                    level["throughput_msg_s"] - previous["throughput_msg_s"]
                )
                best = max(best, crossing)
            break
        previous = level
    return best


def max_message_chars() -> int:
    """The longest message every channel lets through to NLU (channels/guard.py)."""
    from channels import guard

    configured = getattr(guard, "max_message_chars", None)  # MAX_MESSAGE_CHARS, or its env override
    return int(configured() if callable(configured) else getattr(guard, "MAX_MESSAGE_CHARS", 2000))


def flood_messages(chars: int) -> list[str]:
    """Maximum-size messages, exactly `chars` long: the attack of issue 12 (a request and one
    long word), digits for the order-number pattern, and `@`s for the email pattern."""
    texts = [
        ("cancel " + "a" * chars)[:chars],
        ("8100 0000 0000 000" * chars)[:chars],
        ("x@" * chars)[:chars],
    ]
    assert all(len(text) == chars for text in texts)
    return texts


class Flooder(threading.Thread):
    """One client sending maximum-size messages back to back (each after the last answer)."""

    def __init__(self, url: str, chars: int) -> None:
        super().__init__(daemon=True)
        self.url, self.texts = url, flood_messages(chars)
        self.stopping = threading.Event()
        self.started_one = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        session = rest_session()
        sender = f"bench-flood-{uuid.uuid4().hex[:8]}"
        number = 0
        while not self.stopping.is_set():
            text = self.texts[number % len(self.texts)]
            number += 1
            self.started_one.set()
            started = time.perf_counter()
            try:
                session.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=120).raise_for_status()  # fmt: skip
            except requests.RequestException:
                self.errors += 1
                time.sleep(0.1)
                continue
            self.latencies.append(time.perf_counter() - started)


def flood_ratio(url: str, buyers: int, turns: int) -> dict:
    """p95 of `buyers` ordinary conversations alone, then while one client floods the server
    with maximum-size messages; the ratio is the figure (a figure, not a timed test)."""
    chars = max_message_chars()
    idle = load(url, buyers, turns)
    flooder = Flooder(url, chars)
    flooder.start()
    flooder.started_one.wait(10)
    time.sleep(0.2)  # the first flood message is in Rasa's hands before the buyers start
    try:
        flooded = load(url, buyers, turns)
    finally:
        flooder.stopping.set()
        flooder.join(timeout=150)
    idle_p95, flooded_p95 = idle["all"]["p95_ms"], flooded["all"]["p95_ms"]
    return {
        "max_message_chars": chars,
        "buyers": buyers,
        "idle": idle["all"],
        "flooded": flooded["all"],
        "ratio": flooded_p95 / idle_p95 if idle_p95 else float("nan"),
        "flood_messages": summary(flooder.latencies),
        "flood_errors": flooder.errors,
    }


def length_curve(url: str, points: list[int], window: int) -> dict[str, float]:
    """Mean latency of `window` turns starting at each point, in one long conversation."""
    session = rest_session()
    sender = f"bench-long-{uuid.uuid4().hex[:8]}"
    for text in PRELUDE:
        send(session, url, sender, text)
    latencies: list[float] = []
    turns = [DB_TURNS[0], PLAIN_TURNS[0]]
    for turn in range(max(points) + window):
        latencies.append(send(session, url, sender, turns[turn % 2]))
    result = {}
    for point in points:
        chunk = latencies[point - 1 : point - 1 + window]
        result[str(point)] = statistics.mean(chunk) * 1000
    return result


def measure_stack(name: str, model: Path, smoke: bool) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    env = {"ORDER_DB_PATH": str(work / "orders.db")}
    with running_stack(model, work, env, stock=name == "stock") as stack:
        time.sleep(1)
        idle = {"rasa_mb": rss_mb(stack.rasa.pid), "actions_mb": rss_mb(stack.actions.pid)}
        send(rest_session(), stack.rasa_url, "warm-up", "hi")
        concurrency = [1, 2] if smoke else [1, 4, 16]
        turns = 4 if smoke else 20
        latency = {str(c): load(stack.rasa_url, c, turns) for c in concurrency}
        ramp_levels = [1, 2] if smoke else [1, 2, 4, 8, 16, 32]
        ramp = [latency[str(c)] if str(c) in latency else load(stack.rasa_url, c, turns) for c in ramp_levels]
        points, window = ([2, 5], 2) if smoke else ([5, 50, 200], 6)
        curve = length_curve(stack.rasa_url, points, window)
        loaded = {"rasa_mb": rss_mb(stack.rasa.pid), "actions_mb": rss_mb(stack.actions.pid)}
        flood = flood_ratio(stack.rasa_url, 1 if smoke else 4, 2 if smoke else 20)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "latency": latency,
        "ramp": ramp,
        "sustained_throughput_msg_s": sustained_throughput(ramp),
        "length_curve_ms": curve,
        "rss_idle": idle,
        "rss_loaded": loaded,
        "flood": flood,
    }


def train(config: Path, out_model: Path, data_dir: Path, cache: Path) -> float:
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false",
           "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        [str(VENV_BIN / "rasa"), "train", "--config", str(config), "--domain", str(ROOT / "domain"),
         "--data", str(data_dir), "--out", str(out_model.parent), "--fixed-model-name",
         out_model.name.removesuffix(".tar.gz")],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def newest_input() -> float:
    """When the training data or the stock configuration last changed."""
    files = [STOCK_CONFIG, *(ROOT / "data").rglob("*.yml"), *(ROOT / "domain").rglob("*.yml")]
    return max(path.stat().st_mtime for path in files)


def training_times(config: Path, out_model: Path, retrain: bool) -> dict[str, float | None]:
    """A full training on an empty cache; then a retrain after adding one NLU example."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        cache, data = Path(tmp) / "cache", Path(tmp) / "data"
        shutil.copytree(ROOT / "data", data)
        full = train(config, out_model, data, cache)
        again = None
        if retrain:
            with (data / "nlu" / "chitchat.yml").open("a") as nlu:
                nlu.write("- intent: greet\n  examples: |\n    - hello there, order assistant\n")
            again = train(config, Path(tmp) / "retrained.tar.gz", data, cache)
        return {"full_s": full, "retrain_s": again}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("ours", "o-"), ("stock", "s--")):
        if name not in report["stacks"]:
            continue
        stack = report["stacks"][name]
        levels = sorted(stack["latency"], key=int)
        left.plot([int(c) for c in levels], [stack["latency"][c]["all"]["p95_ms"] for c in levels], style,
                  label=f"{name} p95")  # fmt: skip
        left.plot([int(c) for c in levels], [stack["latency"][c]["all"]["p50_ms"] for c in levels], style,
                  alpha=0.5, label=f"{name} p50")  # fmt: skip
        points = sorted(stack["length_curve_ms"], key=int)
        right.plot([int(p) for p in points], [stack["length_curve_ms"][p] for p in points], style, label=name)
    left.set(xlabel="concurrent conversations", ylabel="latency per message (ms)", title="Latency vs concurrency")
    right.set(xlabel="turn of one conversation", ylabel="mean latency (ms)", title="Latency vs conversation length")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend()
    fig.suptitle(f"{report['date']} · {report['cores']} cores · REST webhook, real action server + SQLite")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def evaluate_targets(report: dict) -> dict[str, dict]:
    ours = report["stacks"]["ours"]
    stock = report["stacks"].get("stock")
    curve = ours["length_curve_ms"]
    first, last = min(curve, key=int), max(curve, key=int)
    values = {
        "p95_single_db_ms": ours["latency"]["1"]["db"]["p95_ms"],
        "turn200_over_turn5": curve[last] / curve[first],
        "throughput_ratio": (
            ours["sustained_throughput_msg_s"] / stock["sustained_throughput_msg_s"]
            if stock and stock["sustained_throughput_msg_s"]
            else None
        ),
        "rasa_rss_mb": ours["rss_loaded"]["rasa_mb"],
        "flood_p95_ratio": ours["flood"]["ratio"],
        "train_full_s": report["training"]["ours"]["full_s"] if report.get("training") else None,
        "train_retrain_s": report["training"]["ours"]["retrain_s"] if report.get("training") else None,
    }
    limits = {
        "p95_single_db_ms": lambda v: v <= 150,
        "turn200_over_turn5": lambda v: v <= 1.5,
        "throughput_ratio": lambda v: v >= 2,
        "rasa_rss_mb": lambda v: v <= 1200,
        "flood_p95_ratio": lambda v: v <= 1.5,
        "train_full_s": lambda v: v <= 300,
        "train_retrain_s": lambda v: v <= 60,
    }
    return {
        key: {"value": value, "pass": None if value is None else bool(limits[key](value))}
        for key, value in values.items()
    }


def markdown(report: dict) -> str:
    lines = [
        "# Benchmark",
        "",
        f"{report['date']}, {report['cores']} cores, Python {report['python']}; regenerate with `make bench`.",
        "REST webhook of a real Rasa server, real action server, SQLite order store.",
        "",
        "## Targets",
        "",
        "| measure | target | ours | result |",
        "|---|---|---|---|",
    ]
    for key, (label, target) in TARGETS.items():
        outcome = report["targets"][key]
        value = outcome["value"]
        shown = "not measured" if value is None else f"{value:.2f}"
        verdict = "—" if outcome["pass"] is None else ("pass" if outcome["pass"] else "**miss**")
        lines.append(f"| {label} | {target} | {shown} | {verdict} |")
    lines += ["", "## Latency per message (ms)", "",
              "| setup | conversations | kind | n | p50 | p95 | p99 |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, stack in report["stacks"].items():
        for level, result in sorted(stack["latency"].items(), key=lambda item: int(item[0])):
            for kind in ("db", "plain"):
                s = result[kind]
                lines.append(
                    f"| {name} | {level} | {'database' if kind == 'db' else 'no database'} | {s['n']} | "
                    f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} |"
                )
    lines += ["", "## Throughput, conversation length, memory", "",
              "| setup | msg/s at p95 ≤ 500 ms | latency by turn (ms) | Rasa RSS idle → loaded (MB) | "
              "action server RSS idle → loaded (MB) |", "|---|---|---|---|---|"]  # fmt: skip
    for name, stack in report["stacks"].items():
        curve = ", ".join(
            f"turn {p}: {v:.0f}" for p, v in sorted(stack["length_curve_ms"].items(), key=lambda i: int(i[0]))
        )
        lines.append(
            f"| {name} | {stack['sustained_throughput_msg_s']:.1f} | {curve} | "
            f"{stack['rss_idle']['rasa_mb']:.0f} → {stack['rss_loaded']['rasa_mb']:.0f} | "
            f"{stack['rss_idle']['actions_mb']:.0f} → {stack['rss_loaded']['actions_mb']:.0f} |"
        )
    lines += ["", "## Ordinary buyers while one client sends maximum-size messages", "",
              "| setup | message size (chars) | buyers | p95 idle (ms) | p95 under flood (ms) | ratio | "
              "flood messages answered (p50 ms) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, stack in report["stacks"].items():
        flood = stack["flood"]
        lines.append(
            f"| {name} | {flood['max_message_chars']} | {flood['buyers']} | {flood['idle']['p95_ms']:.0f} | "
            f"{flood['flooded']['p95_ms']:.0f} | {flood['ratio']:.2f}× | "
            f"{flood['flood_messages']['n']} ({flood['flood_messages']['p50_ms']:.0f}) |"
        )
    if report.get("training"):
        lines += ["", "## Training time (s)", "", "| setup | full | retrain after one NLU line |", "|---|---|---|"]
        for name, times in report["training"].items():
            retrain = "not measured" if times["retrain_s"] is None else f"{times['retrain_s']:.0f}"
            lines.append(f"| {name} | {times['full_s']:.0f} | {retrain} |")
    missed = [key for key, outcome in report["targets"].items() if outcome["pass"] is False]
    if missed:
        lines += ["", "## Missed targets: why, and what would meet them", ""]
        lines += [f"- **{TARGETS[key][0]}**: {MISSED[key]}" for key in missed]
    lines += ["", "## What ours changes at run time", ""] + [f"- {change}" for change in OURS_AT_RUN_TIME]
    lines += ["", "![latency](bench.png)", ""]
    lines += [f"- {note}" for note in report.get("notes", [])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few seconds, our model only, no training")
    parser.add_argument("--skip-training", action="store_true", help="reuse the trained models")
    parser.add_argument("--train-stock-only", action="store_true", help="only train the stock model (timed)")
    parser.add_argument(
        "--training-only", action="store_true", help="only time our full training and a one-line retrain"
    )
    parser.add_argument(
        "--flood-only", action="store_true", help="only p95 of buyers under a flood of maximum-size messages"
    )
    args = parser.parse_args()
    if args.flood_only:
        work = Path(tempfile.mkdtemp(prefix="bench-flood-"))
        with running_stack(OUR_MODEL, work, {"ORDER_DB_PATH": str(work / "orders.db")}) as stack:
            send(rest_session(), stack.rasa_url, "warm-up", "hi")
            flood = flood_ratio(stack.rasa_url, 4, 20)
        shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({key: flood[key] for key in ("max_message_chars", "buyers", "ratio")}))
        print(f"p95 idle {flood['idle']['p95_ms']:.0f} ms, under flood {flood['flooded']['p95_ms']:.0f} ms")
        return
    if args.training_only:
        times = training_times(OUR_CONFIG, OUR_MODEL, retrain=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        (RESULTS / "training_times.json").write_text(json.dumps({"date": stamp, "cores": os.cpu_count(), **times}))
        print(times)
        return
    if args.train_stock_only:
        times = training_times(STOCK_CONFIG, STOCK_MODEL, retrain=False)
        STOCK_TIMES.parent.mkdir(parents=True, exist_ok=True)
        STOCK_TIMES.write_text(json.dumps(times))
        print(times)
        return
    out = RESULTS / "tmp" / "bench-smoke" if args.smoke else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "smoke": args.smoke,
        "stacks": {},
    }
    if not args.smoke and not args.skip_training:
        print("training ours (full, then retrain) …", flush=True)
        ours_times = training_times(OUR_CONFIG, OUR_MODEL, retrain=True)
        print(f"  {ours_times}", flush=True)
        if STOCK_MODEL.exists() and STOCK_TIMES.exists() and STOCK_TIMES.stat().st_mtime >= newest_input():
            stock_times = json.loads(STOCK_TIMES.read_text())  # trained by --train-stock-only
            report["notes"] = [
                "The stock model was trained and timed earlier by `python -m bench.run --train-stock-only`, "
                "possibly while other work shared the machine: its training time is an upper bound."
            ]
        else:
            print("training stock (full) …", flush=True)
            stock_times = training_times(STOCK_CONFIG, STOCK_MODEL, retrain=False)
            STOCK_TIMES.write_text(json.dumps(stock_times))
        print(f"  {stock_times}", flush=True)
        report["training"] = {"ours": ours_times, "stock": stock_times}
    if not OUR_MODEL.exists():
        sys.exit("no model at models/current.tar.gz: run `make train` first")
    setups = [("ours", OUR_MODEL)] + ([] if args.smoke else [("stock", STOCK_MODEL)])
    for name, model in setups:
        if not model.exists():
            sys.exit(f"no model at {model}: run `make bench` without --skip-training")
        print(f"measuring {name} …", flush=True)
        report["stacks"][name] = measure_stack(name, model, args.smoke)
    report["targets"] = evaluate_targets(report)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    plot(report, out / "bench.png")
    (out / "bench.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
