"""Every handoff posted to the team's own helpdesk (Zendesk, Freshdesk, …), for teams that
answer there rather than in the agent console (README, "The agent console").

- ``HANDOFF_WEBHOOK_URL``: where each handoff's summary is POSTed as JSON.
- ``HANDOFF_WEBHOOK_SECRET`` (at least 32 characters, required with the URL): the body is
  signed with HMAC-SHA256 over ``<timestamp>.<body>``, sent as
  ``X-Order-Assistant-Signature: sha256=<hex>`` with ``X-Order-Assistant-Timestamp`` and
  ``X-Order-Assistant-Delivery`` (the same id on every retry: the receiver can drop repeats).

The delivery is written in the same transaction as the handoff (:mod:`actions.handoff_store`),
then sent by the action server's background loop: a 2xx answer delivers it; anything else
(or no answer) is tried again after 1, 2, 4 … seconds (at most 5 minutes apart), and given up
after ``MAX_DELIVERY_ATTEMPTS`` attempts. Each attempt is leased, so two action servers never
send the same delivery at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import requests

from actions.handoff_store import MAX_DELIVERY_ATTEMPTS, HandoffStore
from actions.identity import MissingSecret, require_secret

logger = logging.getLogger(__name__)

URL_ENV = "HANDOFF_WEBHOOK_URL"
SECRET_ENV = "HANDOFF_WEBHOOK_SECRET"
TIMEOUT_SECONDS = 10
LEASE = timedelta(seconds=TIMEOUT_SECONDS + 20)
MAX_BACKOFF_SECONDS = 300
POLL_SECONDS = 1.0

Post = Callable[..., Any]


class WebhookMisconfigured(MissingSecret):
    """A URL without a usable secret: unsigned posts would let anyone forge handoffs."""


def settings(env: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The URL and the secret, or None when no webhook is configured."""
    url = env.get(URL_ENV, "").strip()
    if not url:
        return None
    try:
        secret = require_secret(env, SECRET_ENV, f"{URL_ENV} is set, and the signature of every post to it")
    except MissingSecret as refusal:
        raise WebhookMisconfigured(str(refusal)) from None
    return url, secret


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def deliver_due(store: HandoffStore, url: str, secret: str, post: Post = requests.post) -> int:
    """Send every delivery that is due; the number delivered."""
    delivered = 0
    for delivery in store.due_deliveries(LEASE):
        body = delivery["payload"].encode()
        timestamp = str(int(store.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Order-Assistant-Delivery": str(delivery["id"]),
            "X-Order-Assistant-Timestamp": timestamp,
            "X-Order-Assistant-Signature": signature(secret, timestamp, body),
        }
        try:
            answer = post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
            status = int(answer.status_code)
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except requests.RequestException as failure:
            error = type(failure).__name__
        if not error:
            store.delivery_done(delivery["id"])
            delivered += 1
            continue
        attempts = int(delivery["attempts"])
        retry_at = store.clock() + backoff(attempts) if attempts < MAX_DELIVERY_ATTEMPTS else None
        logger.warning("handoff webhook delivery %s failed (%s), attempt %s", delivery["id"], error, attempts)
        store.delivery_failed(delivery["id"], error, retry_at)
    return delivered


async def delivery_loop(store: HandoffStore, url: str, secret: str, poll: float = POLL_SECONDS) -> None:
    """The action server's background sender: never stops on an error, never blocks the loop."""
    while True:
        try:
            await asyncio.to_thread(deliver_due, store, url, secret)
        except Exception:
            logger.exception("handoff webhook deliveries failed; trying again")
        await asyncio.sleep(poll)
