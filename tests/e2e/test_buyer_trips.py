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


def test_another_order_asks_which_with_the_buyers_open_orders(stack):
    """Old: "I want to cancel another order" repeated the first order's status word for word."""
    chat = signed_in(stack)
    assert "Phone case" in chat.say("where is order 8100000000000003")
    answer = chat.say("I want to cancel another order")
    assert "Phone case" not in answer and "Which order" in answer
    titles = [button["title"] for button in chat.buttons]
    assert "Backpack (8100000000000011)" in titles
    assert not any("8100000000000004" in title or "8100000000000007" in title for title in titles)  # closed
    assert "already asked" in chat.click("Backpack (8100000000000011)")  # its request is pending
    assert chat.slots()["order_id"] == "8100000000000011"


def test_an_unverified_buyer_is_asked_for_the_number_without_a_list(chat):
    chat.say("where is order 8100000000000003")
    chat.say("alex.buyer@example.com")
    chat.say("/session_start")  # a new session: nothing proven any more
    answer = chat.say("I want to cancel another order")
    assert "16 digits" in answer and not chat.buttons


def test_order_numbers_in_other_shapes_are_taken_up(stack):
    """Old: these fell to the fallback, whose buttons were "I ordered it twice / Talk to a person"."""
    for text in ("check order 8100-0000 0000-0003", "status 8100-0000-0000-0003"):
        chat = signed_in(stack)
        answer = chat.say(text)
        assert "Phone case" in answer and "shipped" in answer, (text, answer)


def test_a_number_of_the_wrong_length_is_explained(stack):
    """Old: "cancel 1234" was asked for an order number as if none had been given."""
    for text in ("cancel 1234", "cancel order 81000000000"):
        chat = signed_in(stack)
        assert "16 digits" in chat.say(text), text


def test_a_second_hello_gets_a_short_answer_with_the_main_choices(chat):
    first = chat.say("hi")
    assert "order assistant" in first and len(chat.buttons) == 4
    second = chat.say("hello")
    assert second != first and "order assistant" not in second
    assert [button["title"] for button in chat.buttons][:2] == ["Cancel an order", "Where is my order?"]


def test_an_off_topic_reply_to_a_question_asks_it_again_briefly(stack):
    chat = signed_in(stack)
    offer = chat.say("cancel 8100000000000002, I changed my mind")
    assert "Shall I send the cancellation request" in offer
    answer = chat.say("what's the weather like tomorrow")
    assert "Shall I still send the cancellation request for order 8100000000000002?" in answer
    assert "cancellation policy" not in answer  # not the whole offer again
    assert [button["title"] for button in chat.buttons][-2:] == ["Yes, go ahead", "No, thanks"]
    assert "sent your cancellation request" in chat.say("yes")


def test_thanks_in_the_middle_of_a_question_is_acknowledged_plainly(chat):
    chat.say("I want to cancel my order")
    answer = chat.say("thanks")
    assert "Sure, let's do that" not in answer and "welcome" in answer and "order number" in answer
