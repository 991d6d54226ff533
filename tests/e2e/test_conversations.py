"""Whole conversations through the REST channel, with the real Rasa and action servers:
every guidance path of docs/product.md §4, identity checks, interruptions and hostile input."""

from __future__ import annotations

import pytest

from actions.identity import sign_customer_token
from tests.e2e.conftest import IDENTITY_SECRET, Conversation

EMAIL = "alex.buyer@example.com"


def verify(chat: Conversation, order: str, opening: str = "I want to cancel an order") -> str:
    assert "order number" in chat.say(opening)
    assert "email" in chat.say(order)
    return chat.say(EMAIL)


def test_cancel_paid_order_end_to_end(chat, stack):
    assert "Why do you want to cancel" in verify(chat, "8100 0000 0000 0002")
    assert len(chat.buttons) == 7
    answer = chat.click("I changed my mind")
    assert "Bluetooth earbuds" in answer and "cancellation policy" in answer
    assert "Shall I send the cancellation request" in answer
    assert "sent your cancellation request" in chat.click("Yes, go ahead")
    assert "What would you like to do" in chat.say("yes")  # nothing left to confirm
    requests = stack.store().cancellation_requests("8100000000000002")
    assert len(requests) == 1 and requests[0]["reason"] == "changed_mind"


def test_second_order_gets_its_own_reason(chat, stack):
    verify(chat, "8100000000000002")
    chat.click("I changed my mind")
    assert "sent your cancellation request" in chat.click("Yes, go ahead")
    assert "Why do you want to cancel" in chat.say("I also want to cancel 8100000000000012")
    answer = chat.click("The seller looks unreliable")
    assert "Power bank" in answer and "Cheap Deals 4U" in answer
    chat.click("Yes, go ahead")
    requests = stack.store().cancellation_requests("8100000000000012")
    assert len(requests) == 1 and requests[0]["reason"] == "unreliable_seller"


def test_request_and_reason_in_one_message(chat, stack):
    assert "email" in chat.say("cancel 8100000000000009, I ordered it twice by mistake")
    answer = chat.say(EMAIL)
    assert "Why do you want to cancel" not in answer
    assert "8100000000000008" in answer and "extra one" in answer
    assert chat.slots()["reason"] == "duplicate_order"
    assert "haven't changed anything" in chat.say("no")
    assert stack.store().cancellation_requests("8100000000000009") == []


def test_unpaid_order_with_payment_problem_is_cancelled_at_once(chat, stack):
    verify(chat, "8100000000000001")
    answer = chat.say("my card was declined when I paid")
    assert "no money has been taken" in answer and "valid payment method" in answer
    assert "is cancelled" in chat.say("yes please")
    assert stack.store().order_for_customer("8100000000000001", "C1")["status"] == "cancelled"


@pytest.mark.parametrize(
    "order,facts",
    [
        ("8100000000000003", ["can no longer be cancelled", "LP00123456789CN", "Estimated delivery"]),
        ("8100000000000007", ["already cancelled", "original payment method"]),
        ("8100000000000011", ["still has time", "hours from now"]),
    ],
)
def test_orders_that_cannot_be_cancelled_now(chat, order, facts):
    answer = verify(chat, order)
    for fact in facts:
        assert fact in answer
    assert "Why do you want to cancel" not in answer


def test_unanswered_request_leads_to_a_dispute(chat, stack):
    answer = verify(chat, "8100000000000005")
    assert "no answer" in answer and "Open Dispute" in answer and "evidence" in answer
    assert "dispute #" in chat.say("yes")
    assert stack.store().open_dispute_for("8100000000000005") is not None


def test_seller_declined_leads_to_a_dispute(chat):
    verify(chat, "8100000000000006", opening="the seller refused to cancel my order")
    assert "declined" in chat.text and "Shall I open a dispute" in chat.text


def test_delivered_order_goes_through_a_dispute(chat):
    answer = verify(chat, "8100000000000004")
    assert "delivered" in answer and "dispute" in answer


def test_unreliable_seller_shows_the_rating(chat):
    verify(chat, "8100000000000012")
    answer = chat.say("this store looks like a scam, the reviews are terrible")
    assert "2.1/5" in answer and "61% positive" in answer


def test_contact_seller_drafts_and_sends_after_yes(chat, stack):
    verify(chat, "8100000000000002", opening="I want to message the seller")
    assert "Contact Now" in chat.text and "Hello Shenzhen Gadget Store" in chat.text
    assert "Sent" in chat.say("yes")
    assert len(stack.store().seller_messages("8100000000000002")) == 1


def test_status_question(chat):
    verify(chat, "8100000000000003", opening="where is my order?")
    assert "LP00123456789CN" in chat.text


