"""Every custom action, through rasa-sdk's Tracker and CollectingDispatcher, on a temp DB."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidateOrderForm
from actions.help_actions import (
    ActionAnswerPolicy,
    ActionAnswerRefund,
    ActionClarify,
    ActionHumanHandoff,
)
from actions.identity import IDENTITY_SECRET_ENV, sign_customer_token
from actions.order_actions import ActionConfirmOffer, ActionDeclineOffer, ActionGuideOrder
from actions.replies import render, say
from actions.service import get_service

ALEX_EMAIL = "alex.buyer@example.com"
PAUSED = render(say("verify.paused"))
LOCKED_ORDERS = render(say("verify.locked_orders"))
SECRET = "test-secret-for-signing-customer-tokens-0123456789"


def make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform_order_number",
    metadata: dict | None = None,
    ranking: list[dict] | None = None,
    sender: str = "buyer-1",
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [],
        "metadata": metadata or {},
    }
    base = {"verification_attempts": 0, "verification_locked": False}
    base.update(slots or {})
    return Tracker(
        sender,
        base,
        latest,
        [{"event": "user", "text": text, "metadata": metadata or {}}],
        False,
        None,
        {"name": "order_form"},
        "action_listen",
    )


def run(action, tracker: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return events, dispatcher.messages


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


@pytest.fixture(autouse=True)
def fresh_db(db_env, monkeypatch):
    monkeypatch.delenv(IDENTITY_SECRET_ENV, raising=False)
    return db_env


form = ValidateOrderForm()


def validate(slot: str, value: Any, tracker: Tracker) -> tuple[dict, str]:
    dispatcher = CollectingDispatcher()
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, texts(dispatcher.messages)


def required(tracker: Tracker) -> list[str]:
    return asyncio.run(form.required_slots(["order_id", "email", "reason"], CollectingDispatcher(), tracker, {}))


# --- the order form --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["8100000000000002", "8100 0000 0000 0002", "8100-0000-0000-0002", "it's #8100000000000002!"],
)
def test_order_number_is_normalised(typed):
    result, said = validate("order_id", typed, make_tracker())
    assert result["order_id"] == "8100000000000002" and said == ""


@pytest.mark.parametrize(
    "typed,hint",
    [
        ("81000000000002", "exactly 16 digits"),
        ("hello there", "16 digits"),
        ("", "16 digits"),
        ("<script>alert(1)</script>", "16 digits"),
        ("1" * 100_000, "exactly 16 digits"),
    ],
)
def test_malformed_order_number_is_explained(typed, hint):
    result, said = validate("order_id", typed, make_tracker())
    assert result == {"order_id": None} and hint in said


def with_history(tracker: Tracker, earlier_order: str, guided: bool) -> Tracker:
    """The tracker after an earlier turn about another order (guided or not), then this one."""
    tracker.events = [
        {"event": "user", "text": earlier_order},
        {"event": "slot", "name": "order_id", "value": earlier_order},
        {"event": "slot", "name": "reason", "value": "duplicate_order"},
        *tracker.events,
    ]
    if guided:
        tracker.slots["reason_used_for"] = earlier_order
    return tracker


VERIFIED = {"customer_id": "C1", "reason": "duplicate_order", "reason_text": "ordered twice"}


def test_another_order_after_guidance_gets_its_own_reason():
    tracker = with_history(
        make_tracker(VERIFIED, "also cancel 8100000000000008", "cancel_order"), "8100000000000009", True
    )
    result, _ = validate("order_id", "8100000000000008", tracker)
    assert result["order_id"] == "8100000000000008"
    assert result["reason"] is None and result["reason_text"] is None


def test_reason_belongs_to_its_order_however_long_the_conversation():
    """No events left from the first order (cut by the tracker window): the slot decides."""
    tracker = make_tracker({**VERIFIED, "reason_used_for": "8100000000000009"}, "8100000000000008")
    result, _ = validate("order_id", "8100000000000008", tracker)
    assert result["reason"] is None


@pytest.mark.parametrize("order", [["order_id", "reason"], ["reason", "order_id"]])
def test_whole_form_run_asks_the_next_order_for_its_own_reason(order):
    """As Rasa runs it: the form starts for order …12 with the reason used for …02 still set,
    and rasa-sdk validates both slots in turn, each seeing the other's result."""
    slots = {
        **VERIFIED,
        "order_id": "8100000000000012",
        "reason_used_for": "8100000000000002",
        "goal": "cancel",
    }
    tracker = make_tracker(slots, "I also want to cancel 8100000000000012", "cancel_order")
    candidates = {"order_id": "8100000000000012", "reason": "duplicate_order"}
    tracker.events += [{"event": "slot", "name": name, "value": candidates[name]} for name in order]
    domain = {"forms": {"order_form": {"required_slots": ["order_id", "email", "reason"]}}, "slots": {}}
    events = asyncio.run(form.run(CollectingDispatcher(), tracker, domain))
    assert slots_of(events)["reason"] is None


