"""The Order Service's rules over plain data: a new order's first request, applying an
answer (stale and duplicate aware), retrying after backoff, giving up with a dead letter,
the lifecycle after assignment, and which claimed driver to free when an answer is refused.

Every function takes the order as it is stored and returns the order as it must be stored
with the messages to enqueue; a store writes both atomically. Event ids and times are
passed in, so the same inputs always give the same result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from swifteats.domain.bus import Outgoing
from swifteats.domain.events import (
    AssignmentFailed,
    AssignmentRequested,
    AssignmentResponse,
    DriverAssigned,
    format_instant,
)
from swifteats.domain.orders import NewOrder, OrderRecord, OrderStatus, require_transition
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import DLQ_TOPIC, PLACED_AT_HEADER, dead_letter, request_topic

Outcome = Literal["assigned", "retry", "failed", "stale"]
"""What an answer did to its order; ``stale`` changed nothing."""


@dataclass(frozen=True, slots=True)
class ResponseContext:
    """What the consumer knows of a response besides its body."""

    request_id: str | None
    """The ``eventId`` of the request it answers (header), None when untagged."""
    request_consumed_at: datetime | None
    consumed_at: datetime
    """The service's clock: business time (simulated in a replay)."""
    received_at: datetime | None = None
    """The wall clock, for the pipeline's stage timestamps (default: ``consumed_at``)."""
    decided_at: datetime | None = None
    """When the answer was decided, on the wall clock (header); default: the body's."""

    @property
    def wall(self) -> datetime:
        """When the response was consumed, on the wall clock."""
        return self.received_at or self.consumed_at


@dataclass(frozen=True, slots=True)
class Enqueued:
    """A message for the outbox, published once the clock reaches ``due``."""

    message: Outgoing
    due: datetime


@dataclass(frozen=True, slots=True)
class OrderChange:
    """An order as it must be stored, and the messages to enqueue in the same transaction."""

    order: OrderRecord
    messages: tuple[Enqueued, ...] = ()
    written: bool = True
    """False: the order stays as it was (nothing to write)."""


@dataclass(frozen=True, slots=True)
class DriverRelease:
    """Free ``driver_id`` if it still holds ``order_id``: the order will never take it."""

    driver_id: str
    order_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerResult(OrderChange):
    """What an answer did (:data:`Outcome`) and a driver its success claimed for nothing."""

    outcome: Outcome
    release: DriverRelease | None = None


def place_order(
    order: NewOrder, *, event_id: str, now: datetime, accepted_at: datetime | None = None
) -> OrderChange:
    """A new order waiting for its driver, and its first request, due at once.

    ``now`` is the order's time; ``accepted_at`` the wall clock's (default ``now``).
    """
    request = request_for(order, event_id=event_id, occurred_at=now)
    record = OrderRecord(
        order=order,
        status=OrderStatus.NEW_ORDER,
        current_request_id=event_id,
        created_at=now,
        updated_at=now,
        accepted_at=accepted_at or now,
        next_attempt_at=now,
    )
    return OrderChange(record, (Enqueued(_request_message(request, placed_at=now), now),))


def apply_answer(
    order: OrderRecord,
    response: AssignmentResponse,
    context: ResponseContext,
    *,
    retry: RetryPolicy,
    new_event_id: Callable[[], str],
) -> AnswerResult:
    """Apply an answer once: ``assigned``, ``retry`` (the next request due after the
    backoff), ``failed`` (the last attempt: a dead letter) or ``stale`` (ignored).

    An answer is stale when the order no longer waits for one, or when it is tagged with
    another request's id than the order's current one (an untagged answer is taken).
    """
    if order.status != OrderStatus.NEW_ORDER or not answers_current(order, context):
        return AnswerResult(
            order, written=False, outcome="stale", release=stray_driver(order, response)
        )
    if isinstance(response, DriverAssigned):
        return AnswerResult(_assigned(order, response, context), outcome="assigned")
    return _failed_attempt(order, response, context, retry=retry, new_event_id=new_event_id)


def answers_current(order: OrderRecord, context: ResponseContext) -> bool:
    """A response tagged with an older request's id is stale; untagged ones are taken."""
    return context.request_id is None or context.request_id == order.current_request_id


def stray_driver(order: OrderRecord | None, response: AssignmentResponse) -> DriverRelease | None:
    """The driver a success answer claimed that ``order`` (None: unknown) will never take.

    None for failures, for an order still waiting (its current request may yet be answered
    with this very claim: a claim is idempotent per order) and for the driver the order
    holds (a redelivered success). The driver index frees the driver only if it still
    holds the order.
    """
    if not isinstance(response, DriverAssigned):
        return None
    if order is not None and (
        order.status == OrderStatus.NEW_ORDER or order.driver_id == response.driver_id
    ):
        return None
    return DriverRelease(response.driver_id, response.order_id)


