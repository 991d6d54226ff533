"""The guidance rules as a table: order state × reason → path, offer and key facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from actions.facts import OrderFacts, RequestFacts, SellerFacts
from actions.guidance import Path, Status, needs_reason
from actions.vocabulary import Offer, Reason
from tests.support.rendered import (
    describe_status,
    draft_seller_message,
    guide_cancellation,
    guide_contact_seller,
    guide_dispute,
    refund_explanation,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)

GOOD_SELLER = SellerFacts(
    name="Shenzhen Gadget Store",
    rating=4.8,
    positive_feedback_pct=96,
    store_opened_at=NOW - timedelta(days=6 * 365),
    cancellation_policy="Orders can be cancelled free of charge at any time before they ship.",
)
BAD_SELLER = SellerFacts(
    name="Cheap Deals 4U",
    rating=2.1,
    positive_feedback_pct=61,
    store_opened_at=NOW - timedelta(weeks=3),
    cancellation_policy="Cancellation requests are accepted only within 24 hours of payment.",
    cancellation_deadline_hours=24,
)


def make_order(status: Status, **changes) -> OrderFacts:
    base = OrderFacts(
        order_id="8100000000000002",
        status=status,
        product="Bluetooth earbuds",
        seller=GOOD_SELLER,
        placed_at=NOW - timedelta(days=1),
        price=23.5,
        paid_at=None if status is Status.AWAITING_PAYMENT else NOW - timedelta(days=1),
        estimated_delivery=NOW + timedelta(days=18),
    )
    return replace(base, **changes)


def pending(hours_ago: float) -> RequestFacts:
    return RequestFacts(state="pending", created_at=NOW - timedelta(hours=hours_ago))


DECLINED = RequestFacts(
    state="declined",
    created_at=NOW - timedelta(days=2),
    responded_at=NOW - timedelta(days=1),
    seller_note="The parcel is already packed",
)

ALL_REASONS: list[Reason | None] = [None, *Reason]

# (state, request, reason or "any", expected path, expected offer)
CANCELLATION_TABLE = [
    (Status.AWAITING_PAYMENT, None, "any", Path.CANCEL_NOW, Offer.CANCEL_NOW),
    (Status.AWAITING_SHIPMENT, None, None, Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
    (Status.AWAITING_SHIPMENT, None, Reason.CHANGED_MIND, Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
    (
        Status.AWAITING_SHIPMENT,
        None,
        Reason.SELLER_COMMUNICATION,
        Path.REQUEST_CANCELLATION,
        Offer.SUBMIT_REQUEST,
    ),
    (Status.AWAITING_SHIPMENT, None, Reason.PAYMENT_ISSUE, Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
    (Status.AWAITING_SHIPMENT, None, Reason.SHIPPING_DELAY, Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
    (
        Status.AWAITING_SHIPMENT,
        None,
        Reason.PRICE_OR_PRODUCT_CHANGE,
        Path.CONTACT_SELLER,
        Offer.SEND_SELLER_MESSAGE,
    ),
    (Status.AWAITING_SHIPMENT, None, Reason.DUPLICATE_ORDER, Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
    (
        Status.AWAITING_SHIPMENT,
        None,
        Reason.UNRELIABLE_SELLER,
        Path.REQUEST_CANCELLATION,
        Offer.SUBMIT_REQUEST,
    ),
    (Status.AWAITING_SHIPMENT, pending(6), "any", Path.WAIT_FOR_SELLER, Offer.NONE),
    (Status.AWAITING_SHIPMENT, pending(72), "any", Path.OPEN_DISPUTE, Offer.OPEN_DISPUTE),
    (Status.AWAITING_SHIPMENT, DECLINED, "any", Path.OPEN_DISPUTE, Offer.OPEN_DISPUTE),
    (Status.SHIPPED, None, "any", Path.NOT_CANCELLABLE, Offer.NONE),
    (Status.DELIVERED, None, "any", Path.DISPUTE_AFTER_DELIVERY, Offer.OPEN_DISPUTE),
    (Status.CANCELLED, None, "any", Path.ALREADY_CANCELLED, Offer.NONE),
]


def expand(table):
    for status, request, reason, path, offer in table:
        reasons = ALL_REASONS if reason == "any" else [reason]
        for each in reasons:
            yield pytest.param(
                status,
                request,
                each,
                path,
                offer,
                id=f"{status.value}-{request.state if request else 'no_request'}-"
                f"{each.value if each else 'no_reason'}",
            )


@pytest.mark.parametrize("status,request_facts,reason,path,offer", list(expand(CANCELLATION_TABLE)))
def test_cancellation_path_by_state_and_reason(status, request_facts, reason, path, offer):
    order = make_order(status, request=request_facts)
    guidance = guide_cancellation(order, reason, NOW)
    assert guidance.path is path
    assert guidance.offer is offer
    assert order.order_id in guidance.message
    assert (guidance.question is not None) == (offer is not Offer.NONE)


@pytest.mark.parametrize(
    "age,path",
    [
        (timedelta(hours=47, minutes=59), Path.WAIT_FOR_SELLER),
        (timedelta(hours=48), Path.OPEN_DISPUTE),
        (timedelta(hours=48, seconds=1), Path.OPEN_DISPUTE),
        (timedelta(0), Path.WAIT_FOR_SELLER),
    ],
)
def test_48_hour_boundary(age, path):
    order = make_order(Status.AWAITING_SHIPMENT, request=RequestFacts("pending", NOW - age))
    assert guide_cancellation(order, None, NOW).path is path
    assert guide_dispute(order, None, NOW).path is path


def test_pending_request_says_when_the_seller_time_runs_out():
    order = make_order(Status.AWAITING_SHIPMENT, request=pending(6))
    guidance = guide_cancellation(order, None, NOW)
    assert "Mon 30 Nov 2026, 06:00 UTC" in guidance.message
    assert "42 hours" in guidance.message
    assert guidance.facts["deadline"] == NOW + timedelta(hours=42)


def test_expired_request_lists_dispute_evidence():
    order = make_order(Status.AWAITING_SHIPMENT, request=pending(72))
    guidance = guide_cancellation(order, Reason.SELLER_COMMUNICATION, NOW)
    assert "Open Dispute" in guidance.message
    assert "never answered" in guidance.message
    assert "unanswered messages" in guidance.message


def test_declined_request_quotes_the_seller_and_asks_for_screenshot():
    order = make_order(Status.AWAITING_SHIPMENT, request=DECLINED)
    guidance = guide_cancellation(order, None, NOW)
    assert "declined" in guidance.message
    assert "already packed" in guidance.message
    assert "screenshot of the seller's refusal" in guidance.message


def test_unpaid_with_payment_problem_suggests_new_order():
    guidance = guide_cancellation(make_order(Status.AWAITING_PAYMENT), Reason.PAYMENT_ISSUE, NOW)
    assert "no money has been taken" in guidance.message
    assert "new order" in guidance.message and "valid payment method" in guidance.message


def test_unpaid_without_payment_problem_does_not_talk_about_new_order():
    guidance = guide_cancellation(make_order(Status.AWAITING_PAYMENT), Reason.CHANGED_MIND, NOW)
    assert "new order" not in guidance.message


def test_request_quotes_the_seller_policy_and_answer_time():
    order = make_order(Status.AWAITING_SHIPMENT, seller=BAD_SELLER)
    guidance = guide_cancellation(order, Reason.CHANGED_MIND, NOW)
    assert "accepted only within 24 hours of payment" in guidance.message
    assert "24–48 hours" in guidance.message
    assert "Cheap Deals 4U" in guidance.question


def test_unreliable_seller_shows_rating_and_store_age():
    order = make_order(Status.AWAITING_SHIPMENT, seller=BAD_SELLER)
    message = guide_cancellation(order, Reason.UNRELIABLE_SELLER, NOW).message
    assert "2.1/5" in message and "61% positive" in message and "3 weeks ago" in message
    assert "before it ships" in message


@pytest.mark.parametrize(
    ("age", "said"),
    [
        (timedelta(days=3), "opened only this week"),
        (timedelta(days=8), "1 week ago"),
        (timedelta(weeks=5), "5 weeks ago"),
    ],
)
def test_a_new_stores_age_reads_as_a_person_would_say_it(age, said):
    seller = replace(BAD_SELLER, store_opened_at=NOW - age)
    message = guide_cancellation(
        make_order(Status.AWAITING_SHIPMENT, seller=seller), Reason.UNRELIABLE_SELLER, NOW
    ).message
    assert said in message and "0 week" not in message


def test_shipping_delay_shows_estimate_and_faster_seller():
    message = guide_cancellation(make_order(Status.AWAITING_SHIPMENT), Reason.SHIPPING_DELAY, NOW).message
    assert "16 Dec 2026" in message
    assert "faster shipping" in message


def test_duplicate_names_the_twin_order():
    order = make_order(Status.AWAITING_SHIPMENT, twin_order_ids=("8100000000000009",))
    message = guide_cancellation(order, Reason.DUPLICATE_ORDER, NOW).message
    assert "8100000000000009" in message and "extra one" in message


def test_duplicate_without_twin_warns_the_buyer():
    message = guide_cancellation(make_order(Status.AWAITING_SHIPMENT), Reason.DUPLICATE_ORDER, NOW).message
    assert "couldn't find a second order" in message


def test_changed_mind_advises_cancelling_over_keeping():
    message = guide_cancellation(make_order(Status.AWAITING_SHIPMENT), Reason.CHANGED_MIND, NOW).message
    assert "better than receiving an item you don't want" in message


def test_price_change_contacts_the_seller_first():
    guidance = guide_cancellation(make_order(Status.AWAITING_SHIPMENT), Reason.PRICE_OR_PRODUCT_CHANGE, NOW)
    assert "contact Shenzhen Gadget Store first" in guidance.message
    assert "cancel the order" in guidance.message


def test_shipped_shows_tracking_and_estimate():
    order = make_order(
        Status.SHIPPED,
        shipped_at=NOW - timedelta(days=5),
        tracking_number="LP00123456789CN",
        estimated_delivery=NOW + timedelta(days=14),
    )
    message = guide_cancellation(order, Reason.CHANGED_MIND, NOW).message
    assert "can no longer be cancelled" in message
    assert "LP00123456789CN" in message and "12 Dec 2026" in message
    assert "dispute" in message


def test_delivered_goes_through_a_dispute_with_photos():
    order = make_order(Status.DELIVERED, delivered_at=NOW - timedelta(days=3))
    guidance = guide_cancellation(order, None, NOW)
    assert "25 Nov 2026" in guidance.message
    assert "photos" in guidance.message


def test_cancelled_explains_the_refund():
    order = make_order(Status.CANCELLED, cancelled_at=NOW - timedelta(days=2), refund_status="in_progress")
    message = guide_cancellation(order, None, NOW).message
    assert "$23.50" in message and "in progress" in message
    assert "original payment method" in message


def test_open_dispute_is_not_opened_twice():
    order = make_order(Status.AWAITING_SHIPMENT, request=DECLINED, dispute_open=True)
    assert guide_cancellation(order, None, NOW).path is Path.DISPUTE_OPEN
    assert guide_dispute(order, None, NOW).offer is Offer.NONE


@pytest.mark.parametrize(
    "order,path,offer",
    [
        (make_order(Status.AWAITING_PAYMENT), Path.CANCEL_NOW, Offer.CANCEL_NOW),
        (make_order(Status.AWAITING_SHIPMENT), Path.REQUEST_CANCELLATION, Offer.SUBMIT_REQUEST),
        (make_order(Status.AWAITING_SHIPMENT, request=pending(6)), Path.WAIT_FOR_SELLER, Offer.NONE),
        (make_order(Status.AWAITING_SHIPMENT, request=pending(50)), Path.OPEN_DISPUTE, Offer.OPEN_DISPUTE),
        (make_order(Status.AWAITING_SHIPMENT, request=DECLINED), Path.OPEN_DISPUTE, Offer.OPEN_DISPUTE),
        (make_order(Status.SHIPPED), Path.NOT_CANCELLABLE, Offer.NONE),
        (
            make_order(Status.SHIPPED, estimated_delivery=NOW - timedelta(days=1)),
            Path.OPEN_DISPUTE,
            Offer.OPEN_DISPUTE,
        ),
        (make_order(Status.DELIVERED), Path.DISPUTE_AFTER_DELIVERY, Offer.OPEN_DISPUTE),
        (make_order(Status.CANCELLED), Path.ALREADY_CANCELLED, Offer.NONE),
    ],
)
def test_dispute_only_where_eligible(order, path, offer):
    guidance = guide_dispute(order, None, NOW)
    assert guidance.path is path
    assert guidance.offer is offer


@pytest.mark.parametrize(
    "order,expected",
    [
        (make_order(Status.AWAITING_PAYMENT), True),
        (make_order(Status.AWAITING_SHIPMENT), True),
        (make_order(Status.AWAITING_SHIPMENT, request=pending(6)), False),
        (make_order(Status.AWAITING_SHIPMENT, request=DECLINED), False),
        (make_order(Status.SHIPPED), False),
        (make_order(Status.DELIVERED), False),
        (make_order(Status.CANCELLED), False),
    ],
)
def test_reason_is_asked_only_when_it_changes_the_answer(order, expected):
    assert needs_reason(order) is expected


@pytest.mark.parametrize("reason", list(Reason))
def test_seller_message_is_polite_and_names_order_and_reason(reason):
    message = draft_seller_message(make_order(Status.AWAITING_SHIPMENT), reason, "Alex Buyer")
    assert message.startswith("Hello Shenzhen Gadget Store,")
    assert "8100000000000002" in message and "Bluetooth earbuds" in message
    assert "I am writing because" in message
    assert "Thank you." in message and message.endswith("Alex Buyer")


def test_contact_seller_explains_contact_now_and_asks_before_sending():
    guidance = guide_contact_seller(make_order(Status.AWAITING_SHIPMENT), None)
    assert '"Contact Now"' in guidance.message
    assert guidance.offer is Offer.SEND_SELLER_MESSAGE
    assert guidance.facts["draft"] in guidance.message


def test_status_descriptions_carry_the_facts():
    shipped = make_order(Status.SHIPPED, tracking_number="LP1", shipped_at=NOW - timedelta(days=5))
    assert "LP1" in describe_status(shipped, NOW)
    waiting = make_order(Status.AWAITING_SHIPMENT, request=pending(6))
    assert "Mon 30 Nov 2026, 06:00 UTC" in describe_status(waiting, NOW)
    assert "awaiting payment" in describe_status(make_order(Status.AWAITING_PAYMENT), NOW)


def test_refund_explanation_by_state():
    assert "nothing to refund" in refund_explanation(make_order(Status.AWAITING_PAYMENT))
    assert "isn't cancelled" in refund_explanation(make_order(Status.SHIPPED))
    assert "original payment method" in refund_explanation(None)


def test_a_refund_for_a_delivered_order_or_one_in_dispute_is_the_disputes_not_a_cancellations():
    """Found as a French buyer: right after a dispute was opened, "how long does the refund
    take" was answered "this order isn't cancelled … after the cancellation is confirmed"."""
    in_dispute = refund_explanation(make_order(Status.DELIVERED, dispute_open=True))
    assert "dispute is open" in in_dispute and "cancellation is confirmed" not in in_dispute
    delivered = refund_explanation(make_order(Status.DELIVERED))
    assert "only possible through a dispute" in delivered and "isn't cancelled" not in delivered
    shipped_in_dispute = refund_explanation(make_order(Status.SHIPPED, dispute_open=True))
    assert "dispute is open" in shipped_in_dispute


