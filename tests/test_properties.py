"""Property-based tests: any text, any order-number-like string, unicode and 100 kB inputs
go through the validators, the store and the rules without a crash or a leak."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa_sdk.executor import CollectingDispatcher

from actions.demo_data import open_demo_store
from actions.facts import OrderFacts, RequestFacts, SellerFacts
from actions.forms import ValidateOrderForm
from actions.guidance import Status
from actions.identity import normalise_email, normalise_order_id
from actions.vocabulary import Offer, Reason
from tests.conftest import NOW
from tests.support.rendered import guide_cancellation, guide_dispute
from tests.test_actions import make_tracker

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

order_like = st.one_of(
    st.text(alphabet="0123456789 -–.#", min_size=0, max_size=40),
    st.from_regex(r"\A8100[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\Z"),
    st.integers(min_value=0, max_value=10**20).map(str),
)
any_text = st.one_of(
    st.text(max_size=300),
    order_like,
    st.sampled_from(["' OR 1=1 --", "<script>alert(1)</script>", "${jndi:ldap://x}", "\x00\x01", "🙂" * 50]),
)


@PROPERTY_SETTINGS
@given(any_text)
def test_order_number_normaliser_returns_16_digits_or_nothing(text):
    result = normalise_order_id(text)
    assert result is None or re.fullmatch(r"\d{16}", result)


def test_order_number_normaliser_handles_100_kb():
    assert normalise_order_id("1" * 100_000) is None
    assert normalise_order_id("x" * 100_000 + " 8100000000000002") is None  # beyond what is read
    assert normalise_order_id("8100 0000 0000 0002 " + "x" * 100_000) == "8100000000000002"


@PROPERTY_SETTINGS
@given(any_text)
def test_email_normaliser_returns_an_address_or_nothing(text):
    result = normalise_email(text)
    assert result is None or ("@" in result and len(result) <= 400 and result == result.lower())


@pytest.fixture
def validator_db(db_env):
    return db_env


@PROPERTY_SETTINGS
@given(value=any_text, verified=st.booleans())
def test_order_validator_never_crashes_nor_leaks(validator_db, value, verified):
    slots = {"customer_id": "C1"} if verified else {}
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateOrderForm().validate_order_id(value, dispatcher, make_tracker(slots), {}))
    assert set(result) <= {"order_id", "customer_id", "pending_offer", "seller_message_draft", "email",
                           "verification_attempts", "verification_locked"}  # fmt: skip
    said = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "Hair dryer" not in said and "Sam" not in said


@PROPERTY_SETTINGS
@given(value=any_text)
def test_email_validator_never_verifies_a_wrong_address(validator_db, value):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"order_id": "8100000000000002"})
    result = asyncio.run(ValidateOrderForm().validate_email(value, dispatcher, tracker, {}))
    if result.get("customer_id"):
        assert normalise_email(value) == "alex.buyer@example.com"


@pytest.fixture
def any_input_store(order_db):
    """One database for all the examples (on each backend): only order 12 is written, once."""
    return open_demo_store(order_db, clock=lambda: NOW)


@PROPERTY_SETTINGS
@given(order_id=any_text, email=any_text, words=st.text(max_size=5000))
def test_store_treats_any_input_as_data(any_input_store, order_id, email, words):
    store = any_input_store
    assert store.owner_matches_email(order_id, email) is None or (
        email.strip().lower() == "alex.buyer@example.com" and order_id.startswith("81")
    )
    assert store.order_for_customer(order_id, "C1") is None or re.fullmatch(r"81000000000000\d\d", order_id)
    result = store.record_cancellation_request("8100000000000012", "changed_mind", words)
    again = store.record_cancellation_request("8100000000000012", "changed_mind", words)
    assert result.id == again.id and len(store.cancellation_requests("8100000000000012")) == 1
    assert len(store.cancellation_requests("8100000000000012")[0]["buyer_words"]) <= 2000


sellers = st.builds(
    SellerFacts,
    name=st.text(min_size=1, max_size=40),
    rating=st.floats(min_value=0, max_value=5),
    positive_feedback_pct=st.floats(min_value=0, max_value=100),
    store_opened_at=st.one_of(st.none(), st.just(NOW - timedelta(days=20)), st.just(NOW - timedelta(days=2000))),
    cancellation_policy=st.one_of(st.none(), st.text(max_size=200)),
    cancellation_deadline_hours=st.one_of(st.none(), st.integers(min_value=1, max_value=720)),
)
requests_ = st.one_of(
    st.none(),
    st.builds(
        RequestFacts,
        state=st.sampled_from(["pending", "approved", "declined"]),
        created_at=st.integers(min_value=0, max_value=400).map(lambda h: NOW - timedelta(hours=h)),
        responded_at=st.none(),
    ),
)
orders = st.builds(
    OrderFacts,
    order_id=st.from_regex(r"\A\d{16}\Z"),
    status=st.sampled_from(list(Status)),
    product=st.text(min_size=1, max_size=60),
    seller=sellers,
    placed_at=st.just(NOW - timedelta(days=3)),
    price=st.floats(min_value=0, max_value=10_000),
    estimated_delivery=st.one_of(st.none(), st.just(NOW + timedelta(days=9)), st.just(NOW - timedelta(days=1))),
    request=requests_,
    twin_order_ids=st.lists(st.from_regex(r"\A\d{16}\Z"), max_size=2).map(tuple),
    dispute_open=st.booleans(),
)


@PROPERTY_SETTINGS
@given(order=orders, reason=st.one_of(st.none(), st.sampled_from(list(Reason))))
def test_rules_always_answer_with_the_order_and_ask_before_writing(order, reason):
    for guidance in (guide_cancellation(order, reason, NOW), guide_dispute(order, reason, NOW)):
        assert order.order_id in guidance.message or order.product in guidance.message
        assert (guidance.offer is Offer.NONE) == (guidance.question is None)
        if order.status in (Status.SHIPPED, Status.CANCELLED):
            assert guidance.offer in (Offer.NONE, Offer.OPEN_DISPUTE)
        if order.dispute_open:
            assert guidance.offer is Offer.NONE


def test_huge_message_through_the_form_is_answered(validator_db):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateOrderForm().validate_order_id("a" * 100_000, dispatcher, make_tracker(), {}))
    assert result == {"order_id": None} and dispatcher.messages
