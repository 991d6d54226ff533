"""Where a Rasa server's CPU goes under load: py-spy samples one server during a bench phase.

The bench measures that the Rasa servers take most of the CPU; this says what inside them
does. py-spy attaches from outside (no change to the server), samples its Python stacks 100
times a second and writes them as collapsed stacks (one line per distinct stack, "frame;frame
count"), which speedscope or flamegraph.pl read. `stage_shares` sorts each sample into the
stage of a turn it belongs to, first match wins, so the table sums to 100%.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SAMPLES_PER_SECOND = 100

# (stage, what a frame of that stage contains): checked in this order, so the tracker store
# and the lock, which run inside message handling, are counted before the stages around them.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("tracker store: read the conversation", ("retrieve (addons/sql_tracker_store.py",)),
    ("tracker store: write the new events", ("save (addons/sql_tracker_store.py",)),
    ("lock store (Redis)", ("rasa/core/lock_store.py",)),
    ("NLU: featurizers and the intent classifier", ("_parse_message_with_graph",)),
    ("dialogue policies: TED, rules, memoization", ("_predict_next_with_tracker",)),
    ("custom actions: call and apply the events", ("_run_action (rasa/core/processor.py",)),
    ("loading the model (start-up)", ("load_agent",)),
]  # fmt: skip
# Innermost frames of a thread that waits: the event loop for sockets, a worker for work.
WAITING = (
    "select (selectors.py", "_run_once (asyncio/base_events.py", "serve (sanic/server",
    "_worker (concurrent/futures/thread.py", "wait (threading.py", "get (queue.py",
)  # fmt: skip
IDLE = "idle: waiting for work"
OTHER = "HTTP server, channel and the rest"
# Inside the policies: TensorFlow building a new graph for an input shape it has not seen.
RETRACING = "func_graph_from_py_func"


def py_spy() -> str | None:
    """py-spy from the venv (requirements-dev), or None where it cannot be found."""
    return shutil.which("py-spy") or next(
        (str(path) for path in [Path(__file__).resolve().parents[1] / ".venv/bin/py-spy"] if path.exists()), None
    )


@contextmanager
def sampling(pid: int, raw: Path) -> Iterator[Path | None]:
    """Sample `pid` while the block runs; yields where the stacks go, None without py-spy."""
    binary = py_spy()
    if binary is None:
        yield None
        return
    raw.parent.mkdir(parents=True, exist_ok=True)
    recorder = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", str(SAMPLES_PER_SECOND), "--format", "raw",
         "--output", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield raw
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()


def read_stacks(raw: Path) -> Iterator[tuple[list[str], int]]:
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def is_idle(frames: list[str]) -> bool:
    """A sample of a thread waiting for something to do (py-spy cannot always tell)."""
    return frames[-1].startswith(WAITING)


def stage_of(frames: list[str]) -> str:
    if is_idle(frames):
        return IDLE
    stack = ";".join(frames)
    return next((stage for stage, markers in STAGES if any(marker in stack for marker in markers)), OTHER)


def stage_shares(raw: Path) -> dict[str, Any]:
    """Samples per stage, shares of the busy samples, and the TensorFlow retracing share."""
    stages: Counter[str] = Counter()
    retracing = 0
    for frames, count in read_stacks(raw):
        stages[stage_of(frames)] += count
        if any(RETRACING in frame for frame in frames):
            retracing += count
    total = sum(stages.values())
    busy = total - stages[IDLE]
    return {
        "samples": total,
        "busy_samples": busy,
        "seconds": total / SAMPLES_PER_SECOND,
        "busy_share": busy / total if total else 0.0,
        "stages": {stage: count / busy for stage, count in stages.most_common() if stage != IDLE and busy},
        "tensorflow_retracing": retracing / busy if busy else 0.0,
    }


def profile_section(profile: dict[str, Any]) -> list[str]:
    """The report's table: what one Rasa server spent its busy samples on."""
    if not profile.get("samples"):
        return []
    lines = [
        "## Where a Rasa server's CPU goes (py-spy)",
        "",
        f"Rasa server 1's threads sampled {SAMPLES_PER_SECOND}×/s during the load phase "
        f"({profile['busy_samples']} samples of a thread at work). A thread waiting for PostgreSQL or "
        "Redis counts as at work: the stores' calls block the event loop, as in Rasa's own stores, "
        "and about half of the tracker store's samples are that wait. "
        f"Stacks: `{profile['raw']}` (collapsed; speedscope or flamegraph.pl read them).",
        "",
        "| stage of a turn | share of the busy samples |",
        "|---|---|",
    ]
    lines += [f"| {stage} | {share:.1%} |" for stage, share in profile["stages"].items()]
    lines += [
        "",
        f"Inside the policies, TensorFlow built new graphs (retracing TED for an input shape it had "
        f"not seen) in {profile['tensorflow_retracing']:.1%} of the busy samples.",
        "",
    ]
    return lines
