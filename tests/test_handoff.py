"""Handing a conversation to a person: opening hours, the summary, the queue entry, and the
actions that pause the bot (or, without a queue, say where a person can be reached)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actions.handoff import SupportHours, queued_message, summary, transcript
from actions.help_actions import ActionClarify, ActionHumanHandoff, misunderstood_before
from actions.replies import render
from actions.service import get_service
from actions.vocabulary import HandoffState, HandoffTrigger
from tests.test_actions import fresh_db, make_tracker, run, texts  # noqa: F401 (fixture)

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)  # a Monday


@pytest.mark.parametrize(
    "hours,moment,is_open",
    [
        ("Mon-Fri 09:00-18:00", MONDAY_NOON, True),
        ("Mon-Fri 09:00-18:00", MONDAY_NOON.replace(hour=18), False),
        ("Mon-Fri 09:00-18:00", datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc), False),  # Saturday
        ("Sat-Sun 10:00-14:00", datetime(2026, 12, 6, 13, 59, tzinfo=timezone.utc), True),
        ("Fri-Mon 00:00-24:00", datetime(2026, 12, 6, 23, 59, tzinfo=timezone.utc), True),  # wraps the week
        ("Fri-Mon 00:00-24:00", datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc), False),  # Wednesday
    ],
)
def test_support_hours(hours, moment, is_open):
    assert SupportHours.parse(hours).is_open(moment) is is_open


def test_next_opening_in_the_teams_time_zone():
    hours = SupportHours.parse("Mon-Fri 09:00-17:00", "Europe/Madrid")  # UTC+1 in winter
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)
    assert hours.next_opening(friday_evening) == datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
    assert hours.next_opening(MONDAY_NOON) == MONDAY_NOON


@pytest.mark.parametrize("text", ["weekdays 9-5", "Mon-Fri 18:00-09:00", "Xyz 09:00-10:00", ""])
def test_unreadable_hours_are_refused(text):
    with pytest.raises(ValueError):
        SupportHours.parse(text)


def test_what_the_buyer_is_told_is_true():
    closed = SupportHours.parse("Mon-Fri 13:00-17:00")
    assert "back Mon 30 Nov 2026, 13:00 UTC" in render(queued_message(2, MONDAY_NOON, closed, agents_at_desk=3))
    assert "No agent is at the desk" in render(queued_message(1, MONDAY_NOON, None, agents_at_desk=0))
    told = render(queued_message(3, MONDAY_NOON, None, agents_at_desk=1))
    assert "number 3 in the queue" in told and "goes to them, not to me" in told


def test_the_transcript_names_who_spoke():
    events = [
        {"event": "user", "text": "hi", "timestamp": 1},
        {"event": "action", "name": "action_greet"},
        {"event": "bot", "text": "Hello!", "timestamp": 2},
        {"event": "bot", "text": "Alice here", "timestamp": 3, "metadata": {"agent": "Alice"}},
        {"event": "user", "text": None, "timestamp": 4},
        {"event": "user", "text": '/affirm{"language_hint": "es"}', "timestamp": 5},  # a button, hint added
    ]
    assert [(line["who"], line["text"]) for line in transcript(events)] == [
        ("buyer", "hi"),
        ("bot", "Hello!"),
        ("agent", "Alice here"),
        ("buyer", "/affirm"),
    ]
    assert len(transcript([{"event": "user", "text": "x", "timestamp": 0}] * 100)) == 40


def test_an_unverified_buyer_summary_shows_no_order():
    order = get_service().find("8100000000000002", "C1")
    about = summary(
        trigger=HandoffTrigger.ASKED,
        customer_id=None,
        customer_name="",
        verified_by=None,
        order=order,
        reason=None,
        reason_text=None,
        offered=None,
        records={},
        lines=[],
    )
    assert about["customer"] == "not verified" and about["order"] is None and about["order_id"] is None


def hand_over_tracker(slots=None, text="I want a person", intent="human_handoff", events=None):
    known = {"order_id": "8100000000000002", "customer_id": "C1", "reason": "changed_mind"}
    tracker = make_tracker({**known, **(slots or {})}, text=text, intent=intent, sender="buyer-42")
    tracker.events[:] = events or [
        {"event": "user", "text": "cancel 8100000000000002", "timestamp": 1, "input_channel": "socketio"},
        {"event": "bot", "text": "Shall I send the cancellation request?", "timestamp": 2},
        {"event": "user", "text": text, "timestamp": 3, "input_channel": "socketio"},
    ]
    return tracker


def test_a_buyer_asking_for_a_person_is_queued_with_a_summary_and_the_bot_pauses(monkeypatch):
    monkeypatch.setenv("HANDOFF_QUEUE", "on")
    monkeypatch.delenv("SUPPORT_HOURS", raising=False)
    events, messages = run(
        ActionHumanHandoff(), hand_over_tracker({"pending_offer": "submit_request:8100000000000002"})
    )
    assert {"event": "pause", "timestamp": None} in events
    assert "number 1 in the queue" in texts(messages)
    entry = get_service().handoffs.live_handoff("buyer-42")
    assert entry["state"] == HandoffState.WAITING.value and entry["channel"] == "socketio"
    about = entry["summary"]
    assert about["customer"] == "Alex Buyer" and about["order"]["product"] == "Bluetooth earbuds"
    assert about["reason"] == "changed_mind" and about["bot_offered"] == "submit_request"
    assert about["transcript"][0] == {
        "who": "buyer",
        "text": "cancel 8100000000000002",
        "at": about["transcript"][0]["at"],
    }
    assert "cancellation_requests" in about["done"]
    _, again = run(ActionHumanHandoff(), hand_over_tracker())
    assert len(get_service().handoffs.queue()) == 1, "asking twice is one place in the queue"


def test_outside_the_hours_the_buyer_is_told_when_and_the_request_is_kept(monkeypatch):
    monkeypatch.setenv("HANDOFF_QUEUE", "on")
    now = datetime.now(timezone.utc)
    opens = (now.hour + 2) % 24  # a two-hour window that starts two hours from now
    monkeypatch.setenv("SUPPORT_HOURS", f"Mon-Sun {opens:02d}:00-{min(opens + 2, 24):02d}:00")
    _, messages = run(ActionHumanHandoff(), hand_over_tracker())
    assert "They're away now and back" in texts(messages) and f"{opens:02d}:00 UTC" in texts(messages)
    assert get_service().handoffs.live_handoff("buyer-42") is not None


def test_a_locked_buyer_is_queued_as_locked(monkeypatch):
    monkeypatch.setenv("HANDOFF_QUEUE", "on")
    run(ActionHumanHandoff(), hand_over_tracker({"customer_id": None, "verification_locked": True}))
    entry = get_service().handoffs.live_handoff("buyer-42")
    assert entry["trigger"] == "locked" and entry["summary"]["customer"] == "not verified"


def test_without_a_queue_no_person_is_promised(monkeypatch):
    monkeypatch.delenv("HANDOFF_QUEUE", raising=False)
    events, messages = run(ActionHumanHandoff(), hand_over_tracker())
    assert "no support agent reads it" in texts(messages)
    assert not any(event.get("event") == "pause" for event in events)
    assert get_service().handoffs.queue() == []


def fallback(text: str, timestamp: float) -> dict:
    return {"event": "user", "text": text, "timestamp": timestamp, "parse_data": {"intent": {"name": "nlu_fallback"}}}


def test_misunderstood_twice_in_a_row_goes_to_a_person(monkeypatch):
    monkeypatch.setenv("HANDOFF_QUEUE", "on")
    once = [fallback("blorp", 1)]
    clarified = [{"event": "action", "name": "action_clarify"}, {"event": "bot", "text": "Sorry?", "timestamp": 2}]
    twice = [fallback("blorp", 1), *clarified, fallback("zzzt", 3)]
    assert not misunderstood_before(once) and misunderstood_before(twice)
    assert not misunderstood_before([fallback("to the agent", 1), {"event": "resume"}, fallback("zzzt", 3)])
    assert not misunderstood_before([fallback("blorp", 1), fallback("zzzt", 3)]), "the bot never said it"
    _, first = run(ActionClarify(), hand_over_tracker(text="blorp", intent="nlu_fallback", events=once))
    assert "queue" not in texts(first)
    events, second = run(ActionClarify(), hand_over_tracker(text="zzzt", intent="nlu_fallback", events=twice))
    assert "still don't understand" in texts(second) and "queue" in texts(second)
    assert {"event": "pause", "timestamp": None} in events
    assert get_service().handoffs.live_handoff("buyer-42")["trigger"] == "misunderstood"


def test_unreadable_hours_in_the_environment_leave_the_queue_open():
    assert SupportHours.from_env({"SUPPORT_HOURS": "weekdays"}) is None
    assert SupportHours.from_env({"SUPPORT_HOURS": "Mon-Fri 09:00-17:00", "SUPPORT_TIMEZONE": "Mars/Base"}) is None
    assert SupportHours.from_env({}) is None


def test_ending_the_chat_takes_it_out_of_the_queue(monkeypatch):
    from actions.help_actions import ActionRestart

    monkeypatch.setenv("HANDOFF_QUEUE", "on")
    run(ActionHumanHandoff(), hand_over_tracker())
    events, messages = run(ActionRestart(), hand_over_tracker(text="/restart", intent="restart"))
    assert events == [{"event": "restart", "timestamp": None}] and messages == []
    assert get_service().handoffs.live_handoff("buyer-42") is None
    assert get_service().handoffs.queue() == []