def refused_claim(order: OrderRecord | None, order_id: str, driver_id: str) -> DriverRelease | None:
    """The driver an invalid success answer claimed for ``order_id``: freed unless the
    order holds it (an invalid answer gives the order nothing, whatever attempt it
    answers)."""
    if order is not None and order.driver_id == driver_id:
        return None
    return DriverRelease(driver_id, order_id)


def advance_order(order: OrderRecord, target: OrderStatus, *, now: datetime) -> OrderChange:
    """Move an order to ``picked_up`` or ``delivered``; one already there stays as it is.

    Raises :class:`~swifteats.domain.orders.InvalidTransitionError` on a disallowed move.
    """
    if order.status == target:
        return OrderChange(order, written=False)
    require_transition(order.status, target)
    if target == OrderStatus.PICKED_UP:
        moved = replace(order, status=target, picked_up_at=now, updated_at=now)
    else:
        moved = replace(order, status=target, delivered_at=now, updated_at=now)
    return OrderChange(moved)


def request_for(
    order: NewOrder,
    *,
    event_id: str,
    occurred_at: datetime,
    elapsed: timedelta = timedelta(0),
) -> AssignmentRequested:
    """The request for ``order``; preparation time is what remains after ``elapsed``."""
    remaining = max(0.0, order.preparation_time - elapsed.total_seconds() / 60.0)
    preparation = remaining if elapsed else order.preparation_time
    return AssignmentRequested(
        event_id=event_id,
        occurred_at=occurred_at,
        order_id=order.order_id,
        restaurant=order.restaurant,
        customer=order.customer,
        preparation_time=round(preparation, 6),
        radius_km=order.radius_km,
        items=tuple(item.to_wire() for item in order.items),
        total_amount=order.total_amount,
        special_instructions=order.special_instructions,
    )


def _assigned(
    order: OrderRecord, response: DriverAssigned, context: ResponseContext
) -> OrderRecord:
    return replace(
        order,
        status=OrderStatus.ASSIGNED_DRIVER,
        driver_id=response.driver_id,
        eta_minutes=response.eta,
        decided_at=context.decided_at or response.assigned_at,
        request_consumed_at=context.request_consumed_at,
        response_consumed_at=context.wall,
        updated_at=context.consumed_at,
        last_error=None,
        next_attempt_at=None,
    )


def _failed_attempt(
    order: OrderRecord,
    response: AssignmentFailed,
    context: ResponseContext,
    *,
    retry: RetryPolicy,
    new_event_id: Callable[[], str],
) -> AnswerResult:
    """The next request after the backoff, or the order failed once out of attempts."""
    now = context.consumed_at
    delay = retry.delay_after(order.attempts)
    answered: dict[str, Any] = {
        "last_error": response.error,
        "decided_at": context.decided_at or response.failed_at,
        "request_consumed_at": context.request_consumed_at,
        "response_consumed_at": context.wall,
        "updated_at": now,
    }
    if delay is None:
        failed = replace(
            order,
            **answered,
            status=OrderStatus.ASSIGNMENT_FAILED,
            failed_at=now,
            next_attempt_at=None,
        )
        return AnswerResult(failed, (_dead_letter(order, response, now),), outcome="failed")
    # The retry happens when it falls due: its time and the food's remaining
    # preparation are those of that moment, not of this failure.
    due = now + timedelta(seconds=delay)
    request = request_for(
        order.order, event_id=new_event_id(), occurred_at=due, elapsed=due - order.created_at
    )
    retried = replace(
        order,
        **answered,
        attempts=order.attempts + 1,
        current_request_id=request.event_id,
        next_attempt_at=due,
    )
    message = _request_message(request, placed_at=order.created_at)
    return AnswerResult(retried, (Enqueued(message, due),), outcome="retry")


def _dead_letter(order: OrderRecord, response: AssignmentFailed, now: datetime) -> Enqueued:
    """The order's last request on the DLQ, with why it failed and after how many attempts."""
    request = request_for(
        order.order,
        event_id=order.current_request_id,
        occurred_at=now,
        elapsed=now - order.created_at,
    )
    envelope = dead_letter(
        reason=f"{response.error} after {order.attempts} attempts",
        source_topic=request_topic(request.geo_key),
        raw=json.dumps(request.to_wire()).encode(),
        failed_at=now,
        order_id=order.order_id,
    )
    return Enqueued(Outgoing(DLQ_TOPIC, order.order_id, envelope), now)


def _request_message(request: AssignmentRequested, *, placed_at: datetime) -> Outgoing:
    headers = {PLACED_AT_HEADER: format_instant(placed_at)}
    return Outgoing(request_topic(request.geo_key), request.order_id, request.to_wire(), headers)