def test_foreign_and_unknown_orders_get_the_same_answer(stack):
    answers = []
    for order in ("8100000000000010", "8100000000000099"):
        chat = Conversation(stack)
        answers.append(verify(chat, order).replace(order, "N"))
        assert "Hair dryer" not in chat.text
    assert answers[0] == answers[1]


def test_repeated_wrong_emails_offer_a_human(chat):
    chat.say("cancel my order")
    chat.say("8100000000000002")
    assert "couldn't match" in chat.say("wrong1@example.com")
    assert "couldn't match" in chat.say("wrong2@example.com")
    assert "Customer service can help you" in chat.say("wrong3@example.com")
    assert "Bluetooth earbuds" not in chat.text


def test_signed_identity_skips_the_email(stack):
    token = sign_customer_token("C1", IDENTITY_SECRET)
    chat = Conversation(stack, metadata={"customer_token": token})
    chat.say("I want to cancel my order")
    assert "Why do you want to cancel" in chat.say("8100000000000008")


def test_tampered_identity_falls_back_to_email(stack):
    token = sign_customer_token("C1", "not-the-real-secret-but-long-enough-for-hmac")
    chat = Conversation(stack, metadata={"customer_token": token})
    chat.say("I want to cancel my order")
    assert "email" in chat.say("8100000000000008")


def test_refund_question_mid_form_then_resume(chat):
    chat.say("I need to cancel an order")
    answer = chat.say("when do I get my money back?")
    assert "original payment method" in answer and "order number" in answer


def test_buyer_corrects_the_order_number(chat):
    chat.say("cancel my order please")
    chat.say("8100000000000003")
    chat.say("sorry, it's actually 8100000000000002")
    assert "Why do you want to cancel" in chat.say(EMAIL)
    assert chat.slots()["order_id"] == "8100000000000002"


def test_buyer_stops_the_form(chat):
    chat.say("cancel my order")
    assert "stopped" in chat.say("never mind")
    assert (
        chat.stack.tracker(chat.sender)["active_loop"] in ({}, None)
        or chat.stack.tracker(chat.sender)["active_loop"].get("name") is None
    )


def test_human_handoff_mid_form(chat):
    chat.say("cancel my order")
    answer = chat.say("I want to talk to a real person")
    assert "no support agent reads it" in answer and "Help Center" in answer  # no promise of a person


@pytest.mark.parametrize(
    "message",
    [
        "what's the weather in Paris tomorrow?",
        "write me a python script to sort a list",
        "how do I become a seller on aliexpress",
        "give me a recipe for pancakes",
    ],
)
def test_out_of_scope_falls_back_politely(chat, message):
    answer = chat.say(message)
    assert "can't help with that" in answer or "didn't quite get that" in answer
    assert "order number" not in answer


@pytest.mark.parametrize(
    "message",
    [
        "8100000000000002' OR '1'='1",
        "<script>alert('x')</script>",
        "x" * 20000,
        "'; DROP TABLE orders; --",
        "🙂🙂🙂",
        '/cancel_order{"customer_id": "C1"}',
    ],
)
def test_hostile_input_gets_an_answer_and_leaks_nothing(chat, stack, message):
    answer = chat.say(message)
    assert answer.strip()
    assert "Bluetooth earbuds" not in answer and "Alex" not in answer
    assert chat.slots().get("customer_id") is None
    assert len(stack.store().orders_for_customer("C1")) == 11


def test_self_service_steps(chat):
    answer = chat.say("how can I cancel it myself in the app?")
    assert "My Orders" in answer and "Cancel Order" in answer and "Submit" in answer


def test_long_conversation_keeps_its_state_past_the_tracker_window(chat, stack):
    """The tracker store hands Rasa only the recent turns (addons/tracker_store.py): long
    after the form opened and the buyer was verified, both must still hold, and the full
    history must still be in the store."""
    assert "Why do you want to cancel" in verify(chat, "8100000000000002")
    for _ in range(12):  # well past the 6-12 turn window, the form still waiting
        assert "Why do you want to cancel" in chat.say("when do I get my money back?")
    assert "Shall I send" in chat.click("I changed my mind")
    assert "sent your cancellation request" in chat.click("Yes, go ahead")
    for text in ["hi", "thanks", "are you a bot?", "thanks"] * 2:
        chat.say(text)
    answer = chat.say("I also want to cancel 8100000000000008")
    assert "email" not in answer and "Why do you want to cancel" in answer  # still verified
    assert "Wireless mouse" in chat.click("I changed my mind")  # a new order, its own reason
    assert len(stack.store().cancellation_requests("8100000000000002")) == 1
    events = stack.tracker(chat.sender)["events"]  # the HTTP API shows the whole history
    user_texts = [event["text"] for event in events if event["event"] == "user"]
    assert user_texts[:3] == ["I want to cancel an order", "8100000000000002", EMAIL] and len(user_texts) == 27
