"""Where a channel's settings come from (issue 13, item 10): credentials.yml if it gives one,
else the environment variable, else a default. credentials.yml names no variable, so plain
`rasa run` / `rasa shell` start without any set (Rasa refuses an undefined ${VAR})."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa.shared.utils.common import class_from_module_path
from rasa.shared.utils.io import read_config_file

from channels.common import CHANNEL_SETTINGS, SETTING_DEFAULTS, channel_settings, setting
from tests.support.stack import ROOT

CREDENTIALS = ROOT / "credentials.yml"
EVERY_VARIABLE = sorted({env_var for table in CHANNEL_SETTINGS.values() for env_var in table.values()})


@pytest.fixture
def empty_env(monkeypatch) -> None:
    for name in EVERY_VARIABLE:
        monkeypatch.delenv(name, raising=False)


def project_channels() -> dict[str, Any]:
    return read_config_file(str(CREDENTIALS))


def test_credentials_win_then_the_environment_then_the_default(empty_env, monkeypatch):
    assert setting({}, "token", "REST_CHANNEL_TOKEN") == ""
    assert setting(None, "url", "CALLBACK_URL", "http://default") == "http://default"
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "from-env")
    assert setting({}, "token", "REST_CHANNEL_TOKEN") == "from-env"
    assert setting({"token": None}, "token", "REST_CHANNEL_TOKEN") == "from-env"  # `token:` left empty
    assert setting({"token": ""}, "token", "REST_CHANNEL_TOKEN") == "from-env"
    assert setting({"token": "  "}, "token", "REST_CHANNEL_TOKEN") == "from-env"
    assert setting({"token": "from-file"}, "token", "REST_CHANNEL_TOKEN") == "from-file"
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "")  # set but empty counts as unset
    assert setting({}, "token", "REST_CHANNEL_TOKEN", "fallback") == "fallback"


def test_the_callback_url_has_the_documented_default(empty_env, monkeypatch):
    assert channel_settings("callback", {"url": None})["url"] == "http://localhost:5034/bot"
    monkeypatch.setenv("CALLBACK_URL", "http://bridge.example/bot")
    assert channel_settings("callback", {})["url"] == "http://bridge.example/bot"
    assert dict(SETTING_DEFAULTS) == {"CALLBACK_URL": "http://localhost:5034/bot"}


def test_credentials_yml_names_no_environment_variable():
    assert "${" not in CREDENTIALS.read_text()


def test_credentials_yml_lists_every_setting_with_its_variable():
    """Each of our channels lists every key it reads, commented with the variable it falls
    back to: the file documents CHANNEL_SETTINGS, and cannot drift from it."""
    documented: dict[str, dict[str, str]] = {}
    current = None
    for line in CREDENTIALS.read_text().splitlines():
        if re.match(r"^[\w.]+:\s*$", line):
            current = line.rstrip(":").strip()
            documented[current] = {}
        elif current and (entry := re.match(r"^  ([\w-]+):\s*#\s*([A-Z0-9_]+)", line)):
            documented[current][entry.group(1)] = entry.group(2)
    channels = project_channels()
    for path in channels:
        platform = class_from_module_path(path).name()
        if platform in CHANNEL_SETTINGS:
            assert documented[path] == CHANNEL_SETTINGS[platform], path
            assert set(channels[path]) == set(CHANNEL_SETTINGS[platform]), path
    assert {class_from_module_path(path).name() for path in channels} >= set(CHANNEL_SETTINGS)


def test_every_channel_builds_with_nothing_set(empty_env):
    channels = {
        path: class_from_module_path(path).from_credentials(given) for path, given in project_channels().items()
    }
    assert {channel.name() for channel in channels.values()} == {
        "rest",
        "socketio",
        "callback",
        "telegram",
        "slack",
        "facebook",
    }
    built = {channel.name(): channel for channel in channels.values()}
    assert built["rest"].token is None
    assert built["callback"].token is None
    assert built["callback"].callback_endpoint.url == "http://localhost:5034/bot"
    for channel in channels.values():
        channel.blueprint(lambda message: None)  # an unset platform gets its 503 routes


def test_every_channel_reads_its_variables(empty_env, monkeypatch):
    for name in EVERY_VARIABLE:
        monkeypatch.setenv(name, f"env-{name.lower()}")
    monkeypatch.setenv("CALLBACK_URL", "http://bridge.example/bot")
    built = {
        channel.name(): channel
        for channel in (
            class_from_module_path(path).from_credentials(given) for path, given in project_channels().items()
        )
    }
    assert built["rest"].token == "env-rest_channel_token"
    assert built["callback"].token == "env-callback_channel_token"
    assert built["callback"].callback_endpoint.url == "http://bridge.example/bot"
    telegram = built["telegram"]
    assert (telegram.access_token, telegram.verify, telegram.webhook_url) == (
        "env-telegram_access_token",
        "env-telegram_bot_name",
        "env-telegram_webhook_url",
    )
    assert (telegram.secret_token, telegram.api_url) == ("env-telegram_secret_token", "env-telegram_api_url")
    slack = built["slack"]
    assert (slack.slack_token, slack.slack_channel, slack.slack_signing_secret, slack.api_url) == (
        "env-slack_bot_token",
        "env-slack_channel",
        "env-slack_signing_secret",
        "env-slack_api_url",
    )
    facebook = built["facebook"]
    assert (facebook.fb_verify, facebook.fb_secret, facebook.fb_access_token, facebook.graph_url) == (
        "env-facebook_verify_token",
        "env-facebook_app_secret",
        "env-facebook_page_access_token",
        "env-facebook_graph_url",
    )


def test_a_value_in_credentials_wins_over_the_variable(empty_env, monkeypatch):
    from channels.facebook import SecureFacebookInput
    from channels.guard import ReliableCallbackInput, ReliableRestInput

    monkeypatch.setenv("REST_CHANNEL_TOKEN", "from-env")
    monkeypatch.setenv("FACEBOOK_APP_SECRET", "from-env")
    monkeypatch.setenv("CALLBACK_URL", "http://from-env/bot")
    assert ReliableRestInput.from_credentials({"token": "from-file"}).token == "from-file"
    facebook = SecureFacebookInput.from_credentials({"secret": "from-file", "verify": None})
    assert facebook.fb_secret == "from-file" and facebook.fb_verify == ""
    callback = ReliableCallbackInput.from_credentials({"url": "http://from-file/bot"})
    assert callback.callback_endpoint.url == "http://from-file/bot"
