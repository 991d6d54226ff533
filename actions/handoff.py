"""Handing a conversation to a person (docs/product.md §4, "Human handoff"): the support
team's opening hours, the summary an agent reads instead of asking the buyer again, and
what the buyer is told. No Rasa imports; the queue itself is :mod:`actions.handoff_store`.

Settings (README, "The agent console"):

- ``HANDOFF_QUEUE=on``: conversations go to the queue the agent console shows. Off (the
  default), nobody would ever answer, so the buyer is told how to reach customer service
  instead: the assistant never promises a person who does not come.
- ``SUPPORT_HOURS`` (e.g. ``Mon-Fri 09:00-18:00``) and ``SUPPORT_TIMEZONE`` (an IANA name,
  default UTC): outside them the buyer is told when the team is back. Unset: always open.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from actions.facts import OrderFacts
from actions.languages import as_pressed
from actions.replies import LANGUAGE, Say, reason_label, say
from actions.vocabulary import HandoffTrigger, Reason

logger = logging.getLogger(__name__)

QUEUE_ENV = "HANDOFF_QUEUE"
HOURS_ENV = "SUPPORT_HOURS"
TIMEZONE_ENV = "SUPPORT_TIMEZONE"
# An agent whose console was open this recently is at the desk.
AT_DESK_WITHIN = timedelta(minutes=2)
# The transcript an agent gets: enough to act on without re-asking, short enough to read.
TRANSCRIPT_MESSAGES = 40
MAX_TRANSCRIPT_TEXT = 2000

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$", re.I)


WEBHOOK_URL_ENV = "HANDOFF_WEBHOOK_URL"


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "on", "true", "yes")


def queue_enabled(env: Mapping[str, str] = os.environ) -> bool:
    return _on(env.get(QUEUE_ENV))


def webhook_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Each handoff is also posted to the team's helpdesk (actions/webhook.py)."""
    return bool(env.get(WEBHOOK_URL_ENV, "").strip())


@dataclass(frozen=True)
class SupportHours:
    """When agents answer: the same hours on each of the given weekdays, in one time zone."""

    days: frozenset[int]  # Monday is 0
    opens: time
    closes: time | None  # None: until midnight ("24:00")
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str = "UTC") -> SupportHours:
        """ "Mon-Fri 09:00-18:00" (or "Sat 10:00-14:00", "Mon-Sun 00:00-24:00")."""
        match = _HOURS.match(text)
        if not match or match[1].lower() not in _DAYS or (match[2] and match[2].lower() not in _DAYS):
            raise ValueError(f"{HOURS_ENV}={text!r}: expected e.g. 'Mon-Fri 09:00-18:00'")
        first = _DAYS.index(match[1].lower())
        last = _DAYS.index(match[2].lower()) if match[2] else first
        days = frozenset((first + step) % 7 for step in range((last - first) % 7 + 1))
        opens = time(int(match[3]), int(match[4]))
        closes = None if (int(match[5]), int(match[6])) == (24, 0) else time(int(match[5]), int(match[6]))
        if closes is not None and closes <= opens:
            raise ValueError(f"{HOURS_ENV}={text!r}: closing must come after opening")
        return cls(days, opens, closes, ZoneInfo(zone))

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SupportHours | None:
        """The configured hours, or None (always open). Hours that cannot be read are logged
        and ignored: a typo in the setting must not stop buyers from reaching the queue."""
        text = env.get(HOURS_ENV, "").strip()
        if not text:
            return None
        try:
            return cls.parse(text, env.get(TIMEZONE_ENV, "").strip() or "UTC")
        except (ValueError, ZoneInfoNotFoundError) as error:
            logger.error("%s / %s ignored: %s", HOURS_ENV, TIMEZONE_ENV, error)
            return None

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        if local.weekday() not in self.days or local.time() < self.opens:
            return False
        return self.closes is None or local.time() < self.closes

    def next_opening(self, moment: datetime) -> datetime:
        """The next moment the team is in, as UTC (now, if it is open now)."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(self.zone)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            opening = datetime.combine(day, self.opens, tzinfo=self.zone)
            if day.weekday() in self.days and opening > local:
                return opening.astimezone(timezone.utc)
        raise ValueError("support hours name no day")  # parse() never allows this


@dataclass(frozen=True)
class Handoff:
    """A conversation in the queue, and what the buyer is told about it."""

    handoff_id: int
    position: int
    message: Say


def queued_message(position: int, now: datetime, hours: SupportHours | None, agents_at_desk: int) -> Say:
    """The honest answer: the place in the queue, and when a person can answer."""
    if hours is not None and not hours.is_open(now):
        return say("handoff.queued_closed", position=position, opens=hours.next_opening(now))
    if agents_at_desk == 0:
        return say("handoff.queued_nobody_at_desk", position=position)
    return say("handoff.queued", position=position)


def transcript(events: list[dict[str, Any]], limit: int = TRANSCRIPT_MESSAGES) -> list[dict[str, Any]]:
    """The conversation's messages, the latest `limit`: who said what, and when (button
    presses are shown as what they were: "/affirm" is not the buyer's words)."""
    lines: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not event.get("text"):
            continue
        who = "buyer" if kind == "user" else ("agent" if (event.get("metadata") or {}).get("agent") else "bot")
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), timezone.utc).isoformat(timespec="seconds")
        text = as_pressed(str(event["text"])) if kind == "user" else str(event["text"])
        lines.append({"who": who, "text": text[:MAX_TRANSCRIPT_TEXT], "at": at})
    return lines[-limit:]


def summary(
    *,
    trigger: HandoffTrigger,
    customer_id: str | None,
    customer_name: str,
    verified_by: str | None,
    order: OrderFacts | None,
    reason: Reason | None,
    reason_text: str | None,
    offered: str | None,
    records: Mapping[str, list[dict[str, Any]]],
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    """What an agent needs to act without asking the buyer again. An order is only included
    for a verified buyer: the agent sees what the buyer was entitled to see."""
    facts: dict[str, Any] | None = None
    if order is not None and customer_id:
        facts = {
            "order_id": order.order_id,
            "product": order.product,
            "status": order.status.value,
            "seller": order.seller.name,
            "placed_at": order.placed_at.isoformat() if order.placed_at else None,
            "tracking_number": order.tracking_number,
        }
    return {
        "trigger": trigger.value,
        "customer_id": customer_id,
        "customer": customer_name if customer_id else "not verified",
        "verified_by": verified_by,
        "order_id": facts["order_id"] if facts else None,
        "order": facts,
        "reason": reason.value if reason else None,
        "reason_label": reason_label(reason, "en") if reason else None,  # for the agent
        "language": LANGUAGE.get(),  # the buyer's: the console's notices go out in it
        "buyer_words": reason_text,
        "bot_offered": offered,
        "done": dict(records),
        "transcript": lines,
    }
