"""What a buyer trips over (issue 13), end to end through the REST channel."""

from __future__ import annotations

from actions.identity import sign_customer_token
from tests.e2e.conftest import IDENTITY_SECRET, Conversation


def signed_in(stack) -> Conversation:
    return Conversation(stack, metadata={"customer_token": sign_customer_token("C1", IDENTITY_SECRET)})


def test_both_duplicates_are_never_left_with_a_pending_cancellation(stack):
    """Old: cancelling ...009 and then ...008 for the same reason requested both."""
    chat = signed_in(stack)
    assert "Shall I send" in chat.say("cancel 8100000000000009, I ordered it twice")
    assert "sent your cancellation request" in chat.say("yes")
    answer = chat.say("also cancel 8100000000000008, I ordered it twice")
    assert "already being cancelled" in answer and "the one you keep" in answer
    assert "as well" in answer
    assert "haven't changed anything" in chat.say("no")
    store = stack.store()
    assert len(store.cancellation_requests("8100000000000009")) == 1
    assert store.cancellation_requests("8100000000000008") == []


def test_the_buyer_may_insist_on_cancelling_both(stack):
    chat = signed_in(stack)
    chat.say("cancel 8100000000000009, I ordered it twice")
    chat.say("yes")
    assert "as well" in chat.say("cancel 8100000000000008, I ordered it twice")
    assert "sent your cancellation request" in chat.say("yes")
    assert len(stack.store().cancellation_requests("8100000000000008")) == 1
