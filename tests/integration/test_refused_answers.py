"""A success answer the Order Service refuses does not keep its driver: forged requests for
orders that do not exist, late answers and invalid ones free the driver they claimed, on a
real PostgreSQL, Redis and (end to end) Kafka broker; a duplicate answer for the driver an
order holds frees nobody."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaProducer

from swifteats.adapters.memory_bus import InProcessBus
from swifteats.adapters.postgres.migrations import migrate
from swifteats.adapters.postgres.orders import PostgresOrderStore
from swifteats.adapters.postgres.outbox import PostgresOutbox
from swifteats.adapters.postgres.pool import open_pool
from swifteats.adapters.redis_client import redis_for
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.check_flow import CUSTOMER, RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.events import AssignmentFailed, AssignmentRequested, DriverAssigned
from swifteats.domain.geo import Point
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import REQUEST_ID_HEADER, RESPONSES_TOPIC, request_topic
from swifteats.observability import ServiceMetrics
from swifteats.services.orders.core import OrderCore
from swifteats.services.orders.schemas import OrderIn
from swifteats.settings import Settings
from tests.integration.helpers import Broker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass
class OrderSide:
    """The Order Service's answer handling over real servers, and the drivers in Redis."""

    core: OrderCore
    drivers: RedisDriverIndex
    metrics: ServiceMetrics

    def place(self, order_id: str) -> str:
        """An order waiting for its answer; returns the current request's event id."""
        order = OrderIn.model_validate(sample_order() | {"orderId": order_id})
        return self.core.place(order.to_new_order()).current_request_id

    def claim(self, driver_id: str, order_id: str) -> None:
        """``driver_id`` registered near the restaurant and claimed for ``order_id``."""
        self.drivers.register(driver_id, Point(*RESTAURANT), DriverStatus.AVAILABLE)
        assert self.drivers.claim(order_id, [(driver_id, 9)]) is not None

    def answer(self, message: dict[str, Any], request_id: str | None = None) -> str:
        headers = [] if request_id is None else [(REQUEST_ID_HEADER, request_id.encode())]
        raw = json.dumps(message).encode()
        return self.core.on_response(raw, RESPONSES_TOPIC, headers)

    def holds(self, driver_id: str) -> tuple[DriverStatus, str | None]:
        record = self.drivers.get(driver_id)
        assert record is not None
        return record.status, record.order_id


@pytest.fixture
def side(servers: Settings, database_url: str) -> Iterator[OrderSide]:
    pool = open_pool(database_url, max_size=2)
    with pool.connection() as conn:
        migrate(conn)
    client = redis_for(servers)
    prefix = f"test:{uuid.uuid4().hex[:12]}"
    drivers = RedisDriverIndex(client, prefix)
    metrics = ServiceMetrics("order-service")
    core = OrderCore(
        PostgresOrderStore(pool),
        PostgresOutbox(pool),
        InProcessBus(),
        drivers,
        retry=RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=1),
        clock=lambda: NOW,
        metrics=metrics,
    )
    yield OrderSide(core, drivers, metrics)
    pool.close()
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def assigned(order_id: str, driver_id: str, eta: int = 9) -> dict[str, Any]:
    return DriverAssigned(order_id, driver_id, eta, NOW).to_wire()


def failed(order_id: str) -> dict[str, Any]:
    return AssignmentFailed(order_id, "All drivers busy", NOW).to_wire()


def _unknown(side: OrderSide) -> str:
    side.claim("d", "ghost")
    return side.answer(assigned("ghost", "d"))


def _unknown_and_invalid(side: OrderSide) -> str:
    side.claim("d", "ghost")
    return side.answer(assigned("ghost", "d") | {"eta": 99_999})


def _late_for_a_failed_order(side: OrderSide) -> str:
    request_id = side.place("o")
    assert side.answer(failed("o"), request_id) == "failed"
    side.claim("d", "o")
    return side.answer(assigned("o", "d"), request_id)


def _for_an_order_assigned_to_another(side: OrderSide) -> str:
    side.place("o")
    assert side.answer(assigned("o", "a")) == "assigned"
    side.claim("d", "o")
    return side.answer(assigned("o", "d"))


