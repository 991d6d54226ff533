"""The helpdesk webhook: each handoff POSTed as signed JSON to a real local HTTP server, retried
after a failure, the same delivery id on the retry, given up after the last attempt."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from actions import webhook
from actions.demo_data import open_handoff_store
from actions.handoff_store import MAX_DELIVERY_ATTEMPTS
from actions.vocabulary import HandoffTrigger
from tests.support.helpdesk import Helpdesk

SECRET = "helpdesk-webhook-secret-0123456789abcdef"
BASE = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    moment = {"now": BASE}
    tick = lambda: moment["now"]  # noqa: E731
    tick.advance = lambda seconds: moment.update(now=moment["now"] + timedelta(seconds=seconds))  # type: ignore[attr-defined]
    return tick


def test_a_handoff_is_posted_signed_and_retried_after_a_failure(order_db, clock):
    helpdesk = Helpdesk([500, 200])
    queue = open_handoff_store(order_db, clock=clock)
    summary = {"customer_id": "C1", "order_id": "8100000000000002", "transcript": [{"who": "buyer", "text": "help"}]}
    handoff_id = queue.open_handoff("buyer-1", "telegram", HandoffTrigger.ASKED, summary, webhook=True).id
    try:
        assert webhook.deliver_due(queue, helpdesk.url, SECRET) == 0  # the helpdesk answered 500
        assert webhook.deliver_due(queue, helpdesk.url, SECRET) == 0, "not again before the backoff"
        clock.advance(1)
        assert webhook.deliver_due(queue, helpdesk.url, SECRET) == 1
    finally:
        helpdesk.close()
    assert len(helpdesk.received) == 2
    (first_headers, first_body), (headers, body) = helpdesk.received
    assert first_headers["X-Order-Assistant-Delivery"] == headers["X-Order-Assistant-Delivery"]
    timestamp = headers["X-Order-Assistant-Timestamp"]
    assert headers["X-Order-Assistant-Signature"] == webhook.signature(SECRET, timestamp, body)
    assert headers["X-Order-Assistant-Signature"] != webhook.signature("another-secret" * 3, timestamp, body)
    posted = json.loads(body)
    assert posted["id"] == handoff_id and posted["channel"] == "telegram" and posted["summary"] == summary
    (delivery,) = queue.deliveries(handoff_id)
    assert delivery["state"] == "delivered" and delivery["attempts"] == 2


def test_a_helpdesk_that_never_answers_is_given_up(order_db, clock):
    queue = open_handoff_store(order_db, clock=clock)
    handoff_id = queue.open_handoff("buyer-1", "rest", HandoffTrigger.ASKED, {}, webhook=True).id
    for _ in range(MAX_DELIVERY_ATTEMPTS):
        webhook.deliver_due(queue, "http://127.0.0.1:9/nowhere", SECRET)
        clock.advance(webhook.MAX_BACKOFF_SECONDS)
    (delivery,) = queue.deliveries(handoff_id)
    assert delivery["state"] == "failed" and delivery["attempts"] == MAX_DELIVERY_ATTEMPTS
    assert delivery["last_error"] == "ConnectionError"


def test_backoff_doubles_up_to_five_minutes():
    assert [webhook.backoff(n).total_seconds() for n in (1, 2, 3, 4, 12)] == [1, 2, 4, 8, 300]


def test_a_url_without_a_real_secret_is_refused():
    assert webhook.settings({}) is None
    with pytest.raises(webhook.WebhookMisconfigured):
        webhook.settings({"HANDOFF_WEBHOOK_URL": "https://helpdesk.example/hook", "HANDOFF_WEBHOOK_SECRET": "short"})
    assert webhook.settings({"HANDOFF_WEBHOOK_URL": "https://h.example/x", "HANDOFF_WEBHOOK_SECRET": SECRET})
