"""The in-process engine: the services' own code over the in-memory adapters.

The Order Service's :class:`~swifteats.services.orders.core.OrderCore` (orders, answers,
retries, dead letters) over the in-memory order store, the Assignment Service's
:class:`~swifteats.services.assignment.core.AssignmentCore` (every policy) over the
in-memory driver index, and the in-process bus between them, each message delivered the
moment it is flushed. No servers; the same decisions as the live engine, by construction.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from replay.engine import Applied, FinalOrder, Settled, order_body
from replay.inputs import LoggedOrder
from swifteats.adapters.memory_bus import Delivery, InProcessBus
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.adapters.memory_orders import InMemoryOrderStore
from swifteats.domain.clock import ManualClock
from swifteats.domain.drivers import DriverStatus, RouteStops
from swifteats.domain.geo import Point
from swifteats.domain.topics import REQUEST_TOPIC_PATTERN, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.core import AssignmentCore
from swifteats.services.orders.core import AppliedAnswer, OrderCore
from swifteats.services.orders.schemas import OrderIn
from swifteats.settings import Settings


class InProcessEngine:
    """Both services in this process (see the module); ``settings`` as the live ones get."""

    def __init__(self, settings: Settings, day_start: datetime) -> None:
        self.drivers = InMemoryDriverIndex()
        self._bus = InProcessBus()
        self._clock = ManualClock(day_start)
        self._decisions: list[dict[str, Any]] = []
        store = InMemoryOrderStore()
        self.orders = OrderCore(
            store,
            store,
            self._bus,
            self.drivers,
            retry=settings.retry_policy,
            clock=self._clock,
            wall=self._clock,
            metrics=ServiceMetrics("order-service"),
        )
        self.assignment = AssignmentCore(
            settings,
            drivers=self.drivers,
            bus=self._bus,
            metrics=ServiceMetrics("driver-assignment"),
            clock=ManualClock(day_start),
            on_decision=self._decisions.append,
        )
        self._now, self._synced = day_start, False
        self._pending: list[AppliedAnswer] = []
        self._bus.subscribe(REQUEST_TOPIC_PATTERN, self._request)
        self._bus.subscribe(RESPONSES_TOPIC, self._response)

    def begin(self, now: datetime) -> None:
        """The Order Service's clock moves to ``now`` before it hears of the instant."""
        self._now, self._synced = now, False

    def _sync(self) -> None:
        if not self._synced:
            self._pending += self.orders.advance_clock(self._now).applied
            self._synced = True

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """Register the driver, available from now until the end of its shift."""
        self.drivers.register(driver_id, at, DriverStatus.AVAILABLE, shift_ends_at, self._now)

    def driver_off(self, driver_id: str) -> None:
        """Mark the driver offline."""
        self.drivers.set_status(driver_id, DriverStatus.OFFLINE)

    def place(self, order: LoggedOrder, *, radius_km: float, now_min: float) -> None:
        """Place the order through the Order Service's own validation."""
        body = order_body(order, radius_km=radius_km, now_min=now_min)
        self._sync()
        self.orders.place(OrderIn.model_validate(body).to_new_order())

    def picked_up(self, order_id: str) -> None:
        """The food left the restaurant."""
        self._sync()
        self.orders.picked_up(order_id)

    def delivered(self, order_id: str) -> None:
        """The order is at the door; its driver is freed there."""
        self._sync()
        self.orders.delivered(order_id)

    def driver_routes(self, driver_ids: list[str]) -> dict[str, RouteStops]:
        """The routes the driver index holds for the drivers."""
        found = {driver_id: self.drivers.get(driver_id) for driver_id in driver_ids}
        return {d: driver.route if driver is not None else () for d, driver in found.items()}

    def settle(self, now: datetime, *, routes_of: list[str]) -> Settled:
        """Publish what is due, decide and apply the answers (all delivered at once)."""
        started = time.perf_counter()
        self._now, self._synced = now, False
        self._sync()
        routes = self.driver_routes(routes_of)
        decided = self.assignment.decide(now)
        applied = self.orders.advance_clock(now)
        pending, self._pending = self._pending, []
        wakes = [w for w in (applied.next_due_at, decided.next_decision_at) if w is not None]
        return Settled(
            [_applied(a) for a in [*pending, *applied.applied]],
            min(wakes, default=None),
            (time.perf_counter() - started) * 1000,
            decided.queued,
            routes,
        )

    def decisions(self) -> list[dict[str, Any]]:
        """Every decision record, in the order made."""
        return list(self._decisions)

    def final_orders(self, order_ids: list[str]) -> dict[str, FinalOrder]:
        """The orders as the in-memory store holds them."""
        finals = {}
        for order_id in order_ids:
            order = self.orders.get(order_id)
            finals[order_id] = FinalOrder(order.attempts, order.last_error, {})
        return finals

    def _request(self, delivery: Delivery) -> None:
        key = delivery.key.decode() if delivery.key else None
        self.assignment.on_request(
            delivery.value, topic=delivery.topic, key=key, headers=delivery.headers
        )

    def _response(self, delivery: Delivery) -> None:
        self.orders.on_response(delivery.value, delivery.topic, delivery.headers)


def _applied(answer: AppliedAnswer) -> Applied:
    return Applied(
        answer.order_id, answer.outcome, answer.driver_id, answer.eta, answer.error, answer.attempt
    )