def _invalid_for_a_waiting_order(side: OrderSide) -> str:
    request_id = side.place("o")
    side.claim("d", "o")
    return side.answer(assigned("o", "d") | {"assignedAt": "soon"}, request_id)


@pytest.mark.parametrize(
    ("refused", "outcome"),
    [
        (_unknown, "dead_letter"),
        (_unknown_and_invalid, "dead_letter"),
        (_late_for_a_failed_order, "stale"),
        (_for_an_order_assigned_to_another, "stale"),
        (_invalid_for_a_waiting_order, "dead_letter"),
    ],
    ids=lambda case: getattr(case, "__name__", case).strip("_"),
)
def test_a_refused_success_answer_frees_its_driver(
    side: OrderSide, refused: Callable[[OrderSide], str], outcome: str
) -> None:
    assert refused(side) == outcome
    assert side.holds("d") == (DriverStatus.AVAILABLE, None)
    assert side.metrics.counts()["responses:driver_released"] == 1


def _duplicate(side: OrderSide) -> str:
    request_id = side.place("o")
    side.claim("d", "o")
    assert side.answer(assigned("o", "d"), request_id) == "assigned"
    return side.answer(assigned("o", "d"), request_id)


def _invalid_duplicate(side: OrderSide) -> str:
    _duplicate(side)
    return side.answer(assigned("o", "d") | {"eta": 99_999})


def _answer_to_an_earlier_attempt(side: OrderSide) -> str:
    # The order waits for its current attempt, whose answer will name this same driver.
    side.place("o")
    side.claim("d", "o")
    return side.answer(assigned("o", "d"), "an-earlier-request")


@pytest.mark.parametrize(
    ("kept", "outcome"),
    [
        (_duplicate, "stale"),
        (_invalid_duplicate, "dead_letter"),
        (_answer_to_an_earlier_attempt, "stale"),
    ],
    ids=lambda case: getattr(case, "__name__", case).strip("_"),
)
def test_a_refused_answer_for_the_driver_the_order_keeps_frees_nobody(
    side: OrderSide, kept: Callable[[OrderSide], str], outcome: str
) -> None:
    assert kept(side) == outcome
    assert side.holds("d") == (DriverStatus.BUSY, "o")
    assert "responses:driver_released" not in side.metrics.counts()


def _forged(order_id: str, restaurant: Point, radius_km: float) -> bytes:
    request = AssignmentRequested(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        order_id=order_id,
        restaurant=restaurant,
        customer=Point(*CUSTOMER),
        preparation_time=15,
        radius_km=radius_km,
        items=(),
        total_amount=0.0,
        special_instructions="",
    )
    return json.dumps(request.to_wire()).encode()


@pytest.mark.kafka
def test_forged_requests_take_no_driver_for_good(client: SwiftEatsClient, kafka: Broker) -> None:
    drivers = [f"d-{i}" for i in range(3)]
    for i, driver_id in enumerate(drivers):
        client.register_driver(driver_id, RESTAURANT[0] + 0.001 * i, RESTAURANT[1])
    producer = KafkaProducer(bootstrap_servers=kafka.host)
    new_york = request_topic("4_-7")
    for i in range(3):  # orders that do not exist: each claims a driver, then frees it
        producer.send(new_york, key=b"ghost", value=_forged(f"ghost-{i}", Point(*RESTAURANT), 5))
    sydney = Point(-33.8688, 151.2093)  # a radius reaching New York from Sydney: refused
    producer.send(request_topic("-3_15"), key=b"far", value=_forged("far", sydney, 1e9))
    producer.flush()
    producer.close()

    wait_until(
        lambda: client.order_stats()["responses"].get("driver_released") == 3,
        timeout_s=60,
        what="the three drivers the forged requests claimed freed",
    )
    assert all(client.get_driver(d)["status"] == "available" for d in drivers)
    wait_until(
        lambda: (
            client.assignment_stats()["failuresByReason"]
            == {"Invalid field: radius must be at most 100": 1}
        ),
        timeout_s=30,
        what="the request from Sydney refused for its radius",
    )
    placed = [client.place_order(sample_order())["orderId"] for _ in drivers]
    orders = [client.wait_for_order(o, {"assigned_driver"}, timeout_s=30) for o in placed]
    assert sorted(o["driverId"] for o in orders) == drivers
