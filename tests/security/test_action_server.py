"""Only the Rasa server may call the action server (issue 12, item 1; SECURITY.md).

The attack: POST a crafted tracker to the action server's /webhook, with the slots of a
verified buyer chosen by the attacker, and read or change any order. `rasa run actions`
listened on 0.0.0.0:5055 and ran any action for anyone; `python -m actions.server` listens
on loopback and refuses every call but `GET /health` without ACTION_SERVER_TOKEN.

Each test below says why it fails against the old setup (`rasa run actions`).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import uuid

import pytest
import requests

from actions.conversation import offer_slot
from actions.vocabulary import Offer
from tests.support.stack import ACTION_SERVER_TEST_TOKEN, ROOT, free_port, wait_for

FOREIGN_ORDER = "8100000000000010"  # the demo data's order of customer C2, a Hair dryer
FOREIGN_PRODUCT = "Hair dryer"
SERVER = [sys.executable, "-m", "actions.server"]


def action_call(action: str, **slots: object) -> dict:
    """What the Rasa server would send, with slots the attacker picked."""
    sender = f"attacker-{uuid.uuid4().hex[:8]}"
    tracker = {
        "sender_id": sender,
        "slots": {"order_id": FOREIGN_ORDER, "customer_id": "C2", **slots},
        "latest_message": {"text": "yes", "intent": {"name": "affirm"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.21"}


def post(stack, call: dict, token: str | None = None, bearer: str | None = None) -> requests.Response:
    params = {"token": token} if token is not None else None
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else None
    return requests.post(f"{stack.actions_url}/webhook", json=call, params=params, headers=headers, timeout=30)


def database(stack) -> list[str]:
    """Every row of the order store, as SQL."""
    with sqlite3.connect(stack.db_path) as connection:
        return list(connection.iterdump())


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "unauthorised"}
    assert FOREIGN_ORDER not in response.text and FOREIGN_PRODUCT not in response.text


def test_a_crafted_tracker_without_the_token_reads_nothing(stack):
    # Old setup: 200 with "Order 8100000000000010 (Hair dryer, ...) is paid and awaiting shipment".
    assert_refused(post(stack, action_call("action_guide_order")))


def test_a_crafted_yes_without_the_token_writes_nothing(stack):
    # Old setup: 200, and a message to the seller recorded on another customer's order.
    crafted = action_call(
        "action_confirm_offer",
        pending_offer=offer_slot(Offer.SEND_SELLER_MESSAGE, FOREIGN_ORDER),
        seller_message_draft="crafted by an attacker",
    )
    before = database(stack)
    assert_refused(post(stack, crafted))
    assert_refused(post(stack, crafted, bearer="crafted-by-an-attacker-0123456789abcdef"))
    assert database(stack) == before
    # The same call from the Rasa server (with the token) does write: the check above can fail.
    assert post(stack, crafted, token=ACTION_SERVER_TEST_TOKEN).status_code == 200
    assert database(stack) != before


@pytest.mark.parametrize(
    "token, bearer",
    [
        ("wrong-token-wrong-token-wrong-token-0123", None),
        (ACTION_SERVER_TEST_TOKEN[:-1], None),  # a prefix of the secret
        (ACTION_SERVER_TEST_TOKEN + "x", None),
        ("", None),
        ("wröng-tökén", None),  # non-ASCII: compared as bytes, refused rather than a 500
        (None, "wrong-token-wrong-token-wrong-token-0123"),
        (None, ""),
    ],
)
def test_a_wrong_token_is_refused(stack, token, bearer):
    # Old setup: rasa-sdk ignores query parameters and headers: every call is 200.
    assert_refused(post(stack, action_call("action_guide_order"), token=token, bearer=bearer))
    refused = requests.get(f"{stack.actions_url}/actions", params={"token": token or ""}, timeout=30)
    assert refused.status_code == 401


def test_the_rasa_servers_token_is_accepted(stack):
    # Passes on the old setup too: it shows the tests above refuse the attack, not every call.
    answered = post(stack, action_call("action_guide_order"), token=ACTION_SERVER_TEST_TOKEN)
    assert answered.status_code == 200
    assert FOREIGN_PRODUCT in answered.text
    listed = requests.get(
        f"{stack.actions_url}/actions", headers={"Authorization": f"Bearer {ACTION_SERVER_TEST_TOKEN}"}, timeout=30
    )
    assert listed.status_code == 200 and {"name": "action_guide_order"} in listed.json()


def test_the_assistant_still_reaches_its_actions(chat):
    """The Rasa server sends endpoints.yml's `token: ${ACTION_SERVER_TOKEN}` (as `?token=`)."""
    # Old setup: passes (no token needed); with a token the Rasa server did not send, it fails.
    chat.say("I want to cancel order 8100000000000002")
    assert "Why do you want to cancel" in chat.say("alex.buyer@example.com")  # the form's validation
    assert "Bluetooth earbuds" in chat.click("I changed my mind")  # the order, from the store


def test_health_stays_open(stack):
    # Old setup: passes; with a check on every route, start scripts and balancers could not probe.
    assert requests.get(f"{stack.actions_url}/health", timeout=10).json() == {"status": "ok"}


def start_server(port: int, token: str | None, log) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key not in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_HOST")}
    if token is not None:
        env["ACTION_SERVER_TOKEN"] = token
    return subprocess.Popen([*SERVER, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def non_loopback_address() -> str | None:
    """This machine's address on its default route, if it has one (UDP: nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_it_listens_on_loopback_only(tmp_path):
    # Old setup: `rasa run actions` binds 0.0.0.0 (SANIC_HOST's default), so `ss` shows
    # 0.0.0.0:port and a connection to the machine's network address succeeds.
    port = free_port()
    log = tmp_path / "actions.log"
    server = start_server(port, ACTION_SERVER_TEST_TOKEN, log.open("w"))
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server, log, timeout=120)
        listening = subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        local = [line.split()[3] for line in listening if line.strip()]
        assert local == [f"127.0.0.1:{port}"]
        address = non_loopback_address()
        if address is not None:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, port), timeout=5).close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("token", [None, "0123456789"], ids=["unset", "10 characters"])
def test_it_refuses_to_start_without_a_strong_token(tmp_path, token):
    # Old setup: `rasa run actions` needs no token and starts serving: the wait times out.
    log = tmp_path / "actions.log"
    server = start_server(free_port(), token, log.open("w"))
    try:
        code = server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        pytest.fail("the action server started without a shared secret of 32 characters")
    output = log.read_text()
    assert code != 0
    assert "ACTION_SERVER_TOKEN" in output and "at least 32 characters" in output