@pytest.mark.parametrize(
    "status,offer", [(Status.AWAITING_SHIPMENT, Offer.SUBMIT_REQUEST), (Status.AWAITING_PAYMENT, Offer.CANCEL_NOW)]
)
def test_duplicate_whose_twin_is_already_being_cancelled_is_kept(status, offer):
    order = make_order(status, twins_being_cancelled=("8100000000000009",))
    guidance = guide_cancellation(order, Reason.DUPLICATE_ORDER, NOW)
    assert "8100000000000009" in guidance.message and "already being cancelled" in guidance.message
    assert "the one you keep" in guidance.message
    assert guidance.offer is offer and "as well" in guidance.question


def test_an_order_cancelled_before_payment_has_no_refund():
    order = make_order(Status.CANCELLED, paid_at=None, cancelled_at=NOW - timedelta(hours=1))
    message = guide_cancellation(order, None, NOW).message
    assert "nothing to refund" in message and "refund of" not in message


def test_a_twin_being_cancelled_is_flagged_whatever_the_reason():
    order = make_order(Status.AWAITING_SHIPMENT, twins_being_cancelled=("8100000000000009",))
    guidance = guide_cancellation(order, Reason.CHANGED_MIND, NOW)
    assert "already being cancelled" in guidance.message and "as well" in guidance.question


def test_a_request_after_the_sellers_own_window_says_so():
    paid_two_days_ago = make_order(Status.AWAITING_SHIPMENT, seller=BAD_SELLER, paid_at=NOW - timedelta(days=2))
    assert "window (24 h after payment) has passed" in guide_cancellation(paid_two_days_ago, None, NOW).message
    paid_just_now = make_order(Status.AWAITING_SHIPMENT, seller=BAD_SELLER, paid_at=NOW - timedelta(hours=2))
    assert "has passed" not in guide_cancellation(paid_just_now, None, NOW).message
