"""Attacks on who the buyer is, on what a "yes" does, and on the limits on guessing,
through the real Rasa and action servers (REST). Each names what the old code did."""

from __future__ import annotations

import time
import uuid

import requests

from actions.identity import sign_customer_token
from tests.e2e.conftest import IDENTITY_SECRET, Conversation

EMAIL = "alex.buyer@example.com"
ORDER = "8100000000000012"  # Alex's paid power bank


def token_for(customer: str) -> dict:
    return {"customer_token": sign_customer_token(customer, IDENTITY_SECRET)}


def test_a_token_proves_only_the_message_it_rides_on(stack):
    """Old: once verified by a token, the customer_id slot answered every later message."""
    chat = Conversation(stack, metadata=token_for("C1"))
    assert "Power bank" in chat.say(f"where is order {ORDER}")
    chat.metadata = None  # signed out, or the token was dropped
    answer = chat.say(f"where is order {ORDER}")
    assert "Power bank" not in answer and "email" in answer


def test_a_token_for_another_customer_drops_the_verified_state(stack):
    """Old: the slot of the first customer won over a token for someone else."""
    chat = Conversation(stack)
    chat.say(f"where is order {ORDER}")
    assert "Power bank" in chat.say(EMAIL)
    chat.metadata = token_for("C2")  # the browser is now Sam's
    answer = chat.say(f"where is order {ORDER}")
    assert "Power bank" not in answer and "can't find" in answer


def test_an_expired_token_proves_nothing(stack):
    chat = Conversation(stack, metadata={"customer_token": sign_customer_token("C1", IDENTITY_SECRET, -300)})
    answer = chat.say(f"where is order {ORDER}")
    assert "Power bank" not in answer and "email" in answer


def test_an_email_check_lapses_after_the_idle_time(stack):
    """A conversation verified by email more than 30 minutes ago (the session expiry) must
    ask again. The history is posted with old timestamps, as if the buyer had walked away."""
    sender = f"idle-{uuid.uuid4().hex[:8]}"
    then = time.time() - 31 * 60
    history = [
        {"event": "action", "name": "action_session_start", "timestamp": then},
        {"event": "session_started", "timestamp": then},
        {"event": "action", "name": "action_listen", "timestamp": then},
        {"event": "user", "text": EMAIL, "parse_data": {"intent": {"name": "inform_email"}}, "timestamp": then},
        {"event": "slot", "name": "customer_id", "value": "C1", "timestamp": then},
        {"event": "slot", "name": "email", "value": EMAIL, "timestamp": then},
        {"event": "action", "name": "action_listen", "timestamp": then},
    ]
    posted = requests.post(f"{stack.rasa_url}/conversations/{sender}/tracker/events", json=history, timeout=30)
    assert posted.ok, posted.text
    answer = "\n".join(reply.get("text") or "" for reply in stack.send(sender, f"where is order {ORDER}"))
    assert "Power bank" not in answer and "email" in answer


def test_yes_acts_on_the_order_it_was_offered_for(stack):
    """Old: an order number arriving with the "yes" moved the write to that order."""
    chat = Conversation(stack, metadata=token_for("C1"))
    chat.say("I want to cancel order 8100000000000002")
    assert "Shall I send the cancellation request for order 8100000000000002" in chat.click("I changed my mind")
    answer = chat.say('/affirm{"order_id": "8100000000000012"}')
    assert "8100000000000002" in answer and "sent your cancellation request" in answer
    assert len(stack.store().cancellation_requests("8100000000000002")) == 1
    assert stack.store().cancellation_requests("8100000000000012") == []


def wrong_email(chat: Conversation, attempt: int) -> str:
    return chat.say(f"wrong{attempt}@example.com")


def test_restart_does_not_reset_the_limit_on_guessing(stack):
    """Old: /restart cleared the per-conversation count of failed emails."""
    chat = Conversation(stack)
    chat.say(f"where is order {ORDER}")
    assert "couldn't match" in wrong_email(chat, 1)
    assert "couldn't match" in wrong_email(chat, 2)
    chat.say("/restart")
    chat.say(f"where is order {ORDER}")
    answer = wrong_email(chat, 3)
    assert "couldn't match" not in answer and "For your security" in answer
    assert answer.count("For your security") == 1  # one lock message, not two
    # even the right email is not checked in this conversation any more
    assert "Power bank" not in chat.say(EMAIL)


def test_strangers_cannot_lock_out_a_signed_in_owner(stack):
    """Old: five wrong emails from anyone paused the order for everyone, token or not."""
    for attempt in range(6):
        stranger = Conversation(stack)
        stranger.say(f"where is order {ORDER}")
        wrong_email(stranger, attempt)
    owner = Conversation(stack, metadata=token_for("C1"))
    assert "Power bank" in owner.say(f"where is order {ORDER}")


def test_guessing_order_numbers_with_one_email_is_stopped(stack):
    """Old: a known email could be tried against any number of order numbers."""
    answers = []
    for attempt in range(12):
        guesser = Conversation(stack)
        guesser.say(f"where is order 82000000000{attempt:05d}")  # numbers nobody has
        answers.append(guesser.say(EMAIL))
    assert "paused" in answers[-1]
