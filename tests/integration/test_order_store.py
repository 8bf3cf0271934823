"""The order store on PostgreSQL: outbox in the same transaction, stale answers ignored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from swifteats.adapters.postgres.migrations import MIGRATIONS, migrate
from swifteats.adapters.postgres.orders import (
    DuplicateOrderError,
    OrderStore,
    ResponseContext,
)
from swifteats.adapters.postgres.outbox import OutboxMessage, publish_due, resend_unanswered
from swifteats.adapters.postgres.pool import Pool, open_pool
from swifteats.domain.events import AssignmentFailed, DriverAssigned, OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.orders import NewOrder
from swifteats.domain.retry import RetryPolicy

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def pool(database_url: str) -> Iterator[Pool]:
    pool = open_pool(database_url, max_size=2)
    with pool.connection() as conn:
        migrate(conn)
    yield pool
    pool.close()


@pytest.fixture
def store(pool: Pool) -> OrderStore:
    return OrderStore(pool, RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=3))


def _order(order_id: str = "o-1") -> NewOrder:
    return NewOrder(
        order_id=order_id,
        customer_id="c",
        restaurant_id="r",
        restaurant=Point(40.7128, -74.006),
        customer=Point(40.7589, -73.9851),
        items=(OrderItem("pizza", 1, 10.0),),
        total_amount=10.0,
        preparation_time=15,
        special_instructions="",
        radius_km=5,
    )


def _context(store: OrderStore, order_id: str, at: datetime) -> ResponseContext:
    return ResponseContext(store.get(order_id)["current_request_id"], None, at)


def _sent(pool: Pool, now: datetime) -> list[OutboxMessage]:
    batches: list[OutboxMessage] = []
    publish_due(pool, batches.extend, now=now)
    return batches


def test_migrations_are_idempotent(pool: Pool) -> None:
    with pool.connection() as conn:
        assert migrate(conn) == len(MIGRATIONS)
        assert migrate(conn) == len(MIGRATIONS)
        row = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()
    assert row is not None and row["n"] == len(MIGRATIONS)


def test_placing_an_order_writes_its_request_to_the_outbox(store: OrderStore, pool: Pool) -> None:
    request = store.place(_order(), now=T0)
    (message,) = _sent(pool, T0)
    assert message.topic == "driver_assignment.requests.4_-7"
    assert message.key == "o-1"
    assert b'"eventType": "AssignmentRequested"' in message.payload
    assert request.event_id in message.payload.decode()
    assert _sent(pool, T0) == []  # marked sent
    with pytest.raises(DuplicateOrderError):
        store.place(_order(), now=T0)


def test_a_failing_sender_keeps_the_rows(store: OrderStore, pool: Pool) -> None:
    store.place(_order(), now=T0)

    def broken(_: list[OutboxMessage]) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        publish_due(pool, broken, now=T0)
    assert len(_sent(pool, T0)) == 1


def test_a_late_failure_cannot_undo_an_assignment(store: OrderStore) -> None:
    store.place(_order(), now=T0)
    context = _context(store, "o-1", T0)
    assigned = DriverAssigned("o-1", "d-1", 17, T0)
    assert store.apply_response(assigned, context) == "assigned"
    assert store.apply_response(assigned, context) == "stale"
    late = AssignmentFailed("o-1", "All drivers busy", T0)
    assert store.apply_response(late, context) == "stale"
    row = store.get("o-1")
    assert (row["status"], row["driver_id"], row["eta_minutes"]) == ("assigned_driver", "d-1", 17)


def test_failures_are_retried_after_backoff_then_dead_lettered(
    store: OrderStore, pool: Pool
) -> None:
    store.place(_order(), now=T0)
    _sent(pool, T0)
    failed = AssignmentFailed("o-1", "No available drivers in area", T0)

    first = _context(store, "o-1", T0)
    assert store.apply_response(failed, first) == "retry"
    assert store.apply_response(failed, first) == "stale"  # the same answer twice
    assert _sent(pool, T0 + timedelta(seconds=0.5)) == []  # backoff: 1 s
    (retry,) = _sent(pool, T0 + timedelta(seconds=1))
    assert retry.topic == "driver_assignment.requests.4_-7"

    second = _context(store, "o-1", T0 + timedelta(seconds=2))
    assert store.apply_response(failed, second) == "retry"
    assert _sent(pool, T0 + timedelta(seconds=3.5)) == []  # backoff: 2 s
    assert len(_sent(pool, T0 + timedelta(seconds=4))) == 1

    third = _context(store, "o-1", T0 + timedelta(seconds=5))
    assert store.apply_response(failed, third) == "failed"
    (dead,) = _sent(pool, T0 + timedelta(seconds=5))
    assert dead.topic == "driver_assignment.dlq"
    row = store.get("o-1")
    assert (row["status"], row["attempts"]) == ("assignment_failed", 3)


def test_retried_requests_carry_the_remaining_preparation_time(
    store: OrderStore, pool: Pool
) -> None:
    store.place(_order(), now=T0)
    _sent(pool, T0)
    failed = AssignmentFailed("o-1", "All drivers busy", T0)
    failed_at = T0 + timedelta(minutes=4, seconds=-1)  # the retry falls due 1 s later
    store.apply_response(failed, _context(store, "o-1", failed_at))
    (retry,) = _sent(pool, T0 + timedelta(minutes=5))
    payload = json.loads(retry.payload)
    assert payload["preparationTime"] == 11.0  # 15 minutes, 4 gone when the retry is due
    assert payload["occurredAt"] == "2026-01-15T12:04:00.000Z"


def test_one_request_at_a_time_holds_the_next_until_the_last_is_answered(
    store: OrderStore, pool: Pool
) -> None:
    for order_id in ("o-2", "o-1"):
        store.place(_order(order_id), now=T0)

    def serial(now: datetime) -> list[str]:
        batches: list[OutboxMessage] = []
        publish_due(pool, batches.extend, now=now, one_request_at_a_time=True)
        return [m.key for m in batches]

    assert serial(T0) == ["o-2"]  # placed first
    assert serial(T0) == []  # o-2 awaits its answer
    failed = AssignmentFailed("o-2", "All drivers busy", T0)
    assert store.apply_response(failed, _context(store, "o-2", T0)) == "retry"
    assert serial(T0) == ["o-1"]
    assigned = DriverAssigned("o-1", "d-1", 9, T0)
    assert store.apply_response(assigned, _context(store, "o-1", T0)) == "assigned"
    assert serial(T0) == []  # o-2's retry is not due before its backoff
    assert serial(T0 + timedelta(seconds=1)) == ["o-2"]


def test_pipeline_stamps_come_from_the_wall_clock_and_business_times_from_the_order(
    store: OrderStore, pool: Pool
) -> None:
    wall = T0 + timedelta(days=300)
    store.place(_order(), now=T0, accepted_at=wall)
    publish_due(pool, lambda _: None, now=T0, wall=lambda: wall + timedelta(milliseconds=2))
    context = ResponseContext(
        store.get("o-1")["current_request_id"], None, T0, wall + timedelta(milliseconds=9)
    )
    store.apply_response(DriverAssigned("o-1", "d-1", 9, T0), context)
    row = store.get("o-1")
    assert (row["created_at"], row["updated_at"]) == (T0, T0)
    assert row["accepted_at"] == wall
    assert row["request_published_at"] - row["accepted_at"] == timedelta(milliseconds=2)
    assert row["response_consumed_at"] - row["accepted_at"] == timedelta(milliseconds=9)


def test_a_request_left_unanswered_is_sent_again_with_its_event_id(
    store: OrderStore, pool: Pool
) -> None:
    request = store.place(_order(), now=T0)
    wall = T0 + timedelta(days=300)
    publish_due(pool, lambda _: None, now=T0, wall=lambda: wall)

    def overdue(after_s: float) -> int:
        return resend_unanswered(pool, now=T0, wall=wall + timedelta(seconds=after_s), timeout_s=30)

    assert overdue(29) == 0
    assert overdue(31) == 1
    assert overdue(31) == 0  # the copy waits to be sent
    (copy,) = _sent(pool, T0)
    assert json.loads(copy.payload)["eventId"] == request.event_id
    store.apply_response(DriverAssigned("o-1", "d-1", 9, T0), _context(store, "o-1", T0))
    assert overdue(3600) == 0  # answered