def test_reason_given_after_guidance_is_kept_for_the_next_order():
    """ "Also cancel another one, the seller is rude": the new reason comes before the number."""
    slots = {**VERIFIED, "order_id": "8100000000000009", "reason_used_for": "8100000000000009"}
    tracker = make_tracker(slots, "also another one, the seller never answers", "reason_seller_communication")
    result, _ = validate("reason", "seller_communication", tracker)
    assert result["reason"] == "seller_communication" and result["reason_used_for"] is None
    slots = {**slots, "reason": "seller_communication", "reason_used_for": None}
    result, _ = validate("order_id", "8100000000000008", make_tracker(slots, "8100000000000008"))
    assert "reason" not in result


def test_reason_left_from_a_handled_order_is_asked_again():
    slots = {**VERIFIED, "order_id": "8100000000000012"}
    tracker = make_tracker(slots, "also cancel 8100000000000012", "cancel_order")
    result, _ = validate("reason", "duplicate_order", with_history(tracker, "8100000000000002", True))
    assert result == {"reason": None, "reason_text": None}
    fresh = make_tracker(slots, "the seller looks like a scam", "reason_unreliable_seller")
    result, _ = validate("reason", "unreliable_seller", with_history(fresh, "8100000000000002", True))
    assert result["reason"] == "unreliable_seller"


def test_corrected_order_number_keeps_the_reason():
    tracker = with_history(make_tracker(VERIFIED, "sorry, it's 8100000000000008"), "8100000000000003", False)
    result, _ = validate("order_id", "8100000000000008", tracker)
    assert result["order_id"] == "8100000000000008" and "reason" not in result


def test_another_order_with_its_own_reason_keeps_the_new_reason():
    tracker = make_tracker(VERIFIED, "cancel 8100000000000008 too, changed my mind", "reason_changed_mind")
    result, _ = validate("order_id", "8100000000000008", with_history(tracker, "8100000000000009", True))
    assert "reason" not in result


def test_email_verifies_the_owner():
    tracker = make_tracker({"order_id": "8100000000000002"})
    result, said = validate("email", "Alex.Buyer@Example.com", tracker)
    assert result["customer_id"] == "C1" and said == ""


def test_foreign_and_unknown_orders_get_the_same_answer():
    foreign, said_foreign = validate("email", ALEX_EMAIL, make_tracker({"order_id": "8100000000000010"}))
    unknown, said_unknown = validate("email", ALEX_EMAIL, make_tracker({"order_id": "8100000000009999"}))
    assert "customer_id" not in foreign and "customer_id" not in unknown
    assert said_foreign.replace("8100000000000010", "N") == said_unknown.replace("8100000000009999", "N")


def test_verification_attempts_are_limited():
    for attempt in range(2):
        result, said = validate("email", f"guess{attempt}@example.com", make_tracker({"order_id": "8100000000000002"}))
        assert result["verification_attempts"] == attempt + 1 and "couldn't match" in said
    # the count is in the database: a tracker whose slots were reset (/restart) still counts
    result, said = validate("email", "guess2@example.com", make_tracker({"order_id": "8100000000000002"}))
    assert result["verification_locked"] is True and result["order_id"] is None
    assert said == ""  # the one lock message comes from the guidance step
    assert required(make_tracker({"verification_locked": True})) == []
    _, messages = run(ActionGuideOrder(), make_tracker({"verification_locked": True}))
    assert texts(messages) == LOCKED_ORDERS


def test_not_an_email_does_not_use_an_attempt():
    result, said = validate("email", "my email is alex at example", make_tracker({"order_id": "8100000000000002"}))
    assert result == {"email": None} and "doesn't look like an email" in said


def test_email_given_before_the_order_number_is_checked_with_it():
    tracker = make_tracker({"email": ALEX_EMAIL})
    result, _ = validate("order_id", "8100000000000002", tracker)
    assert result["customer_id"] == "C1"


