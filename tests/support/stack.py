"""Start the real stack (action server + Rasa server with a model) on free local ports.

Used by the end-to-end tests and by the benchmark, so both measure the same thing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class RunningStack:
    rasa_url: str
    actions_url: str
    rasa: subprocess.Popen
    actions: subprocess.Popen
    workdir: Path
    env: dict[str, str]
    stock: bool = False

    def stop_actions(self) -> None:
        self.actions.terminate()
        self.actions.wait(timeout=20)

    def start_actions(self) -> None:
        """Start the action server again on the same port (after stop_actions)."""
        port = self.actions_url.rsplit(":", 1)[1]
        self.actions = start_action_server(port, self.env, self.workdir / "actions-restarted.log", self.stock)
        wait_for(f"{self.actions_url}/health", self.actions, self.workdir / "actions-restarted.log")


def start_rasa(
    model: Path,
    port: int | str,
    endpoints: Path,
    env: dict[str, str],
    log: Path,
    extra_args: tuple[str, ...] = (),
    credentials: Path = ROOT / "credentials.yml",
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(VENV_BIN / "rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", str(credentials), "--port", str(port), "--interface", "127.0.0.1",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


# The secret the Rasa servers and our action servers share in tests (actions/server.py).
ACTION_SERVER_TEST_TOKEN = "test-action-server-token-0123456789abcdef"


def service_env(env: dict[str, str]) -> dict[str, str]:
    """The environment every server of ours runs with; the action server secret is the fixed
    test token unless `env` gives one (not the caller's shell: the tests must know it). The
    channels read their settings from it (REST_CHANNEL_TOKEN, ...: channels/common.py)."""
    quiet = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    secret = {"ACTION_SERVER_TOKEN": ACTION_SERVER_TEST_TOKEN}
    return {**os.environ, **secret, **env, **quiet}


# rasa-sdk's server as a `rasa init` project has it: without the plugin by which this
# project's actions guard plain `rasa run actions` (actions/__init__.py), which pluggy lets a
# process block by name before the actions load.
STOCK_ACTION_SERVER = (
    "from rasa_sdk.plugin import plugin_manager; plugin_manager().set_blocked('actions.server'); "
    "from rasa_sdk.__main__ import main; main()"
)


def start_action_server(port: int | str, env: dict[str, str], log: Path, stock: bool = False) -> subprocess.Popen:
    """Our action server (loopback, ACTION_SERVER_TOKEN from `env`), or with `stock` rasa-sdk's
    own server (`rasa run actions`) as a `rasa init` project runs it (no secret), held to
    loopback for the benchmark."""
    if stock:
        command = [str(VENV_BIN / "python"), "-c", STOCK_ACTION_SERVER, "--actions", "actions", "--port", str(port)]
        env = {**env, "SANIC_HOST": "127.0.0.1"}
    else:
        command = [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(port), "--host", "127.0.0.1"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def endpoints_for(actions_port: int, stock: bool = False) -> str:
    """The project's endpoints.yml with the action server moved to `actions_port` (its
    `token: ${ACTION_SERVER_TOKEN}` left for Rasa to fill in); with `stock`, what `rasa init`
    ships instead: the action endpoint and nothing else."""
    config = {} if stock else yaml.safe_load((ROOT / "endpoints.yml").read_text())
    config.setdefault("action_endpoint", {})["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    return yaml.safe_dump(config)


STOCK_CREDENTIALS = "rest:\n"


@contextmanager
def running_stack(
    model: Path, workdir: Path, env: dict[str, str], extra_rasa_args: tuple[str, ...] = (), stock: bool = False
) -> Iterator[RunningStack]:
    """Action server + Rasa server with the project's endpoints and channels, or with
    `stock` the configuration of a fresh `rasa init` project (REST channel only)."""
    workdir.mkdir(parents=True, exist_ok=True)
    actions_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(endpoints_for(actions_port, stock))
    credentials = ROOT / "credentials.yml"
    if stock:
        credentials = workdir / "credentials.yml"
        credentials.write_text(STOCK_CREDENTIALS)
    full_env = service_env(env)
    actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = start_action_server(actions_port, full_env, actions_log, stock)
    rasa = start_rasa(model, rasa_port, endpoints, full_env, rasa_log, extra_rasa_args, credentials)
    running = None
    try:
        actions_url = f"http://127.0.0.1:{actions_port}"
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        wait_for(f"{actions_url}/health", actions, actions_log)
        ready = f"{rasa_url}/status" if "--enable-api" in extra_rasa_args else f"{rasa_url}/"
        wait_for(ready, rasa, rasa_log)
        running = RunningStack(rasa_url, actions_url, rasa, actions, workdir, full_env, stock)
        yield running
    finally:
        for process in (rasa, running.actions if running else actions):
            process.terminate()
        for process in (rasa, running.actions if running else actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
