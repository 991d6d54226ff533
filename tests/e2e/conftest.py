"""The real stack for end-to-end tests: the action server and the Rasa server with the
trained model, on free local ports, with a fresh order database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.mock_platforms import PlatformMock
from tests.support.stack import ROOT, free_port, running_stack, wait_for

MODEL = ROOT / "models" / "current.tar.gz"
IDENTITY_SECRET = "e2e-identity-secret-0123456789-abcdefghijklmnop"

# Platform secrets for the channel tests; their APIs point at the local mock.
CHANNEL_SECRETS = {
    "TELEGRAM_ACCESS_TOKEN": "123456789:AAtest-token-for-the-local-mock-only",
    "TELEGRAM_BOT_NAME": "order_assistant_bot",
    "TELEGRAM_WEBHOOK_URL": "https://example.invalid/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-token-e2e",
    "SLACK_BOT_TOKEN": "xoxb-e2e-test-token",
    "SLACK_CHANNEL": "",
    "SLACK_SIGNING_SECRET": "slack-signing-secret-e2e",
    "FACEBOOK_VERIFY_TOKEN": "facebook-verify-e2e",
    "FACEBOOK_APP_SECRET": "facebook-app-secret-e2e",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "facebook-page-token-e2e",
}


class Stack:
    """Handles to the running servers, and a way to talk to them."""

    def __init__(
        self, rasa_url: str, db_path: Path, env: dict[str, str], platforms: PlatformMock, actions_url: str = ""
    ) -> None:
        self.rasa_url = rasa_url
        self.actions_url = actions_url  # the action server itself (tests/security)
        self.db_path = db_path
        self.env = env
        self.platforms = platforms

    def send(self, sender: str, message: str, metadata: dict | None = None) -> list[dict]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        return requests.get(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30).json()

    def store(self):
        from actions.demo_data import open_demo_store

        return open_demo_store(self.db_path)


@contextmanager
def stack_with(work: Path, settings: dict[str, str] | None = None) -> Iterator[Stack]:
    """The action server and the Rasa server with the trained model, a fresh order database
    and the platform mocks; `settings` adds to (or overrides) their environment."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` first")
    db_path = work / "orders.db"
    platforms = PlatformMock()
    env = dict(
        ORDER_DB_PATH=str(db_path),
        CUSTOMER_IDENTITY_SECRET=IDENTITY_SECRET,
        TELEGRAM_API_URL=platforms.url,
        SLACK_API_URL=f"{platforms.url}/slack/",
        FACEBOOK_GRAPH_URL=f"{platforms.url}/fb",
        CALLBACK_URL=f"{platforms.url}/callback",
        **CHANNEL_SECRETS,
        **(settings or {}),
    )
    try:
        with running_stack(MODEL, work, env, ("--enable-api", "--cors", "*")) as running:
            yield Stack(running.rasa_url, db_path, {**os.environ, **env}, platforms, running.actions_url)
    finally:
        platforms.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with stack_with(tmp_path_factory.mktemp("stack")) as running:
        yield running


class Conversation:
    """One buyer talking to the assistant; keeps the last replies for assertions."""

    def __init__(self, stack: Stack, metadata: dict | None = None) -> None:
        self.stack = stack
        self.sender = f"buyer-{uuid.uuid4().hex[:10]}"
        self.metadata = metadata
        self.replies: list[dict] = []

    def say(self, message: str) -> str:
        self.replies = self.stack.send(self.sender, message, self.metadata)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(reply.get("text") or "" for reply in self.replies)

    @property
    def buttons(self) -> list[dict]:
        return [button for reply in self.replies for button in reply.get("buttons") or []]

    def click(self, title: str) -> str:
        for button in self.buttons:
            if button["title"] == title:
                return self.say(button["payload"])
        raise AssertionError(f"no button {title!r} in {self.buttons}")

    def slots(self) -> dict:
        return self.stack.tracker(self.sender)["slots"]


@pytest.fixture
def chat(stack) -> Conversation:
    return Conversation(stack)


@pytest.fixture(autouse=True)
def fresh_demo_data(stack) -> None:
    """Each conversation starts from docs/product.md §3's demo data."""
    stack.store().reset()


# --- the agent console (console/, issue 14) ---------------------------------------------------

CONSOLE_SESSION_SECRET = "e2e-console-session-secret-0123456789abcdef"
CONSOLE_AGENTS = {"alice": ("Alice Martin", "alice-e2e-password"), "bob": ("Bob Chen", "bob-e2e-password")}


class Console:
    """The agent console running against the stack: its address and the test agents."""

    def __init__(self, url: str, agents: dict[str, tuple[str, str]], log: Path) -> None:
        self.url = url
        self.names = {username: name for username, (name, _) in agents.items()}
        self.passwords = {username: password for username, (_, password) in agents.items()}
        self.log = log


@contextmanager
def console_for(stack: Stack, work: Path) -> Iterator[Console]:
    """`python -m console.server` on a free port against the stack's Rasa and order database,
    with two agents, alice and bob."""
    import subprocess
    import sys

    from console.accounts import MIN_ITERATIONS, entry_for

    entries = ";".join(
        entry_for(username, name, password, MIN_ITERATIONS) for username, (name, password) in CONSOLE_AGENTS.items()
    )
    env = {**stack.env, "SUPPORT_AGENTS": entries, "CONSOLE_SESSION_SECRET": CONSOLE_SESSION_SECRET}
    port = free_port()
    log = work / "console.log"
    command = [sys.executable, "-m", "console.server", "--port", str(port), "--rasa-url", stack.rasa_url]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/health", process, log, timeout=60)
        yield Console(url, CONSOLE_AGENTS, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def console(stack, tmp_path_factory) -> Iterator[Console]:
    with console_for(stack, tmp_path_factory.mktemp("console")) as running:
        yield running