def test_verified_buyer_cannot_see_another_customers_order():
    tracker = make_tracker({"customer_id": "C1"})
    result, said = validate("order_id", "8100000000000010", tracker)
    assert result == {"order_id": None} and "can't find order 8100000000000010" in said


def test_signed_identity_skips_the_email(monkeypatch):
    monkeypatch.setenv(IDENTITY_SECRET_ENV, SECRET)
    token = sign_customer_token("C1", SECRET)
    tracker = make_tracker({"order_id": "8100000000000002", "goal": "cancel"}, metadata={"customer_token": token})
    assert required(tracker) == ["order_id", "reason"]
    result, said = validate("order_id", "8100000000000002", tracker)
    assert result["order_id"] == "8100000000000002" and said == ""
    assert "customer_id" not in result  # the token proves it on every message: never stored


@pytest.mark.parametrize(
    "token", ["garbage", sign_customer_token("C1", "another-secret-that-is-long-enough-for-hs256"), ""]
)
def test_unsigned_or_tampered_identity_is_ignored(monkeypatch, token):
    monkeypatch.setenv(IDENTITY_SECRET_ENV, SECRET)
    tracker = make_tracker({"order_id": "8100000000000002"}, metadata={"customer_token": token})
    assert required(tracker) == ["order_id", "email"]


@pytest.mark.parametrize(
    "order_id,goal,expected",
    [
        ("8100000000000002", "cancel", ["order_id", "reason"]),
        ("8100000000000001", "cancel", ["order_id", "reason"]),
        ("8100000000000003", "cancel", ["order_id"]),
        ("8100000000000005", "cancel", ["order_id"]),
        ("8100000000000002", "status", ["order_id"]),
        ("8100000000000002", "contact_seller", ["order_id"]),
    ],
)
def test_reason_is_asked_only_when_it_matters(order_id, goal, expected):
    assert required(make_tracker({"order_id": order_id, "customer_id": "C1", "goal": goal})) == expected


def test_reason_keeps_the_buyers_words_not_button_payloads():
    typed, _ = validate("reason", "duplicate_order", make_tracker(text="oops I bought it twice"))
    assert typed == {"reason": "duplicate_order", "reason_text": "oops I bought it twice"}
    clicked, _ = validate("reason", "duplicate_order", make_tracker(text="/reason_duplicate_order"))
    assert clicked["reason_text"] == "I ordered it twice"


# --- guidance and confirmation -----------------------------------------------------------


def guide(order_id: str, goal: str = "cancel", reason: str | None = None):
    slots = {"order_id": order_id, "customer_id": "C1", "goal": goal, "reason": reason}
    return run(ActionGuideOrder(), make_tracker(slots))


@pytest.mark.parametrize(
    "order_id,reason,offer,facts",
    [
        (
            "8100000000000001",
            "payment_issue",
            "cancel_now",
            ["no money has been taken", "valid payment method"],
        ),
        (
            "8100000000000002",
            "changed_mind",
            "submit_request",
            ["Shenzhen Gadget Store", "24–48 hours", "cancellation policy"],
        ),
        ("8100000000000003", None, None, ["LP00123456789CN", "can no longer be cancelled"]),
        ("8100000000000004", None, "open_dispute", ["delivered", "Open Dispute"]),
        ("8100000000000005", None, "open_dispute", ["no answer", "ran out"]),
        ("8100000000000006", None, "open_dispute", ["declined", "already packed"]),
        ("8100000000000007", None, None, ["already cancelled", "$45.00", "original payment method"]),
        ("8100000000000008", "duplicate_order", "submit_request", ["8100000000000009", "extra one"]),
        ("8100000000000011", None, None, ["still has time", "hours from now"]),
        ("8100000000000012", "unreliable_seller", "submit_request", ["2.1/5", "61% positive"]),
        (
            "8100000000000012",
            "price_or_product_change",
            "send_seller_message",
            ["contact Cheap Deals 4U first"],
        ),
    ],
)
def test_guidance_for_every_demo_order(order_id, reason, offer, facts):
    events, messages = guide(order_id, reason=reason)
    said = texts(messages)
    for fact in facts:
        assert fact in said
    assert slots_of(events)["pending_offer"] == (f"{offer}:{order_id}" if offer else None)
    has_buttons = any(m.get("buttons") for m in messages)
    assert has_buttons == (offer is not None)


