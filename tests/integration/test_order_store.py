"""One OrderStore + Outbox contract, run over the in-memory store and PostgreSQL.

The order rules (:mod:`swifteats.domain.order_rules`) run through each store's ``change``;
what a replay in process proves about orders then holds for the live service. The
PostgreSQL variant gets a fresh database per test (``database_url``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swifteats.adapters.memory_orders import InMemoryOrderStore
from swifteats.adapters.postgres.migrations import MIGRATIONS, migrate
from swifteats.adapters.postgres.orders import PostgresOrderStore
from swifteats.adapters.postgres.outbox import PostgresOutbox
from swifteats.adapters.postgres.pool import Pool, open_pool
from swifteats.domain.admission import PipelineLoad, ResendPolicy
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.events import AssignmentFailed, AssignmentResponse, DriverAssigned, OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.order_rules import (
    AnswerResult,
    OrderChange,
    ResponseContext,
    advance_order,
    apply_answer,
    place_order,
)
from swifteats.domain.order_store import (
    DuplicateOrderError,
    OrderNotFoundError,
    OrderStore,
    Outbox,
)
from swifteats.domain.orders import InvalidTransitionError, NewOrder, OrderRecord, OrderStatus
from swifteats.domain.retry import RetryPolicy

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
RETRY = RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=3)
RESEND = ResendPolicy(timeout_s=30, unproven_after_s=120, max_per_s=10)
REQUESTS_4_7 = "driver_assignment.requests.4_-7"


@dataclass
class Orders:
    """A store and its outbox, driven by the order rules."""

    store: OrderStore
    outbox: Outbox

    def __post_init__(self) -> None:
        self._ids = (f"event-{n}" for n in itertools.count(1))

    def place(
        self, order_id: str = "o-1", *, now: datetime = T0, accepted_at: datetime | None = None
    ) -> OrderRecord:
        change = place_order(
            _order(order_id), event_id=next(self._ids), now=now, accepted_at=accepted_at
        )
        self.store.add(change)
        return change.order

    def answer(self, response: AssignmentResponse, context: ResponseContext) -> AnswerResult:
        return self.store.change(
            response.order_id,
            lambda order: apply_answer(
                order, response, context, retry=RETRY, new_event_id=lambda: next(self._ids)
            ),
        )

    def current(self, order_id: str, at: datetime) -> ResponseContext:
        """The context of an answer to the order's current request, consumed at ``at``."""
        return ResponseContext(self.store.get(order_id).current_request_id, None, at)

    def sent(self, now: datetime, wall: Clock | None = None) -> list[Outgoing]:
        batches: list[Outgoing] = []
        while self.outbox.publish_due(batches.extend, now=now, wall=wall or (lambda: now)):
            pass
        return batches


@pytest.fixture
def orders(request: pytest.FixtureRequest) -> Iterator[Orders]:
    if request.param == "memory":
        store = InMemoryOrderStore()
        yield Orders(store, store)
        return
    pool = _pool(request.getfixturevalue("database_url"))
    yield Orders(PostgresOrderStore(pool), PostgresOutbox(pool))
    pool.close()


def _pool(database_url: str) -> Pool:
    pool = open_pool(database_url, max_size=3)
    with pool.connection() as conn:
        migrate(conn)
    return pool


def _moved(target: OrderStatus) -> Callable[[OrderRecord], OrderChange]:
    return lambda order: advance_order(order, target, now=T0)


def _order(order_id: str) -> NewOrder:
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


