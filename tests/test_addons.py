"""The cached validation of action-server responses behaves as Rasa's own."""

from __future__ import annotations

from unittest import mock

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import addons  # noqa: F401 (installs the cached validation)
from addons import action_validation

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