def test_guidance_never_shows_another_customers_order():
    events, messages = guide("8100000000000010")
    assert "Hair dryer" not in texts(messages) and slots_of(events)["order_id"] is None


def confirm(order_id: str, offer: str, goal: str = "cancel", reason: str | None = None, draft=None):
    slots = {
        "order_id": order_id,
        "customer_id": "C1",
        "goal": goal,
        "reason": reason,
        "reason_text": "my own words",
        "pending_offer": f"{offer}:{order_id}",
        "seller_message_draft": draft,
    }
    return run(ActionConfirmOffer(), make_tracker(slots, intent="affirm"))


def test_confirm_submits_the_request_once():
    events, messages = confirm("8100000000000002", "submit_request", reason="changed_mind")
    assert "sent your cancellation request" in texts(messages)
    assert slots_of(events)["pending_offer"] is None
    _, again = confirm("8100000000000002", "submit_request", reason="changed_mind")
    assert "didn't send it twice" in texts(again) and "changed since" not in texts(again)
    rows = get_service().store.cancellation_requests("8100000000000002")
    assert len(rows) == 1 and rows[0]["buyer_words"] == "my own words" and rows[0]["reason"] == "changed_mind"


def test_confirm_cancels_an_unpaid_order():
    _, messages = confirm("8100000000000001", "cancel_now", reason="payment_issue")
    assert "is cancelled" in texts(messages) and "new order" in texts(messages)
    order = get_service().store.order_for_customer("8100000000000001", "C1")
    assert order["status"] == "cancelled"


def test_confirm_sends_the_drafted_seller_message():
    _, guided = guide("8100000000000002", goal="contact_seller", reason="changed_mind")
    draft = guided[0]["text"].split("\n\n", 1)[1]
    _, messages = confirm("8100000000000002", "send_seller_message", goal="contact_seller", draft=draft)
    assert "Sent" in texts(messages)
    assert [m["body"] for m in get_service().store.seller_messages("8100000000000002")] == [draft]


def test_confirm_opens_a_dispute_only_when_eligible():
    _, messages = confirm("8100000000000005", "open_dispute", goal="dispute")
    assert "dispute #" in texts(messages)
    assert get_service().store.open_dispute_for("8100000000000005") is not None
    _, refused = confirm("8100000000000011", "open_dispute", goal="dispute")
    assert "didn't do that" in texts(refused)
    assert get_service().store.open_dispute_for("8100000000000011") is None


def test_yes_without_an_offer_changes_nothing():
    events, messages = run(ActionConfirmOffer(), make_tracker({"order_id": "8100000000000002"}, intent="affirm"))
    assert events == [] and "What would you like to do" in texts(messages)
    assert get_service().store.cancellation_requests("8100000000000002") == []


def test_no_keeps_the_order_as_it_is():
    events, messages = run(
        ActionDeclineOffer(),
        make_tracker(
            {"order_id": "8100000000000002", "pending_offer": "submit_request:8100000000000002"}, intent="deny"
        ),
    )
    assert "haven't changed anything" in texts(messages)
    assert slots_of(events)["pending_offer"] is None
    assert get_service().store.cancellation_requests("8100000000000002") == []


def test_store_outage_gets_a_clear_answer(monkeypatch):
    from actions import adapter
    from actions.store import StoreUnavailable

    def down():
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr(adapter, "get_service", down)
    events, messages = confirm("8100000000000002", "submit_request")
    assert "nothing was changed" in texts(messages) and events == []
    _, guided = guide("8100000000000002")
    assert [m.get("response") for m in guided] == ["utter_service_unavailable"]


# --- help actions ----------------------------------------------------------------------


def test_refund_answer_uses_the_order_when_known():
    _, messages = run(ActionAnswerRefund(), make_tracker({"order_id": "8100000000000007", "customer_id": "C1"}))
    assert "$45.00" in texts(messages)
    _, general = run(ActionAnswerRefund(), make_tracker())
    assert "original payment method" in texts(general)


def test_policy_answer_quotes_the_seller():
    _, messages = run(ActionAnswerPolicy(), make_tracker({"order_id": "8100000000000005", "customer_id": "C1"}))
    assert "Cheap Deals 4U's cancellation policy" in texts(messages)
    _, general = run(ActionAnswerPolicy(), make_tracker())
    assert "Each seller sets their own" in texts(general)


