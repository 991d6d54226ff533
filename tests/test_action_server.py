"""Plain `rasa run actions` is held to the rules of `python -m actions.server` (issue 13,
item 10; SECURITY.md): rasa-sdk's server calls its plugins' `attach_sanic_app_extensions`
on its app before it starts, and `actions.server` is one of them.

Old code: rasa-sdk had no plugin of ours; its server started without a secret, answered
every call, and listened on 0.0.0.0."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import aiohttp
import pytest
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic

import actions
from actions import server
from tests.support.stack import free_port

TOKEN = "unit-action-server-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def plain_env(monkeypatch) -> None:
    for name in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_HOST", "SANIC_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps named "rasa_sdk" in one process


def rasa_sdk_hook(app: Sanic) -> None:
    """What `rasa_sdk.endpoint.run` does once it has built its app."""
    plugin_manager().hook.attach_sanic_app_extensions(app=app)


def test_rasa_sdks_server_loading_the_actions_registers_the_guard_once():
    assert "rasa_sdk.endpoint" in sys.modules  # imported above, as `rasa run actions` has
    actions._guard_rasa_sdk_server()
    actions._guard_rasa_sdk_server()  # importing the package again changes nothing
    assert plugin_manager().is_registered(server)
    ours = [impl for impl in plugin_manager().hook.attach_sanic_app_extensions.get_hookimpls() if impl.plugin is server]
    assert len(ours) == 1


@pytest.mark.parametrize("token", [None, "0123456789"], ids=["unset", "10 characters"])
def test_it_refuses_to_start_without_a_strong_token(monkeypatch, token):
    actions._guard_rasa_sdk_server()
    if token is not None:
        monkeypatch.setenv("ACTION_SERVER_TOKEN", token)
    with pytest.raises(SystemExit) as refusal:
        rasa_sdk_hook(Sanic(f"refused_{uuid.uuid4().hex}"))
    message = str(refusal.value.code)
    assert "ACTION_SERVER_TOKEN" in message and "at least 32 characters" in message
    assert "source .venv/bin/activate" in message


async def answers(app: Sanic) -> dict[str, int]:
    """Serve `app` on a free loopback port and call it as a caller would."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert served is not None
    await served.startup()
    await served.before_start()  # where require_secret puts itself ahead of CORS again
    await served.after_start()
    calls = {
        "GET /health": ("GET", "/health", {}),
        "POST /webhook": ("POST", "/webhook", {}),
        "GET /actions": ("GET", "/actions", {}),
        "OPTIONS /webhook": ("OPTIONS", "/webhook", {"Origin": "http://evil.example"}),
        "wrong token": ("GET", "/actions", {"Authorization": "Bearer wrong-token-wrong-token-wrong-token"}),
        "?token=": ("GET", f"/actions?token={TOKEN}", {}),
        "bearer": ("GET", "/actions", {"Authorization": f"Bearer {TOKEN}"}),
    }
    statuses = {}
    try:
        async with aiohttp.ClientSession() as session:
            for name, (method, path, headers) in calls.items():
                async with session.request(method, base + path, headers=headers) as answer:
                    statuses[name] = answer.status
    finally:
        await served.before_stop()
        served.close()
        await served.wait_closed()
        await served.after_stop()
    return statuses


def test_with_a_token_every_call_but_health_needs_it(monkeypatch):
    actions._guard_rasa_sdk_server()
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    app = create_app("actions", cors_origins="*")  # `rasa run actions --cors "*"`: the worst case
    rasa_sdk_hook(app)
    assert asyncio.run(answers(app)) == {
        "GET /health": 200,
        "POST /webhook": 401,
        "GET /actions": 401,
        "OPTIONS /webhook": 401,
        "wrong token": 401,
        "?token=": 200,
        "bearer": 200,
    }


def test_it_listens_on_loopback_unless_told_otherwise(monkeypatch):
    actions._guard_rasa_sdk_server()
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    rasa_sdk_hook(Sanic(f"loopback_{uuid.uuid4().hex}"))
    assert os.environ["SANIC_HOST"] == "127.0.0.1"  # rasa-sdk's default is 0.0.0.0
    monkeypatch.setenv("SANIC_HOST", "10.0.0.5")
    rasa_sdk_hook(Sanic(f"operator_{uuid.uuid4().hex}"))
    assert os.environ["SANIC_HOST"] == "10.0.0.5"
    monkeypatch.delenv("SANIC_HOST")
    monkeypatch.setenv("ACTION_SERVER_HOST", "10.0.0.6")  # as for python -m actions.server
    rasa_sdk_hook(Sanic(f"private_{uuid.uuid4().hex}"))
    assert os.environ["SANIC_HOST"] == "10.0.0.6"


@pytest.mark.parametrize(
    "value,accepted",
    [(None, False), ("", False), ("x" * 31, False), ("x" * 32, True), ("é" * 16, True)],
)
def test_every_shared_secret_follows_one_rule(value, accepted):
    """The action server's token, the console's cookie key and the webhook's signing key
    all go through identity.require_secret: at least 32 bytes, or the service will not start."""
    from actions import identity, webhook
    from console import sessions

    checks = [
        lambda env: server.shared_secret(env),
        lambda env: sessions.session_secret(env),
        lambda env: webhook.settings({**env, webhook.URL_ENV: "https://helpdesk.example/hook"}),
    ]
    names = [server.TOKEN_VARIABLE, sessions.SECRET_ENV, webhook.SECRET_ENV]
    for check, name in zip(checks, names, strict=True):
        env = {} if value is None else {name: value}
        if accepted:
            check(env)
        else:
            with pytest.raises(identity.MissingSecret, match=name):
                check(env)