@pytest.mark.parametrize(
    "orders", ["memory", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
class TestOrderStoreContract:
    def test_placing_an_order_queues_its_request_and_refuses_its_id_twice(
        self, orders: Orders
    ) -> None:
        placed = orders.place()
        assert orders.store.get("o-1") == placed
        assert placed.next_attempt_at == T0
        (message,) = orders.sent(T0)
        assert (message.topic, message.key) == (REQUESTS_4_7, "o-1")
        assert message.payload["eventType"] == "AssignmentRequested"
        assert message.payload["eventId"] == placed.current_request_id
        assert orders.sent(T0) == []  # marked sent
        assert orders.store.get("o-1").next_attempt_at is None
        with pytest.raises(DuplicateOrderError):
            orders.place()
        with pytest.raises(OrderNotFoundError):
            orders.store.get("o-2")
        orders.place("o-3")
        found = orders.store.get_many(["o-3", "o-2", "o-1"])
        assert [o.order_id for o in found] == ["o-3", "o-1"]
        assert found[1] == orders.store.get("o-1")

    def test_a_batch_keeps_every_change_and_a_refused_one_fails_no_other(
        self, orders: Orders
    ) -> None:
        orders.place("o-1")
        with orders.store.batch():
            orders.place("o-2")
            with pytest.raises(DuplicateOrderError):
                orders.place("o-1")
            with pytest.raises(InvalidTransitionError):  # not assigned yet
                orders.store.change("o-2", _moved(OrderStatus.DELIVERED))
            assert (
                orders.answer(
                    DriverAssigned("o-2", "d-1", 9, T0), orders.current("o-2", T0)
                ).outcome
                == "assigned"
            )  # sees the order placed in the batch
            orders.store.change("o-2", _moved(OrderStatus.PICKED_UP))
        assert orders.store.get("o-2").status == OrderStatus.PICKED_UP
        assert orders.store.get("o-1").status == OrderStatus.NEW_ORDER
        assert sorted(m.key for m in orders.sent(T0)) == ["o-1", "o-2"]

    def test_a_failing_sender_keeps_the_messages(self, orders: Orders) -> None:
        orders.place()

        def broken(_: list[Outgoing]) -> None:
            raise ConnectionError("broker down")

        with pytest.raises(ConnectionError):
            orders.outbox.publish_due(broken, now=T0, wall=lambda: T0)
        assert len(orders.sent(T0)) == 1
        assert orders.outbox.requests_published() == 1

    def test_a_message_being_sent_is_not_handed_to_another_caller(self, orders: Orders) -> None:
        orders.place()
        nested: list[int] = []

        def send(_: list[Outgoing]) -> None:
            nested.append(orders.outbox.publish_due(lambda _: None, now=T0, wall=lambda: T0))

        assert orders.outbox.publish_due(send, now=T0, wall=lambda: T0) == 1
        assert nested == [0]

    def test_an_answer_is_applied_once_and_a_late_failure_cannot_undo_it(
        self, orders: Orders
    ) -> None:
        orders.place()
        context = orders.current("o-1", T0)
        assigned = DriverAssigned("o-1", "d-1", 17, T0)
        assert orders.answer(assigned, context).outcome == "assigned"
        assert orders.answer(assigned, context).outcome == "stale"
        late = AssignmentFailed("o-1", "All drivers busy", T0)
        assert orders.answer(late, context).outcome == "stale"
        order = orders.store.get("o-1")
        assert (order.status, order.driver_id, order.eta_minutes) == ("assigned_driver", "d-1", 17)
        with pytest.raises(OrderNotFoundError):
            orders.answer(DriverAssigned("o-2", "d-1", 17, T0), context)

    def test_an_answer_to_another_request_is_stale_an_untagged_one_is_taken(
        self, orders: Orders
    ) -> None:
        orders.place()
        other = ResponseContext("an-older-request", None, T0)
        assert orders.answer(DriverAssigned("o-1", "d-1", 9, T0), other).outcome == "stale"
        assert orders.store.get("o-1").status == OrderStatus.NEW_ORDER
        untagged = ResponseContext(None, None, T0)
        assert orders.answer(DriverAssigned("o-1", "d-2", 9, T0), untagged).outcome == "assigned"
        assert orders.store.get("o-1").driver_id == "d-2"

    def test_answers_changed_together_apply_in_turn_and_all_or_nothing(
        self, orders: Orders
    ) -> None:
        orders.place("o-1")
        orders.place("o-2")
        orders.sent(T0)
        first, second = orders.current("o-1", T0), orders.current("o-2", T0)
        failed = AssignmentFailed("o-2", "All drivers busy", T0)

        def rule(response: AssignmentResponse, context: ResponseContext) -> Any:
            return lambda order: apply_answer(
                order, response, context, retry=RETRY, new_event_id=lambda: "retry-1"
            )

        def broken(order: OrderRecord) -> AnswerResult:
            raise RuntimeError("a rule that raises")

        with pytest.raises(RuntimeError):
            orders.store.change_many(
                [("o-1", rule(DriverAssigned("o-1", "d-1", 9, T0), first)), ("o-2", broken)]
            )
        assert orders.store.get("o-1").status == OrderStatus.NEW_ORDER  # nothing written
        results = orders.store.change_many(
            [
                ("o-1", rule(DriverAssigned("o-1", "d-1", 9, T0), first)),
                ("o-2", rule(failed, second)),
                ("o-9", rule(failed, second)),
                ("o-1", rule(DriverAssigned("o-1", "d-2", 9, T0), first)),
            ]
        )

        assert [r.outcome if r else None for r in results] == ["assigned", "retry", None, "stale"]
        assert orders.store.get("o-1").driver_id == "d-1"
        retried = orders.store.get("o-2")
        assert (retried.attempts, retried.current_request_id) == (2, "retry-1")
        assert retried.next_attempt_at == T0 + timedelta(seconds=1)
        (retry,) = orders.sent(T0 + timedelta(seconds=1))
        assert retry.payload["eventId"] == "retry-1"

    def test_failures_are_retried_after_backoff_then_dead_lettered(self, orders: Orders) -> None:
        orders.place()
        orders.sent(T0)
        failed = AssignmentFailed("o-1", "No available drivers in area", T0)

        first = orders.current("o-1", T0)
        assert orders.answer(failed, first).outcome == "retry"
        assert orders.answer(failed, first).outcome == "stale"  # the same answer twice
        assert orders.store.get("o-1").next_attempt_at == T0 + timedelta(seconds=1)
        assert orders.outbox.next_due_at() == T0 + timedelta(seconds=1)
        assert orders.sent(T0 + timedelta(seconds=0.5)) == []  # backoff: 1 s
        (retry,) = orders.sent(T0 + timedelta(seconds=1))
        assert retry.topic == REQUESTS_4_7
        assert retry.payload["eventId"] == orders.store.get("o-1").current_request_id
        assert orders.outbox.next_due_at() is None

        second = orders.current("o-1", T0 + timedelta(seconds=2))
        assert orders.answer(failed, second).outcome == "retry"
        assert orders.sent(T0 + timedelta(seconds=3.5)) == []  # backoff: 2 s
        assert len(orders.sent(T0 + timedelta(seconds=4))) == 1

        third = orders.current("o-1", T0 + timedelta(seconds=5))
        assert orders.answer(failed, third).outcome == "failed"
        (dead,) = orders.sent(T0 + timedelta(seconds=5))
        assert (dead.topic, dead.key) == ("driver_assignment.dlq", "o-1")
        assert dead.payload["reason"] == "No available drivers in area after 3 attempts"
        assert dead.payload["original"]["eventId"] == third.request_id
        order = orders.store.get("o-1")
        assert (order.status, order.attempts) == ("assignment_failed", 3)
        assert order.failed_at == T0 + timedelta(seconds=5)
        assert orders.outbox.requests_published() == 3

    def test_retried_requests_carry_the_remaining_preparation_time(self, orders: Orders) -> None:
        orders.place()
        orders.sent(T0)
        failed = AssignmentFailed("o-1", "All drivers busy", T0)
        failed_at = T0 + timedelta(minutes=4, seconds=-1)  # the retry falls due 1 s later
        orders.answer(failed, orders.current("o-1", failed_at))
        (retry,) = orders.sent(T0 + timedelta(minutes=5))
        assert retry.payload["preparationTime"] == 11.0  # 15 minutes, 4 gone when it is due
        assert retry.payload["occurredAt"] == "2026-01-15T12:04:00.000Z"

    def test_pipeline_stamps_come_from_the_wall_clock_and_business_times_from_the_order(
        self, orders: Orders
    ) -> None:
        wall = T0 + timedelta(days=300)
        orders.place(accepted_at=wall)
        orders.sent(T0, wall=lambda: wall + timedelta(milliseconds=2))
        context = ResponseContext(
            orders.store.get("o-1").current_request_id, None, T0, wall + timedelta(milliseconds=9)
        )
        orders.answer(DriverAssigned("o-1", "d-1", 9, T0), context)
        order = orders.store.get("o-1")
        assert (order.created_at, order.updated_at) == (T0, T0)
        assert order.accepted_at == wall
        assert order.request_published_at == wall + timedelta(milliseconds=2)
        assert order.response_consumed_at == wall + timedelta(milliseconds=9)

    def test_lifecycle_moves_forward_only(self, orders: Orders) -> None:
        orders.place()
        orders.answer(DriverAssigned("o-1", "d-1", 9, T0), orders.current("o-1", T0))
        later = T0 + timedelta(minutes=20)

        def advance(target: OrderStatus) -> OrderRecord:
            return orders.store.change("o-1", lambda o: advance_order(o, target, now=later)).order

        assert advance(OrderStatus.PICKED_UP).picked_up_at == later
        assert advance(OrderStatus.PICKED_UP).status == OrderStatus.PICKED_UP  # again: as it is
        with pytest.raises(InvalidTransitionError):
            orders.store.change(
                "o-1", lambda o: advance_order(o, OrderStatus.ASSIGNED_DRIVER, now=later)
            )
        assert orders.store.get("o-1").status == OrderStatus.PICKED_UP
        delivered = advance(OrderStatus.DELIVERED)
        assert (delivered.status, delivered.delivered_at) == (OrderStatus.DELIVERED, later)
        assert orders.store.get("o-1") == delivered

    def test_due_messages_go_out_in_enqueue_order(self, orders: Orders) -> None:
        for order_id in ("o-3", "o-1", "o-2"):
            orders.place(order_id, now=T0 + timedelta(seconds=1))
        assert orders.outbox.next_due_at() == T0 + timedelta(seconds=1)
        assert orders.sent(T0) == []
        assert [m.key for m in orders.sent(T0 + timedelta(seconds=1))] == ["o-3", "o-1", "o-2"]
        assert orders.outbox.next_due_at() is None
        assert orders.outbox.requests_published() == 3

    def test_a_request_left_unanswered_is_sent_again_with_its_event_id(
        self, orders: Orders
    ) -> None:
        placed = orders.place()
        wall = T0 + timedelta(days=300)
        orders.sent(T0, wall=lambda: wall)

        def overdue(after_s: float) -> int:
            return orders.outbox.resend_unanswered(
                now=T0, wall=wall + timedelta(seconds=after_s), policy=RESEND, limit=10
            )

        assert overdue(119) == 0  # nothing shows that its consumer passed it: maybe queued
        assert overdue(121) == 1
        assert overdue(31) == 0  # the copy waits to be sent
        (copy,) = orders.sent(T0)
        assert copy.payload["eventId"] == placed.current_request_id
        assert orders.outbox.requests_published() == 2
        orders.answer(DriverAssigned("o-1", "d-1", 9, T0), orders.current("o-1", T0))
        assert overdue(3600) == 0  # answered

    def test_a_request_is_sent_again_early_only_once_a_later_one_of_its_topic_was_answered(
        self, orders: Orders
    ) -> None:
        wall = T0 + timedelta(days=300)
        for n, order_id in enumerate(("o-1", "o-2", "o-3")):
            orders.place(order_id)
            orders.sent(T0, wall=lambda n=n: wall + timedelta(seconds=n))

        def overdue(after_s: float, limit: int = 10) -> int:
            return orders.outbox.resend_unanswered(
                now=T0, wall=wall + timedelta(seconds=after_s), policy=RESEND, limit=limit
            )

        assert overdue(60) == 0  # all three may merely be queued
        assert orders.outbox.pipeline_load(now=T0) == PipelineLoad(0, 3)
        answered_at = wall + timedelta(seconds=40)
        orders.answer(
            DriverAssigned("o-3", "d-1", 9, T0),
            ResponseContext(orders.store.get("o-3").current_request_id, None, answered_at),
        )
        assert overdue(50) == 0  # answered 10 s ago: o-1's answer may still be on its way
        assert overdue(60, limit=1) == 1  # o-1 and o-2 were passed; one copy allowed
        assert [m.key for m in orders.sent(T0)] == ["o-1"]
        assert orders.outbox.pipeline_load(now=T0) == PipelineLoad(0, 2)


@pytest.mark.postgres
def test_migrations_are_idempotent(database_url: str) -> None:
    pool = _pool(database_url)
    with pool.connection() as conn:
        assert migrate(conn) == len(MIGRATIONS)
        row = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()
    pool.close()
    assert row is not None and row["n"] == len(MIGRATIONS)
