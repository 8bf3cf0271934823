"""The Order Service's pure rules: placing, applying answers, retries, dead letters,
the lifecycle, and which claimed driver an answer the order refuses must free."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from swifteats.domain.events import (
    AssignmentFailed,
    AssignmentResponse,
    DriverAssigned,
    OrderItem,
)
from swifteats.domain.geo import Point
from swifteats.domain.order_rules import (
    AnswerResult,
    DriverRelease,
    ResponseContext,
    advance_order,
    apply_answer,
    place_order,
    stray_driver,
)
from swifteats.domain.orders import InvalidTransitionError, NewOrder, OrderRecord, OrderStatus
from swifteats.domain.retry import RetryPolicy

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
RETRY = RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=3)
ORDER = NewOrder(
    order_id="o-1",
    customer_id="c",
    restaurant_id="r",
    restaurant=Point(40.7128, -74.006),
    customer=Point(40.7589, -73.9851),
    items=(OrderItem("pizza", 2, 5.0),),
    total_amount=10.0,
    preparation_time=15,
    special_instructions="",
    radius_km=5,
)
ASSIGNED = DriverAssigned("o-1", "d-1", 12, T0)
FAILED = AssignmentFailed("o-1", "All drivers busy", T0)
CURRENT = "<the order's current request>"


def _placed() -> OrderRecord:
    return place_order(ORDER, event_id="r-1", now=T0).order


def _answer(
    order: OrderRecord,
    response: AssignmentResponse,
    *,
    at: datetime = T0,
    request_id: str | None = CURRENT,
) -> AnswerResult:
    """Apply ``response``, tagged with the order's current request unless told otherwise."""
    tag = order.current_request_id if request_id == CURRENT else request_id
    return apply_answer(
        order,
        response,
        ResponseContext(tag, None, at),
        retry=RETRY,
        new_event_id=lambda: "r-next",
    )


def test_a_new_order_waits_with_its_first_request_due_now() -> None:
    change = place_order(ORDER, event_id="r-1", now=T0, accepted_at=T0 + timedelta(days=1))
    order = change.order
    assert (order.status, order.attempts, order.current_request_id) == ("new_order", 1, "r-1")
    assert (order.created_at, order.accepted_at) == (T0, T0 + timedelta(days=1))
    ((message, due),) = [(m.message, m.due) for m in change.messages]
    assert due == T0
    assert (message.topic, message.key) == ("driver_assignment.requests.4_-7", "o-1")
    assert message.payload["eventId"] == "r-1"
    assert message.payload["preparationTime"] == 15


def test_a_success_assigns_and_clears_the_last_error() -> None:
    waiting = replace(_placed(), last_error="All drivers busy")
    result = _answer(waiting, ASSIGNED, at=T0 + timedelta(seconds=3))
    assert (result.outcome, result.messages, result.release) == ("assigned", (), None)
    order = result.order
    assert (order.status, order.driver_id, order.eta_minutes) == ("assigned_driver", "d-1", 12)
    assert (order.last_error, order.updated_at) == (None, T0 + timedelta(seconds=3))


def test_a_failure_schedules_the_next_request_after_the_backoff() -> None:
    result = _answer(_placed(), FAILED, at=T0 + timedelta(minutes=2))
    due = T0 + timedelta(minutes=2, seconds=1)
    assert result.outcome == "retry"
    order = result.order
    assert (order.attempts, order.current_request_id, order.last_error) == (
        2,
        "r-next",
        "All drivers busy",
    )
    assert order.next_attempt_at == due
    (queued,) = result.messages
    assert queued.due == due
    assert queued.message.payload["eventId"] == "r-next"
    assert queued.message.payload["preparationTime"] == pytest.approx(15 - 121 / 60, abs=1e-6)


def test_the_last_failure_fails_the_order_and_dead_letters_its_request() -> None:
    last = replace(_placed(), attempts=3, current_request_id="r-3")
    result = _answer(last, FAILED, at=T0 + timedelta(seconds=9))
    assert result.outcome == "failed"
    assert (result.order.status, result.order.attempts) == ("assignment_failed", 3)
    assert result.order.failed_at == T0 + timedelta(seconds=9)
    (dead,) = result.messages
    assert (dead.message.topic, dead.message.key, dead.due) == (
        "driver_assignment.dlq",
        "o-1",
        T0 + timedelta(seconds=9),
    )
    envelope = dead.message.payload
    assert envelope["reason"] == "All drivers busy after 3 attempts"
    assert envelope["sourceTopic"] == "driver_assignment.requests.4_-7"
    assert envelope["original"]["eventId"] == "r-3"
    assert json.loads(json.dumps(envelope)) == envelope


def test_answers_to_another_request_or_to_a_decided_order_are_stale() -> None:
    waiting = _placed()
    older = _answer(waiting, FAILED, request_id="r-0")
    assert (older.outcome, older.written, older.order) == ("stale", False, waiting)
    assert _answer(waiting, FAILED, request_id=None).outcome == "retry"  # untagged: taken
    assigned = _answer(waiting, ASSIGNED).order
    assert _answer(assigned, ASSIGNED).outcome == "stale"
    assert _answer(assigned, FAILED).outcome == "stale"


@pytest.mark.parametrize(
    ("status", "holder", "released"),
    [
        (OrderStatus.ASSIGNMENT_FAILED, None, True),  # a late success for a failed order
        (OrderStatus.ASSIGNED_DRIVER, "d-other", True),  # another driver has it
        (OrderStatus.DELIVERED, "d-other", True),
        (OrderStatus.ASSIGNED_DRIVER, "d-1", False),  # a redelivered success
        (OrderStatus.PICKED_UP, "d-1", False),
        (OrderStatus.NEW_ORDER, None, False),  # its current request may yet get d-1
    ],
)
def test_a_refused_success_frees_its_driver_unless_the_order_may_hold_it(
    status: OrderStatus, holder: str | None, released: bool
) -> None:
    order = replace(_placed(), status=status, driver_id=holder)
    result = _answer(order, ASSIGNED, request_id="r-0")
    assert result.outcome == "stale"
    assert result.release == (DriverRelease("d-1", "o-1") if released else None)


def test_only_successes_for_unknown_orders_free_a_driver() -> None:
    assert stray_driver(None, ASSIGNED) == DriverRelease("d-1", "o-1")
    assert stray_driver(None, FAILED) is None
    failed = replace(_placed(), status=OrderStatus.ASSIGNMENT_FAILED)
    assert stray_driver(failed, FAILED) is None


def test_the_lifecycle_moves_forward_and_stays_put_when_asked_twice() -> None:
    assigned = _answer(_placed(), ASSIGNED).order
    later = T0 + timedelta(minutes=20)
    picked = advance_order(assigned, OrderStatus.PICKED_UP, now=later)
    assert (picked.order.status, picked.order.picked_up_at, picked.written) == (
        "picked_up",
        later,
        True,
    )
    again = advance_order(picked.order, OrderStatus.PICKED_UP, now=later + timedelta(minutes=1))
    assert (again.order, again.written) == (picked.order, False)
    with pytest.raises(InvalidTransitionError):
        advance_order(_placed(), OrderStatus.DELIVERED, now=later)
