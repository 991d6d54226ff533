"""The smaller holes of issue 12 in the channels, without a stack: REST and callback callers
need a bearer token, every Slack retry is dropped, a Telegram update counts once, and the
chat page's server serves files by their normalised path only."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests

from channels.common import RecentDeliveries
from channels.guard import ReliableCallbackInput, ReliableRestInput
from channels.slack import SecureSlackInput
from channels.telegram import SecureTelegramInput


@pytest.fixture(autouse=True)
def fresh_demo_data() -> None:
    """No stack here: this replaces tests/security's fixture that starts one."""


def request(headers: dict[str, str], method: str = "POST") -> SimpleNamespace:
    return SimpleNamespace(method=method, headers=headers, path="/webhooks/rest/webhook")


# --- REST and callback: a bearer token ---------------------------------------------------


@pytest.mark.parametrize(
    "headers,allowed",
    [
        ({}, False),
        ({"Authorization": "Bearer s3cret-token"}, True),
        ({"Authorization": "bearer s3cret-token"}, True),
        ({"Authorization": "Bearer wrong"}, False),
        ({"Authorization": "Bearer s3cret-token-and-more"}, False),
        ({"Authorization": "Bearer "}, False),
        ({"Authorization": "Basic s3cret-token"}, False),
        ({"Authorization": "s3cret-token"}, False),
    ],
)
@pytest.mark.parametrize("channel_class", [ReliableRestInput, ReliableCallbackInput])
def test_with_a_token_every_call_needs_it(channel_class, headers, allowed):
    channel = channel_class.from_credentials({"url": "http://127.0.0.1:9/bot", "token": "s3cret-token"})
    assert (channel.refusal(request(headers)) is None) is allowed


@pytest.mark.parametrize("channel_class", [ReliableRestInput, ReliableCallbackInput])
def test_without_a_token_only_direct_callers_get_in(channel_class):
    """Open for local development and the tests; closed to whatever came through a proxy."""
    channel = channel_class.from_credentials({"url": "http://127.0.0.1:9/bot", "token": ""})
    assert channel.refusal(request({})) is None
    assert channel.refusal(request({"X-Forwarded-For": "203.0.113.5"})) is not None
    assert channel.refusal(request({"X-Forwarded-For": "203.0.113.5", "Authorization": "Bearer x"})) is not None


def test_a_cors_preflight_needs_no_token():
    channel = ReliableRestInput.from_credentials({"token": "s3cret-token"})
    assert channel.refusal(request({}, method="OPTIONS")) is None


def test_the_refusal_is_wired_before_the_webhook():
    """The blueprint's request middleware answers 401 itself; the message is not handled."""
    handled: list = []

    async def on_new_message(message) -> None:
        handled.append(message)

    blueprint = ReliableRestInput.from_credentials({"token": "s3cret-token"}).blueprint(on_new_message)
    (middleware,) = [future.middleware for future in blueprint._future_middleware if future.attach_to == "request"]
    refused = asyncio.run(middleware(request({"Authorization": "Bearer nope"})))
    assert refused.status == 401 and handled == []
    assert asyncio.run(middleware(request({"Authorization": "Bearer s3cret-token"}))) is None


def test_the_callback_token_is_not_sent_to_the_callback_url():
    channel = ReliableCallbackInput.from_credentials({"url": "http://127.0.0.1:9/bot", "token": "s3cret-token"})
    assert channel.callback_endpoint.url == "http://127.0.0.1:9/bot"
    assert channel.callback_endpoint.token is None and "token" not in (channel.callback_endpoint.params or {})


# --- Slack: every retry is dropped -------------------------------------------------------


def slack_delivery(headers: dict[str, str]) -> tuple[int, list]:
    channel = SecureSlackInput.from_credentials({"slack_token": "xoxb-test", "slack_signing_secret": "secret"})
    handled: list = []

    async def on_new_message(message) -> None:
        handled.append(message.text)

    async def deliver() -> int:
        answer = await channel.process_message(SimpleNamespace(headers=headers), on_new_message, "hello", "U1", None)
        await asyncio.sleep(0.05)  # the first delivery is handled in a background task
        return answer.status

    return asyncio.run(deliver()), handled


@pytest.mark.parametrize("reason", ["http_timeout", "http_error", "connection_failed", "unknown_error", None])
def test_every_slack_retry_is_dropped(reason):
    headers = {"x-slack-retry-num": "1", **({"x-slack-retry-reason": reason} if reason else {})}
    status, handled = slack_delivery(headers)
    assert status == 201 and handled == []


