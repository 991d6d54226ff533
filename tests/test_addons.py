"""The cached validation of action-server responses behaves as Rasa's own; Rasa builds
our lock store from the scale-out endpoints."""

from __future__ import annotations

from unittest import mock

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import read_endpoint_config

import addons  # noqa: F401 (installs the cached validation)
from addons import action_validation
from addons.lock_store import AtomicRedisLockStore
from tests.test_tracker_store import ROOT, SCALE_ENV

GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "8100000000000002"}], "responses": [{"text": "ok"}]}
BAD = [
    {"events": [{"event": "slot", "value": 1}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
]


def test_installed_on_import():
    assert RemoteAction._validate_action_result is action_validation.validate_action_result


def test_valid_response_passes():
    assert RemoteAction("x", None)._validate_action_result(GOOD)


@pytest.mark.parametrize("response", BAD)
def test_invalid_response_fails_with_rasas_message(response):
    with pytest.raises(ValidationError) as ours:
        RemoteAction("x", None)._validate_action_result(response)
    with pytest.raises(ValidationError) as rasas:
        action_validation.ORIGINAL(RemoteAction("x", None), response)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_schema_is_checked_once():
    validator_class = type(action_validation.response_validator())
    action_validation.response_validator.cache_clear()
    with mock.patch.object(validator_class, "check_schema", wraps=validator_class.check_schema) as check:
        for _ in range(5):
            RemoteAction("x", None)._validate_action_result(GOOD)
    assert check.call_count == 1


def test_the_scale_endpoints_get_the_atomic_lock_store(monkeypatch):
    """Rasa builds our lock store from deploy/endpoints.scale.yml's `lock_store` section
    (through `endpoint_config`) with the address it names; redis-py connects only on the
    first command, so nothing is reached."""
    for name, value in SCALE_ENV.items():
        monkeypatch.setenv(name, value)
    store = LockStore.create(read_endpoint_config(str(ROOT / "deploy" / "endpoints.scale.yml"), "lock_store"))
    assert type(store) is AtomicRedisLockStore
    connection = store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("redis.invalid", 6380, 2)
    # Rasa drops a prefix that is not alphanumeric (`order_assistant` was), with only a debug line.
    assert store.key_prefix == "orderassistant:lock:"


def test_the_scale_endpoints_send_the_action_server_token(monkeypatch):
    """Rasa calls the action servers with `?token=` from ACTION_SERVER_TOKEN (actions/server.py)."""
    for name, value in SCALE_ENV.items():
        monkeypatch.setenv(name, value)
    endpoint = read_endpoint_config(str(ROOT / "deploy" / "endpoints.scale.yml"), "action_endpoint")
    assert endpoint is not None
    assert endpoint.combine_parameters() == {"token": SCALE_ENV["ACTION_SERVER_TOKEN"]}
