"""The order lifecycle and the rules an order must satisfy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swifteats.domain.events import OrderItem
from swifteats.domain.geo import Point

TOTAL_TOLERANCE = 0.01
"""How far a stated total may stray from the sum of its items (rounding of cents)."""


class OrderStatus(StrEnum):
    """Where an order stands."""

    NEW_ORDER = "new_order"
    ASSIGNED_DRIVER = "assigned_driver"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    ASSIGNMENT_FAILED = "assignment_failed"


_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.NEW_ORDER: frozenset({OrderStatus.ASSIGNED_DRIVER, OrderStatus.ASSIGNMENT_FAILED}),
    OrderStatus.ASSIGNED_DRIVER: frozenset({OrderStatus.PICKED_UP, OrderStatus.DELIVERED}),
    OrderStatus.PICKED_UP: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.ASSIGNMENT_FAILED: frozenset(),
}


class InvalidTransitionError(ValueError):
    """An order was asked to move to a state it cannot reach from where it is."""


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """True when ``target`` directly follows ``current`` in the lifecycle."""
    return target in _NEXT[current]


def require_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current → target`` is allowed."""
    if not can_transition(current, target):
        raise InvalidTransitionError(f"an order in {current} cannot become {target}")


def frees_refused_claim(
    status: OrderStatus | None, holder: str | None, driver_id: str, *, invalid: bool
) -> bool:
    """Whether a refused success answer's driver may be freed of its order.

    ``status`` and ``holder`` are the order's (None, None: no such order). Yes when there
    is no such order, when it ended without that driver (failed, or assigned to another),
    or when the answer was invalid (an invalid claim gives the order nothing, whatever
    attempt it answers). Never when the order holds that very driver (a redelivered or
    duplicate answer). Not for a valid answer to an earlier attempt of an order still
    waiting: the claim is per order, so the current attempt is answered with that same
    driver, which freeing would hand to another order as well.
    """
    if status is None:
        return True
    if holder == driver_id:
        return False
    return invalid or status is not OrderStatus.NEW_ORDER


def items_total(items: Iterable[OrderItem]) -> float:
    """Sum of quantity × unit price."""
    return sum(item.quantity * item.unit_price for item in items)


def total_matches(items: Iterable[OrderItem], total_amount: float) -> bool:
    """True when the stated total equals the items' sum to the cent."""
    return abs(items_total(items) - total_amount) <= TOTAL_TOLERANCE + 1e-9


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated, paid order about to be stored."""

    order_id: str
    customer_id: str
    restaurant_id: str
    restaurant: Point
    customer: Point
    items: tuple[OrderItem, ...]
    total_amount: float
    preparation_time: float
    special_instructions: str
    radius_km: float


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A stored order: what was ordered, where it stands, and when each stage happened.

    ``created_at`` and ``updated_at`` are business time (a replay's simulated clock);
    ``accepted_at`` and the pipeline stamps (``request_published_at`` to
    ``response_consumed_at``) are wall-clock instants.
    """

    order: NewOrder
    status: OrderStatus
    current_request_id: str
    """The ``eventId`` of the request whose answer counts; older answers are stale."""
    created_at: datetime
    updated_at: datetime
    attempts: int = 1
    driver_id: str | None = None
    eta_minutes: int | None = None
    last_error: str | None = None
    accepted_at: datetime | None = None
    request_published_at: datetime | None = None
    request_consumed_at: datetime | None = None
    decided_at: datetime | None = None
    response_consumed_at: datetime | None = None
    picked_up_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    """When its next request is due (derived from the outbox on reads); None if none waits."""

    @property
    def order_id(self) -> str:
        """The order's id."""
        return self.order.order_id
