"""A Rasa engineer's usual commands work in the project folder as documented (issue 13,
item 10; README, "Running it as Rasa users do"): after `source .venv/bin/activate`, plain
`rasa run actions`, `rasa run` and `rasa shell`, in an otherwise empty environment.

Old code: `rasa run` stopped at once on `${ACTION_SERVER_TOKEN}` (endpoints.yml), then on the
`${...}` values of credentials.yml ("Error when trying to expand the environment variables"),
and `rasa shell` too; plain `rasa run actions` started with no secret at all, answered
every caller and listened on 0.0.0.0.

The servers use ports of their own (not 5005/5055, which other tests or a developer may be
using) and this checkout's var/secrets.env, created if missing and never overwritten.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.stack import ROOT, free_port, wait_for

MODEL = ROOT / "models" / "current.tar.gz"
ACTIVATE = ROOT / ".venv" / "bin" / "activate"
GREETING = re.compile(r"order assistant|What would you like to do", re.IGNORECASE)


@pytest.fixture(autouse=True)
def fresh_demo_data() -> None:
    """These tests start their own servers, not the shared stack of tests/e2e/conftest.py."""


def clean_env() -> dict[str, str]:
    """`env -i HOME=$HOME PATH=/usr/bin:/bin`: nothing of the test runner's environment."""
    return {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin"}


def in_activated_venv(command: str, db_path: Path) -> list[str]:
    """`command` as a user types it after activating the venv, in the project folder."""
    exports = f"export ORDER_DB_PATH={shlex.quote(str(db_path))} RASA_TELEMETRY_ENABLED=false"
    script = f"source {shlex.quote(str(ACTIVATE))} && cd {shlex.quote(str(ROOT))} && {exports} && {command}"
    return ["bash", "-c", script]


def start(command: str, db_path: Path, log: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        in_activated_venv(command, db_path),
        env=clean_env(),
        stdout=kwargs.pop("stdout", None) or log.open("w"),
        stderr=kwargs.pop("stderr", subprocess.STDOUT),
        start_new_session=True,  # its own process group: stopped whole below
        **kwargs,
    )


def stop(process: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def endpoints_on(actions_port: int, path: Path) -> Path:
    """endpoints.yml with the action server's port changed, as a user would copy it."""
    original = (ROOT / "endpoints.yml").read_text()
    assert "localhost:5055" in original
    path.write_text(original.replace("localhost:5055", f"localhost:{actions_port}"))
    return path


def listening_addresses(port: int) -> list[str]:
    lines = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in lines.splitlines() if line.strip()]


class Plain:
    def __init__(self, workdir: Path, actions_port: int, endpoints: Path, db_path: Path) -> None:
        self.workdir = workdir
        self.actions_port = actions_port
        self.actions_url = f"http://127.0.0.1:{actions_port}"
        self.endpoints = endpoints
        self.db_path = db_path


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Iterator[Plain]:
    """`rasa run actions --port P1` after activating the venv, with a fresh order database."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    if "local-env.sh" not in ACTIVATE.read_text():
        pytest.fail(f"{ACTIVATE} does not source scripts/local-env.sh: run `make setup`")
    work = tmp_path_factory.mktemp("plain")
    db_path = work / "orders.db"
    seeded = subprocess.run(
        in_activated_venv("python -m actions.demo_data", db_path), env=clean_env(), capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    actions_port = free_port()
    log = work / "actions.log"
    actions = start(f"rasa run actions --port {actions_port}", db_path, log)
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", actions, log, timeout=180)
        yield Plain(work, actions_port, endpoints_on(actions_port, work / "endpoints.yml"), db_path)
    finally:
        stop(actions)


def test_plain_rasa_run_actions_requires_the_secret_and_stays_on_loopback(plain):
    refused = requests.post(f"{plain.actions_url}/webhook", json={"next_action": "action_greet"}, timeout=30)
    assert refused.status_code == 401, refused.text
    assert requests.get(f"{plain.actions_url}/actions", timeout=30).status_code == 401
    assert listening_addresses(plain.actions_port) == [f"127.0.0.1:{plain.actions_port}"]


def test_plain_rasa_run_answers_and_reaches_the_actions(plain):
    rasa_port = free_port()
    log = plain.workdir / "rasa.log"
    rasa = start(
        f"rasa run --enable-api --port {rasa_port} --model models/current.tar.gz "
        f"--endpoints {shlex.quote(str(plain.endpoints))} --credentials credentials.yml",
        plain.db_path,
        log,
    )
    try:
        base = f"http://127.0.0.1:{rasa_port}"
        wait_for(f"{base}/status", rasa, log, timeout=300)

        def say(sender: str, text: str) -> str:
            answer = requests.post(
                f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
            )
            answer.raise_for_status()
            return "\n".join(reply.get("text") or "" for reply in answer.json())

        greeting = say("t1", "hi")
        assert greeting.strip(), "no answer to hi"
        assert GREETING.search(greeting), greeting  # action_greet: the action server ran
        # Only the action server knows the order and the buyer's email (actions/, the store).
        asked = say("t2", "where is my order 8100000000000003")
        assert "email" in asked.lower(), asked
        assert "Phone case" in say("t2", "alex.buyer@example.com")
    finally:
        stop(rasa)


def read_until(fd: int, pattern: re.Pattern[str], process: subprocess.Popen, timeout: float) -> str:
    """What the terminal shows until `pattern` appears (ANSI colours and all)."""
    seen = ""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the other end closed
                break
            seen += chunk
            if pattern.search(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen)):
                return seen
        elif process.poll() is not None:
            break
    raise AssertionError(f"{pattern.pattern!r} did not appear within {timeout} s; the terminal showed:\n{seen[-3000:]}")


def test_plain_rasa_shell_greets(plain):
    shell_port = free_port()  # rasa shell runs its own server, 5005 by default
    controller, terminal = pty.openpty()
    shell = start(
        f"rasa shell --port {shell_port} --model models/current.tar.gz --endpoints {shlex.quote(str(plain.endpoints))}",
        plain.db_path,
        plain.workdir / "shell.log",
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    try:
        read_until(controller, re.compile(r"Bot loaded|Type a message"), shell, timeout=300)
        time.sleep(1)  # the prompt takes input once it is drawn
        os.write(controller, b"hi\r")
        read_until(controller, GREETING, shell, timeout=120)
        os.write(controller, b"/stop\r")
    finally:
        stop(shell)
        os.close(controller)
