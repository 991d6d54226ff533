"""What a buyer trips over (issue 13), end to end through the REST channel."""

from __future__ import annotations

import pytest

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


# --- the message to the seller in the buyer's own words (item 3) ---------------------------


def shown_message(chat: Conversation) -> str:
    """The message to the seller as the buyer was shown it: the replies between "Here is …"
    and the question (Rasa's channels show each paragraph as its own bubble)."""
    texts = [reply.get("text") or "" for reply in chat.replies]
    starts = [index for index, text in enumerate(texts) if text.startswith("Here is")]
    assert starts, f"no message to the seller shown in {chat.text!r}"
    shown = []
    for text in texts[starts[-1] + 1 :]:
        if text.startswith("Shall I send"):
            return "\n\n".join(shown)
        shown.append(text)
    raise AssertionError(f"no question after the message in {chat.text!r}")


def sent_bodies(stack, order_id: str) -> list[str]:
    return [row["body"] for row in stack.store().seller_messages(order_id)]


def test_the_buyer_adds_a_line_and_exactly_the_shown_message_is_sent(stack):
    """Old: "add that I need it before Christmas" got "Sorry, I can't help with that"."""
    chat = signed_in(stack)
    chat.say("I want to contact the seller of order 8100000000000002")
    first = shown_message(chat)
    assert [button["title"] for button in chat.buttons] == ["Yes, go ahead", "Write my own", "No, thanks"]
    chat.say("add that I need it before Christmas")
    edited = shown_message(chat)
    assert edited.startswith(first.rsplit("\nThank you.", 1)[0]) and "I need it before Christmas." in edited
    assert sent_bodies(stack, "8100000000000002") == [], "nothing is sent before the yes"
    assert "Sent" in chat.say("yes")
    assert sent_bodies(stack, "8100000000000002") == [edited]


def test_the_buyer_writes_the_whole_message(stack):
    chat = signed_in(stack)
    chat.say("contact the seller of 8100000000000003")
    assert "Type your message" in chat.click("Write my own")
    typed = "Hi! Could you tell me when it will arrive? I'm away from the 20th.\nThanks, Alex"
    chat.say(typed)
    shown = shown_message(chat)
    assert typed in shown and "8100000000000003" in shown
    assert "Shall I send it" in chat.text
    chat.say("yes")
    assert sent_bodies(stack, "8100000000000003") == [shown]


def test_words_for_the_seller_in_the_first_message(stack):
    """Old: "send this to the seller of order …: could you ship it before Christmas?" sent the fixed text."""
    chat = signed_in(stack)
    chat.say("send this to the seller of order 8100000000000002: could you ship it before Christmas?")
    shown = shown_message(chat)
    assert "Could you ship it before Christmas?" in shown and "Could you please cancel" not in shown
    chat.say("yes")
    assert sent_bodies(stack, "8100000000000002") == [shown]


@pytest.mark.parametrize(
    "request_with_question,question",
    [
        # Issue 15: these used to be trained as a plain "contact the seller" and the question was lost.
        (
            "could you contact the shop and ask if they can send it in a bigger box",
            "Could you tell me if you can send it in a bigger box?",
        ),
        ("i need to ask the seller if the charger has an EU plug", "Could you tell me if the charger has an EU plug?"),
    ],
)
def test_a_request_to_contact_the_seller_keeps_the_buyers_question(stack, request_with_question, question):
    chat = signed_in(stack)
    chat.say("I want to contact the seller of order 8100000000000002")
    chat.say(request_with_question)
    shown = shown_message(chat)
    assert question in shown
    chat.say("yes")
    assert sent_bodies(stack, "8100000000000002") == [shown]


def test_a_sentence_to_the_seller_with_the_draft_open_becomes_the_message(stack):
    """Old: "Please tell me when you will ship it" dropped the draft and showed the order status."""
    chat = signed_in(stack)
    chat.say("message the seller about order 8100000000000002")
    chat.say("Please tell me when you will ship it")
    assert "Please tell me when you will ship it." in shown_message(chat)


def test_leaving_write_my_own_keeps_the_draft_and_sends_nothing(stack):
    chat = signed_in(stack)
    chat.say("contact the seller of order 8100000000000002")
    first = shown_message(chat)
    chat.click("Write my own")
    answer = chat.say("no")
    assert "stays as it was" in answer and "Shall I send it" in answer
    assert "haven't changed anything" in chat.say("no")
    assert sent_bodies(stack, "8100000000000002") == []
    chat.say("contact the seller of order 8100000000000002")
    assert shown_message(chat) == first, "a dropped message leaves nothing behind"


def test_an_unverified_buyer_proves_who_they_are_before_any_words_reach_a_seller(chat, stack):
    chat.say("send this to the seller of order 8100000000000010: please cancel it")
    assert "email" in chat.text and "8100000000000010" not in chat.text
    chat.say("alex.buyer@example.com")  # not the owner of ...010
    assert "Hello" not in chat.text and sent_bodies(stack, "8100000000000010") == []


def test_a_message_over_the_limit_is_refused_and_the_buyer_asked_again(stack):
    chat = signed_in(stack)
    chat.say("contact the seller of order 8100000000000002")
    chat.click("Write my own")
    letter = "Could you please ship it in a bigger box? The last one arrived damaged. " * 20  # 1,480 characters
    assert "up to 1000" in chat.say(letter)
    assert "Shall I send" not in chat.text
    chat.say("Short and clear.")
    assert "Short and clear." in shown_message(chat)


def test_the_refund_of_a_delivered_order_in_dispute_is_the_disputes(stack):
    """Found as a French buyer in Chromium: right after the dispute was opened, "how long does
    the refund take" got "this order isn't cancelled … after the cancellation is confirmed"."""
    chat = signed_in(stack)
    chat.say("the seller of order 8100000000000004 never answers me")
    chat.say("yes")
    assert stack.store().open_dispute_for("8100000000000004") is not None
    answer = chat.say("how long will my refund take?")
    assert "dispute is open" in answer and "cancellation is confirmed" not in answer, answer
