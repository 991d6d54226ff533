"""The bench's profile: samples sorted into the stages of a turn, and py-spy on a real process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.profiling import IDLE, OTHER, profile_section, py_spy, sampling, stage_of, stage_shares

SERVE = "serve (sanic/server/runners.py:155)"
HANDLE = "handle_message (rasa/core/processor.py:150)"


def stack(*frames: str) -> list[str]:
    return ["<module> (rasa:8)", *frames]


@pytest.mark.parametrize(
    ("frames", "stage"),
    [
        (stack(SERVE), IDLE),
        (stack(HANDLE, "_parse_message_with_graph (rasa/core/processor.py:700)", "run (dask/local.py:1)"),
         "NLU: featurizers and the intent classifier"),
        (stack(HANDLE, "_predict_next_with_tracker (rasa/core/processor.py:900)", "quick_execute (tf.py:52)"),
         "dialogue policies: TED, rules, memoization"),
        # the store runs inside message handling: it wins over the stages around it
        (stack(HANDLE, "_run_action (rasa/core/processor.py:800)", "save (addons/sql_tracker_store.py:90)"),
         "tracker store: write the new events"),
        (stack(HANDLE, "retrieve (addons/sql_tracker_store.py:70)"), "tracker store: read the conversation"),
        (stack(HANDLE, "lock (rasa/core/lock_store.py:120)"), "lock store (Redis)"),
        (stack(HANDLE, "_run_action (rasa/core/processor.py:800)", "post (aiohttp/client.py:1)"),
         "custom actions: call and apply the events"),
        (stack("http1 (sanic/http.py:1)", "send (sanic/response.py:1)"), OTHER),
    ],
)  # fmt: skip
def test_every_sample_has_one_stage(frames: list[str], stage: str) -> None:
    assert stage_of(frames) == stage


def test_shares_are_of_the_busy_samples_and_count_retracing(tmp_path: Path) -> None:
    raw = tmp_path / "rasa.txt"
    policy = ";".join(stack(HANDLE, "_predict_next_with_tracker (rasa/core/processor.py:900)"))
    raw.write_text(
        f"{';'.join(stack(SERVE))} 50\n"
        f"{policy};call (tf.py:1) 30\n"
        f"{policy};func_graph_from_py_func (tensorflow/func_graph.py:1) 10\n"
        f"{';'.join(stack(HANDLE, '_parse_message_with_graph (rasa/core/processor.py:700)'))} 10\n"
        "a line that is not a stack\n"
    )
    profile = stage_shares(raw)
    assert profile["samples"] == 100 and profile["busy_samples"] == 50
    assert profile["stages"] == {
        "dialogue policies: TED, rules, memoization": 0.8,
        "NLU: featurizers and the intent classifier": 0.2,
    }
    assert profile["tensorflow_retracing"] == pytest.approx(0.2)
    table = "\n".join(profile_section({**profile, "raw": "rasa.txt"}))
    assert "| dialogue policies: TED, rules, memoization | 80.0% |" in table


def test_an_empty_profile_adds_no_section() -> None:
    assert profile_section({"samples": 0}) == []


@pytest.mark.skipif(py_spy() is None, reason="py-spy is installed by requirements-dev")
def test_py_spy_samples_a_running_python_process(tmp_path: Path) -> None:
    busy = "import time\nwhile True:\n    sum(range(10000))\n"
    process = subprocess.Popen([sys.executable, "-c", busy])
    try:
        with sampling(process.pid, tmp_path / "busy.txt") as raw:
            time.sleep(2)
        assert raw is not None
        profile = stage_shares(raw)
    finally:
        process.kill()
        process.wait()
    assert profile["busy_samples"] > 50
    assert profile["stages"] == {OTHER: 1.0}
