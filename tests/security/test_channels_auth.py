"""REST and callback callers choose any sender id (issue 12, item 7). The test stack runs
without REST_CHANNEL_TOKEN / CALLBACK_CHANNEL_TOKEN: the channels then serve callers that
reach the Rasa server directly, and refuse (401, not processed) what came through a proxy.
With a token, every call needs it: tests/security/test_channels_holes.py."""

from __future__ import annotations

import uuid

import pytest
import requests

PROXIED = {"X-Forwarded-For": "203.0.113.5"}


@pytest.mark.parametrize("channel", ["rest", "callback"])
def test_a_call_through_a_proxy_is_refused_without_a_token(stack, channel):
    sender = f"proxied-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "I want to cancel my order"}
    url = f"{stack.rasa_url}/webhooks/{channel}/webhook"
    refused = requests.post(url, json=body, headers={**PROXIED, "Authorization": "Bearer guess"}, timeout=60)
    assert refused.status_code == 401
    assert [event for event in stack.tracker(sender).get("events") or [] if event["event"] == "user"] == []


def test_a_direct_call_is_served(chat):
    assert "order number" in chat.say("I want to cancel my order")
