"""What the rules know about an order: plain values read from the store by the service.

No Rasa imports, no database: the rules' tests build these by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actions.vocabulary import OrderStatus, RequestState


@dataclass(frozen=True)
class SellerFacts:
    name: str
    rating: float
    positive_feedback_pct: float
    store_opened_at: datetime | None = None
    cancellation_policy: str | None = None
    cancellation_deadline_hours: int | None = None


@dataclass(frozen=True)
class RequestFacts:
    """The latest cancellation request of an order."""

    state: RequestState
    created_at: datetime
    responded_at: datetime | None = None
    seller_note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", RequestState(self.state))  # a stored string is welcome too


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    status: OrderStatus
    product: str
    seller: SellerFacts
    placed_at: datetime
    price: float | None = None
    currency: str = "USD"
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    estimated_delivery: datetime | None = None
    tracking_number: str | None = None
    refund_status: str | None = None
    request: RequestFacts | None = None
    twin_order_ids: tuple[str, ...] = ()  # the same item ordered again, still live
    twins_being_cancelled: tuple[str, ...] = ()  # ... or already cancelled, or asked to be
    dispute_open: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OrderStatus(self.status))  # a stored string is welcome too