def test_the_first_slack_delivery_is_handled():
    status, handled = slack_delivery({})
    assert status == 200 and handled == ["hello"]


# --- Telegram: an update counts once -----------------------------------------------------


class Collecting:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_response(self, recipient_id, message) -> None:
        self.texts.append(message.get("text"))


def telegram_webhook(handled: list):
    channel = SecureTelegramInput.from_credentials(
        {"access_token": "123456789:AAtest-token", "verify": "bot", "secret_token": "secret"}
    )
    channel.get_output_channel = Collecting  # type: ignore[method-assign]

    async def on_new_message(message) -> None:
        handled.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "hi"})

    blueprint = channel.blueprint(on_new_message)
    return {route.uri: route.handler for route in blueprint._future_routes}["/webhook"]


def telegram_update(update_id: int, text: str, chat_id: int = 42) -> SimpleNamespace:
    body = {
        "update_id": update_id,
        "message": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}, "text": text},
    }
    return SimpleNamespace(headers={"X-Telegram-Bot-Api-Secret-Token": "secret"}, json=body)


def test_a_telegram_update_delivered_twice_is_handled_once():
    handled: list[str] = []
    webhook = telegram_webhook(handled)

    async def deliver() -> list[int]:
        updates = [telegram_update(7, "hello"), telegram_update(7, "hello"), telegram_update(8, "hello again")]
        return [(await webhook(update)).status for update in updates]

    assert asyncio.run(deliver()) == [200, 200, 200]  # a repeat is acknowledged, so not resent
    assert handled == ["hello", "hello again"]


def test_recent_deliveries_are_bounded():
    recent = RecentDeliveries(capacity=3)
    assert [recent.first_time(n) for n in (1, 2, 3, 1)] == [True, True, True, False]
    assert recent.first_time(4)  # 2, the oldest unseen since, is forgotten
    assert recent.first_time(2) and not recent.first_time(4)
    assert len(recent._seen) == 3


# --- the chat page's file server ---------------------------------------------------------


@pytest.fixture(scope="module")
def web_server() -> Iterator[str]:
    from scripts.serve_web import make_handler

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("http://127.0.0.1:5005"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def get(base: str, path: str) -> requests.Response:
    """A raw request target: requests would normalise the path itself."""
    session = requests.Session()
    prepared = requests.Request("GET", base).prepare()
    prepared.url = base + path
    return session.send(prepared, timeout=10)


@pytest.mark.parametrize(
    "path",
    [
        "//node_modules/socket.io-client/package.json",
        "///node_modules/socket.io-client/package.json",
        "/./node_modules/socket.io-client/package.json",
        "/vendor/../node_modules/socket.io-client/package.json",
        "/%6eode_modules/socket.io-client/package.json",  # served by the old check (parsed, not decoded)
        "/%6eode_modules/socket.io-client/",  # and listed
        "//package.json",
        "/package-lock.json",
        "/node_modules/",
        "/node_modules",
        "//node_modules/",
        "/../scripts/serve_web.py",
        "/%2e%2e/scripts/serve_web.py",
        "/missing.js",
    ],
)
def test_npm_files_directories_and_paths_outside_web_are_404(web_server, path):
    assert get(web_server, path).status_code == 404


@pytest.mark.parametrize(
    "path,fragment",
    [("/", b"<html"), ("/index.html", b"<html"), ("/widget.js", b""), ("/vendor/socket.io.min.js", b"")],
)
def test_the_page_itself_is_served(web_server, path, fragment):
    answer = get(web_server, path)
    assert answer.status_code == 200 and fragment in answer.content.lower()
    assert answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "typed,cleaned",
    [
        ("<@UBOT> cancel 8100000000000002", "cancel 8100000000000002"),
        ("hi <@UBOT>", "hi"),
        ("see <https://example.com/a?b=1|example.com/a>", "see example.com/a"),
        ("<mailto:alex.buyer@example.com|alex.buyer@example.com>", "alex.buyer@example.com"),
        ("<http://no-label.example>", "<http://no-label.example>"),
        ("a | b > c", "a | b > c"),
    ],
)
def test_slack_text_is_cleaned_as_rasa_did(typed, cleaned):
    assert SecureSlackInput._sanitize_user_message(typed, ["UBOT"]) == cleaned