def test_handoff_stops_the_form():
    events, messages = run(ActionHumanHandoff(), make_tracker({"order_id": "8100000000000002"}))
    assert "nobody would answer you here" in texts(messages) and "will reply" not in texts(messages)
    assert "about order 8100000000000002" in texts(messages)
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)


def test_clarify_offers_the_closest_reasons():
    ranking = [
        {"name": "reason_shipping_delay", "confidence": 0.41},
        {"name": "reason_seller_communication", "confidence": 0.38},
        {"name": "greet", "confidence": 0.1},
    ]
    _, messages = run(ActionClarify(), make_tracker(intent="nlu_fallback", ranking=ranking))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/reason_shipping_delay", "/reason_seller_communication", "/human_handoff"]


def test_clarify_without_reasons_offers_the_main_topics():
    _, messages = run(
        ActionClarify(), make_tracker(intent="nlu_fallback", ranking=[{"name": "greet", "confidence": 0.3}])
    )
    assert "/cancel_order" in [b["payload"] for b in messages[0]["buttons"]]


def test_guidance_marks_the_reason_as_used_for_its_order():
    events, _ = guide("8100000000000012", reason="unreliable_seller")
    assert slots_of(events)["reason_used_for"] == "8100000000000012"
    events, _ = guide("8100000000000003")
    assert slots_of(events)["reason_used_for"] is None


def test_locked_conversation_still_answers_and_offers_a_human():
    slots = {"order_id": None, "verification_locked": True, "goal": "cancel"}
    events, messages = run(ActionGuideOrder(), make_tracker(slots))
    assert "can't look up orders" in texts(messages)
    assert messages[0]["buttons"][0]["payload"] == "/human_handoff"
    assert slots_of(events)["pending_offer"] is None


def test_guessing_emails_across_conversations_is_paused():
    from actions.service import GUESSING_LIMIT

    for attempt in range(GUESSING_LIMIT):
        tracker = make_tracker({"order_id": "8100000000000002"}, sender=f"stranger-{attempt}")
        result, _ = validate("email", f"guess{attempt}@example.com", tracker)
        assert "customer_id" not in result
    # a fresh conversation, even with the right email, is not checked for a while
    owner = make_tracker({"order_id": "8100000000000002"}, sender="owner")
    result, said = validate("email", ALEX_EMAIL, owner)
    assert "customer_id" not in result and result["order_id"] is None
    assert said == PAUSED and "verification_locked" not in result
    # other orders are not affected
    other, _ = validate("email", ALEX_EMAIL, make_tracker({"order_id": "8100000000000003"}, sender="owner"))
    assert other["customer_id"] == "C1"


def test_clarification_buttons_come_from_the_messages_own_likely_intents():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "check_order_status", "confidence": 0.40},
        {"name": "reason_shipping_delay", "confidence": 0.30},
        {"name": "inform_order_number", "confidence": 0.20},
        {"name": "reason_duplicate_order", "confidence": 0.01},
    ]
    _, messages = run(
        ActionClarify(), make_tracker(text="where's my thing, late", intent="nlu_fallback", ranking=ranking)
    )
    titles = [button["title"] for button in messages[0]["buttons"]]
    assert titles == ["Where is my order?", "Shipping takes too long", "Talk to a person"]


def test_an_unsure_message_with_an_order_number_starts_the_form_with_it():
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "check_order_status", "confidence": 0.4}]
    tracker = make_tracker(text="status 8100-0000-0000-0003", intent="nlu_fallback", ranking=ranking)
    events, messages = run(ActionClarify(), tracker)
    assert messages == []
    assert slots_of(events) == {"order_id": "8100000000000003", "goal": "status"}
    assert events[-1] == {"event": "followup", "name": "order_form", "timestamp": events[-1].get("timestamp")}


def test_how_to_cancel_with_an_order_number_gives_the_steps_and_does_it():
    from actions.help_actions import ActionHowToCancel

    events, messages = run(
        ActionHowToCancel(), make_tracker(text="I don't know how to cancel purchase 8100 0000 0000 0003")
    )
    assert messages[0]["response"] == "utter_how_to_cancel" and "8100000000000003" in texts(messages)
    assert slots_of(events) == {"order_id": "8100000000000003", "goal": "cancel"}
    assert events[-1]["name"] == "order_form"
    events, messages = run(ActionHowToCancel(), make_tracker(text="how do I cancel an order on the app?"))
    assert events == [] and [m["response"] for m in messages] == ["utter_how_to_cancel"]
