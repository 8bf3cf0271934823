"""The Order Service's core without HTTP or Kafka: the memory store, the in-process bus
and the in-memory driver index, wired as an in-process replay wires them, with the
assignment service's own request handler answering on the bus."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from swifteats.adapters.memory_bus import Delivery, InProcessBus
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.adapters.memory_orders import InMemoryOrderStore
from swifteats.domain.assignment import Assigner
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import ManualClock
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import DriverAssigned, OrderItem
from swifteats.domain.geo import Point
from swifteats.domain.order_rules import place_order
from swifteats.domain.orders import NewOrder
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.scoring import ScoringWeights
from swifteats.domain.topics import DLQ_TOPIC, REQUEST_TOPIC_PATTERN, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.handler import RequestHandler
from swifteats.services.orders.core import AppliedAnswer, OrderCore, WallClockError
from swifteats.services.orders.relay import OutboxRelay
from swifteats.services.outgoing import answer

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
RESTAURANT = Point(40.7128, -74.006)
DOOR = Point(40.7589, -73.9851)


@dataclass
class Engine:
    core: OrderCore
    bus: InProcessBus
    drivers: InMemoryDriverIndex
    clock: ManualClock


@pytest.fixture
def engine() -> Engine:
    store, bus, drivers = InMemoryOrderStore(), InProcessBus(), InMemoryDriverIndex()
    clock = ManualClock(T0)
    core = OrderCore(
        store,
        store,
        bus,
        drivers,
        retry=RetryPolicy(base_s=1, factor=2, cap_s=30, max_attempts=2),
        clock=clock,
        wall=clock,
        metrics=ServiceMetrics("orders"),
    )
    assigner = Assigner(drivers, ScoringWeights(), ConstantSpeedEta(), clock)
    requests = RequestHandler.deciding(
        assigner, clock=clock, metrics=ServiceMetrics("a"), slow_ms=1e9
    )

    def on_request(delivery: Delivery) -> None:
        key = delivery.key.decode() if delivery.key else None
        out = requests.handle(delivery.value, source_topic=delivery.topic, key=key)
        if out is not None:
            bus.publish(out)

    def on_response(delivery: Delivery) -> None:
        core.on_response(delivery.value, delivery.topic, delivery.headers)

    bus.subscribe(REQUEST_TOPIC_PATTERN, on_request)
    bus.subscribe(RESPONSES_TOPIC, on_response)
    return Engine(core, bus, drivers, clock)


def _order(order_id: str) -> NewOrder:
    return NewOrder(
        order_id=order_id,
        customer_id="c",
        restaurant_id="r",
        restaurant=RESTAURANT,
        customer=DOOR,
        items=(OrderItem("pizza", 1, 10.0),),
        total_amount=10.0,
        preparation_time=15,
        special_instructions="",
        radius_km=5,
    )


def test_an_instant_publishes_what_is_due_and_reports_the_answers(engine: Engine) -> None:
    engine.drivers.register("d-1", RESTAURANT, DriverStatus.AVAILABLE)
    engine.core.place(_order("o-1"))
    engine.core.place(_order("o-2"))

    report = engine.core.advance_clock(T0)

    assert report.requests_published == 2
    assert report.next_due_at == T0 + timedelta(seconds=1)  # o-2's retry
    (first, second) = report.applied
    assert (first.order_id, first.outcome, first.driver_id) == ("o-1", "assigned", "d-1")
    assert first.eta is not None and first.attempt == 1
    assert second == AppliedAnswer("o-2", "retry", None, None, "All drivers busy", 1)
    assert engine.core.advance_clock(T0).applied == ()  # reported once

    later = engine.core.advance_clock(T0 + timedelta(seconds=5))

    assert later.requests_published == 3
    assert [(a.order_id, a.outcome) for a in later.applied] == [("o-2", "failed")]
    (dead,) = engine.bus.messages(DLQ_TOPIC)
    assert dead.payload["reason"] == "All drivers busy after 2 attempts"
    assert later.next_due_at is None


def test_delivery_frees_the_driver_at_the_door(engine: Engine) -> None:
    engine.drivers.register("d-1", RESTAURANT, DriverStatus.AVAILABLE)
    engine.core.place(_order("o-1"))
    engine.core.advance_clock(T0)
    engine.core.picked_up("o-1")

    delivered = engine.core.delivered("o-1")

    assert (delivered.status, delivered.delivered_at) == ("delivered", T0)
    driver = engine.drivers.get("d-1")
    assert driver is not None and driver.status is DriverStatus.AVAILABLE
    assert abs(driver.location.latitude - DOOR.latitude) < 1e-4


def _success(order_id: str, driver_id: str, request_id: str | None) -> Outgoing:
    return answer(DriverAssigned(order_id, driver_id, 7, T0), request_id, T0)


def _respond(engine: Engine, message: Outgoing) -> None:
    engine.bus.publish(message)
    engine.bus.flush()


def test_a_late_success_for_a_failed_order_frees_its_driver(engine: Engine) -> None:
    engine.core.place(_order("o-1"))
    engine.core.advance_clock(T0)  # no driver: the first attempt fails
    engine.core.advance_clock(T0 + timedelta(seconds=1))  # and the second, the last
    assert engine.core.get("o-1").status == "assignment_failed"
    engine.drivers.register("d-2", RESTAURANT, DriverStatus.AVAILABLE)
    assert engine.drivers.claim("o-1", [("d-2", 7)]) is not None  # a redelivery claimed it

    _respond(engine, _success("o-1", "d-2", engine.core.get("o-1").current_request_id))

    driver = engine.drivers.get("d-2")
    assert driver is not None and (driver.status, driver.order_id) == (DriverStatus.AVAILABLE, None)


def test_a_redelivered_success_keeps_the_driver_busy(engine: Engine) -> None:
    engine.drivers.register("d-1", RESTAURANT, DriverStatus.AVAILABLE)
    engine.core.place(_order("o-1"))
    engine.core.advance_clock(T0)
    order = engine.core.get("o-1")

    _respond(engine, _success("o-1", "d-1", order.current_request_id))

    driver = engine.drivers.get("d-1")
    assert driver is not None and (driver.status, driver.order_id) == (DriverStatus.BUSY, "o-1")
    assert engine.core.get("o-1") == order


def test_a_success_for_an_unknown_order_is_dead_lettered_and_frees_its_driver(
    engine: Engine,
) -> None:
    engine.drivers.register("d-3", RESTAURANT, DriverStatus.AVAILABLE)
    engine.drivers.claim("o-ghost", [("d-3", 7)])

    _respond(engine, _success("o-ghost", "d-3", None))
    engine.core.advance_clock(T0)

    (dead,) = engine.bus.messages(DLQ_TOPIC)
    assert (dead.payload["reason"], dead.key) == ("unknown order", "o-ghost")
    driver = engine.drivers.get("d-3")
    assert driver is not None and driver.status is DriverStatus.AVAILABLE


def test_waiting_for_responses_counts_every_record_handled(engine: Engine) -> None:
    assert engine.core.wait_for_responses(0, timeout_s=0)
    assert not engine.core.wait_for_responses(1, timeout_s=0.01)
    engine.core.on_response(b"not json", RESPONSES_TOPIC, None)  # dead-lettered: handled
    engine.core.reject_response(b"x", RESPONSES_TOPIC, None, "kept raising")
    assert engine.core.responses_handled == 2
    assert engine.core.wait_for_responses(2, timeout_s=0)


def test_a_poll_batch_of_answers_is_applied_in_one_store_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.drivers.register("d-1", RESTAURANT, DriverStatus.AVAILABLE)
    engine.drivers.register("d-3", RESTAURANT, DriverStatus.AVAILABLE)
    engine.drivers.claim("o-ghost", [("d-3", 7)])
    engine.core.place(_order("o-1"))
    request_id = engine.core.get("o-1").current_request_id
    single = engine.core.store.change
    monkeypatch.setattr(engine.core.store, "change", lambda *_: pytest.fail("one by one"))
    records = [
        _success("o-1", "d-1", request_id),
        None,
        _success("o-ghost", "d-3", None),
        _success("o-1", "d-1", request_id),
    ]
    raw = [
        (m.value(), RESPONSES_TOPIC, [(k, v.encode()) for k, v in m.headers.items()])
        if m
        else (b"not json", RESPONSES_TOPIC, None)
        for m in records
    ]

    outcomes = engine.core.on_responses(raw)

    assert outcomes == ["assigned", "dead_letter", "dead_letter", "stale"]
    assert engine.core.responses_handled == 4
    assert engine.core.get("o-1").driver_id == "d-1"
    driver = engine.drivers.get("d-3")
    assert driver is not None and driver.status is DriverStatus.AVAILABLE  # the stray freed
    monkeypatch.setattr(engine.core.store, "change", single)


def test_a_wall_clock_cannot_be_advanced() -> None:
    store = InMemoryOrderStore()
    core = OrderCore(
        store,
        store,
        InProcessBus(),
        InMemoryDriverIndex(),
        retry=RetryPolicy(),
        clock=lambda: T0,
        metrics=ServiceMetrics("orders"),
    )
    assert not core.simulated
    with pytest.raises(WallClockError):
        core.advance_clock(T0)


class _OverlapWatchingBus:
    """Records every message, and publications of one thread interleaved with another's."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.overlaps = 0
        self._owner: int | None = None

    def publish(self, message: Outgoing) -> None:
        me = threading.get_ident()
        if self._owner not in (None, me):
            self.overlaps += 1
        self._owner = me
        self.keys.append(message.key)

    def flush(self) -> None:
        time.sleep(0.0002)  # widen the window in which another batch could start
        self._owner = None


def _place(store: InMemoryOrderStore, order_id: str) -> None:
    store.add(place_order(_order(order_id), event_id=f"r-{order_id}", now=T0))


@pytest.fixture
def relay_thread() -> Iterator[tuple[OutboxRelay, InMemoryOrderStore, _OverlapWatchingBus]]:
    store, bus = InMemoryOrderStore(), _OverlapWatchingBus()
    relay = OutboxRelay(store, bus, clock=lambda: T0)
    stop = threading.Event()
    thread = relay.start(stop)
    yield relay, store, bus
    stop.set()
    relay.notify()
    thread.join(timeout=10)


def test_the_relay_thread_and_direct_calls_publish_each_message_once_never_together(
    relay_thread: tuple[OutboxRelay, InMemoryOrderStore, _OverlapWatchingBus],
) -> None:
    relay, store, bus = relay_thread
    placed = [f"o-{n}" for n in range(300)]
    for order_id in placed:
        _place(store, order_id)
        relay.notify()
        relay.publish_due(T0)
    assert sorted(bus.keys) == sorted(placed)  # each once
    assert bus.overlaps == 0
    assert relay.published == len(placed)
    assert store.requests_published() == len(placed)
