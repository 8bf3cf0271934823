"""The replay: orders and shifts on a simulated clock, a moving fleet, a backend that assigns.

A one-at-a-time policy is asked for each order as it comes (and on each retry). A windowed
policy (``swifteats.domain.policies.base``) is asked every ``window_minutes`` at a ``decide``
event over what a :class:`~swifteats.domain.dispatch_board.DispatchBoard` holds: the
orders still open (they stay open until someone takes them) and the drivers with their
routes; routes may carry bundles, and a busy driver's queued route starts when it is free.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from replay.backends import Answer, DispatchBackend, WindowedBackend, pipeline_ms
from replay.clock import Event, Priority, SimClock
from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from swifteats.domain.dispatch_board import DispatchBoard
from swifteats.domain.events import AssignmentRequested
from swifteats.domain.fleet import Delivery, Route, Trip, plan_route
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.policies.base import OpenOrder
from swifteats.domain.retry import RetryPolicy

_EVENT_NAMESPACE = uuid.UUID("5f0c1b9e-3a4d-4e8b-9c2f-7d1e6a5b4c3d")
"""Event ids of a replay are derived from order and minute, so reruns are identical."""


_BACKEND_EVENTS = frozenset({"order", "retry", "picked_up", "driver_free"})
"""Events the backend hears of; only before these does its clock need to move."""
_DECISION_EVENTS = frozenset({"order", "retry"})
_JUST_BEFORE = timedelta(milliseconds=1)


@dataclass
class OrderOutcome:
    """Everything the replay learnt about one order."""

    order: LoggedOrder
    attempts: int = 0
    last_error: str | None = None
    trip: Trip | None = None
    eta: int | None = None
    pipeline: dict[str, str | None] | None = None
    """The live pipeline's wall-clock stamps of the last attempt."""


@dataclass
class RunResult:
    """What a replay produced, ready to be written as tables."""

    outcomes: dict[str, OrderOutcome]
    decisions: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    trips: list[Trip]
    routes: list[Route] = field(default_factory=list)
    """Every route driven, bundles whole (the trips are their orders one by one)."""


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """Knobs of a replay that are not the policy's."""

    radius_km: float = 5.0
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(60.0, 2.0, 300.0, 5))
    """Backoff in simulated seconds (default 1, 2, 4, 5, 5 minutes; 5 attempts)."""
    location_interval_min: float = 2.0
    """How often a moving driver reports its position (simulated minutes)."""
    speed: float | None = None
    """None: lockstep. A number: paced, simulated time runs ``speed`` times wall time."""
    poll_interval_s: float = 0.01
    """Paced runs: wall seconds between looks for answers."""


class Replay:
    """Runs one input through a backend.

    Lockstep (the default): every request is answered before the next event, so live and
    in-process runs of one input decide in the same order. Paced: simulated time follows
    the wall clock ``speed`` times faster; orders arrive on schedule whatever the backend
    does, and each answer takes effect at the simulated time it is seen.
    """

    def __init__(
        self, data: ReplayInput, backend: DispatchBackend, clock: SimClock, config: ReplayConfig
    ) -> None:
        self._data = data
        self._backend = backend
        self._clock = clock
        self._config = config
        self._shifts = {d.driver_id: d for d in data.drivers}
        self._position = {d.driver_id: d.start for d in data.drivers}
        self._busy: set[str] = set()
        self._outcomes = {o.order_id: OrderOutcome(o) for o in data.orders}
        self._decisions: list[dict[str, Any]] = []
        self._timeline: list[dict[str, Any]] = []
        self._trips: list[Trip] = []
        self._routes: list[Route] = []
        self._latency: list[dict[str, Any]] = []
        self._windowed = _windowed(backend)
        self._board = DispatchBoard(data.eta, data.service_times)
        self._decision_at: float | None = None
        self._last_shift_end = max((d.shift_end for d in data.drivers), default=0.0)

    def run(self) -> RunResult:
        """Play every event to the end of the day."""
        self._schedule_inputs()
        if self._config.speed is None:
            self._run_lockstep()
        else:
            self._run_paced(self._config.speed)
        return RunResult(
            self._outcomes,
            self._decisions,
            self._timeline,
            self._latency,
            self._trips,
            self._routes,
        )

    def _run_lockstep(self) -> None:
        while batch := self._clock.next_batch():
            self._advance_backend(batch)
            for event in batch:
                if event.kind in _DECISION_EVENTS:
                    self._backend.advance(self._clock.now())
                self._handle(event)
                # One request at a time: same-minute orders are decided in the log's order,
                # whatever partitions the live services read them from.
                for answer in self._backend.collect():
                    self._apply(answer)

    def _run_paced(self, speed: float) -> None:
        start = self._clock.peek() or 0.0
        wall_start = time.monotonic()

        def sim_minutes() -> float:
            return start + (time.monotonic() - wall_start) * speed / 60.0

        while (due := self._clock.peek()) is not None or self._backend.in_flight:
            if due is not None and due <= sim_minutes():
                self._play_batch(self._clock.next_batch())
                continue
            self._clock.advance_to(sim_minutes())
            self._backend.advance(self._clock.now())
            for answer in self._backend.poll():
                self._apply(answer)
            wait_s = self._config.poll_interval_s
            if due is not None:
                wait_s = min(wait_s, (due - sim_minutes()) * 60.0 / speed)
            time.sleep(max(0.0, wait_s))

    def _play_batch(self, batch: list[Event]) -> None:
        """Paced: every event of an instant, then whatever answers are already there."""
        self._backend.advance(self._clock.now())
        for event in batch:
            self._handle(event)
        for answer in self._backend.poll():
            self._apply(answer)

    def _advance_backend(self, batch: list[Event]) -> None:
        """Bring the backend's clock to just before this instant.

        Deliveries and shift changes land first; the last millisecond is crossed only
        before the first retry or order, so retries due now are not released before the
        drivers freed now are available again.
        """
        if any(event.kind in _BACKEND_EVENTS for event in batch):
            self._backend.advance(self._clock.now() - _JUST_BEFORE)

    def _schedule_inputs(self) -> None:
        for shift in self._data.drivers:
            self._clock.schedule(shift.shift_start, Priority.SHIFT_START, "shift_start", shift)
            self._clock.schedule(shift.shift_end, Priority.SHIFT_END, "shift_end", shift)
        for order in self._data.orders:
            self._clock.schedule(order.placed_at, Priority.ORDER, "order", order.order_id)

    def _handle(self, event: Event) -> None:
        handler = getattr(self, f"_on_{event.kind}")
        handler(event.payload)

    def _on_shift_start(self, shift: DriverShift) -> None:
        ends = self._clock.day_start + timedelta(minutes=shift.shift_end)
        self._backend.driver_on(shift.driver_id, shift.start, ends)
        self._board.driver_on(shift.driver_id, shift.start, shift.shift_end)
        self._record(shift.driver_id, "available", shift.start)

    def _on_shift_end(self, shift: DriverShift) -> None:
        if shift.driver_id not in self._busy:
            self._go_offline(shift.driver_id, self._position[shift.driver_id])

    def _go_offline(self, driver_id: str, where: Point) -> None:
        self._backend.driver_off(driver_id)
        self._board.driver_off(driver_id)
        self._record(driver_id, "offline", where)

    def _on_order(self, order_id: str) -> None:
        outcome = self._outcomes[order_id]
        outcome.attempts += 1
        if self._windowed is None:
            self._backend.request(self._request_for(outcome.order))
            return
        self._board.add_order(self._open_order(outcome.order))
        self._decide_by(
            math.ceil(self._clock.minutes / self._windowed.window) * self._windowed.window
        )

    def _decide_by(self, minute: float) -> None:
        """Make sure a decision is due at ``minute`` at the latest (while anyone is on shift)."""
        if self._decision_at is not None and self._decision_at <= minute:
            return
        if minute <= self._last_shift_end:
            self._decision_at = minute
            self._clock.schedule(minute, Priority.DECIDE, "decide", minute)

    def _on_decide(self, minute: float) -> None:
        if self._windowed is None or minute != self._decision_at:
            return  # superseded by an earlier decision
        self._decision_at = None
        now = self._clock.minutes
        started = time.perf_counter()
        assignments = self._windowed.backend.decide(
            self._board.open_orders(), self._board.drivers(now), now
        )
        took_ms = (time.perf_counter() - started) * 1000
        for route in self._board.apply(assignments, now):
            self._launch(route)
            self._log_windowed(route, took_ms)
        if self._board.waiting:
            self._decide_by(now + self._windowed.window)

    def _on_retry(self, order_id: str) -> None:
        if not self._backend.owns_retries:
            self._on_order(order_id)
            return
        self._outcomes[order_id].attempts += 1
        self._backend.retry_due(order_id)

    def _on_trip_step(self, step: tuple[str, str, Point]) -> None:
        driver_id, state, where = step
        self._position[driver_id] = where
        self._record(driver_id, state, where)

    def _on_picked_up(self, order_id: str) -> None:
        self._backend.picked_up(order_id)

    def _on_driver_free(self, route: Route) -> None:
        driver_id, door = route.driver_id, route.end
        self._busy.discard(driver_id)
        for order_id in route.order_ids:
            self._backend.delivered(order_id, driver_id, door)
        self._record(driver_id, "available", door)
        queued = self._board.route_done(driver_id, self._clock.minutes)
        if queued is not None:
            self._launch(queued)
            self._log_windowed(queued, None)
        elif self._clock.minutes >= self._shifts[driver_id].shift_end:
            self._go_offline(driver_id, door)

    def _apply(self, answer: Answer) -> None:
        outcome = self._outcomes[answer.order_id]
        outcome.pipeline = answer.pipeline
        self._latency.append(
            {
                "order_id": answer.order_id,
                "attempt": outcome.attempts,
                "time_min": self._clock.minutes,
                "assigned": answer.driver_id is not None,
                "error": answer.error,
                "answer_ms": answer.answer_ms,
                "in_flight": self._backend.in_flight,
                **pipeline_ms(answer.pipeline, first_attempt=outcome.attempts == 1),
                **{
                    f"{stage}_ms": seconds * 1000
                    for stage, seconds in (
                        answer.decision.timings if answer.decision else {}
                    ).items()
                },
            }
        )
        if answer.decision is not None:
            self._decisions.append(
                {
                    "attempt": outcome.attempts,
                    "time": self._clock.minutes,
                    **answer.decision.log_fields(),
                }
            )
        if answer.driver_id is None and self._backend.owns_retries:
            outcome.last_error = answer.error
            if answer.retry_at is not None:
                self._clock.schedule(answer.retry_at, Priority.RETRY, "retry", answer.order_id)
        elif answer.driver_id is None:
            self._retry_later(outcome, answer.error or "no answer")
        else:
            self._start_trip(outcome, answer.driver_id, answer.eta)

    def _retry_later(self, outcome: OrderOutcome, error: str) -> None:
        outcome.last_error = error
        delay_s = self._config.retry.delay_after(outcome.attempts)
        if delay_s is not None:
            retry_at = self._clock.minutes + delay_s / 60.0
            self._clock.schedule(retry_at, Priority.RETRY, "retry", outcome.order.order_id)

    def _start_trip(self, outcome: OrderOutcome, driver_id: str, eta: int | None) -> None:
        order = outcome.order
        route = plan_route(
            driver_id=driver_id,
            deliveries=[Delivery(order.order_id, order.customer, order.ready_at)],
            restaurant=order.restaurant,
            driver_at=self._position[driver_id],
            depart=self._clock.minutes,
            eta=self._data.eta,
            service=self._data.service_times,
        )
        self._launch(route)
        outcome.eta = eta

    def _launch(self, route: Route) -> None:
        """Put a route on the road: its orders' trips, and every event along the way."""
        driver_id = route.driver_id
        for trip in route.trips():
            outcome = self._outcomes[trip.order_id]
            outcome.trip, outcome.last_error = trip, None
            self._trips.append(trip)
        self._routes.append(route)
        self._busy.add(driver_id)
        self._record(driver_id, "to_restaurant", self._position[driver_id])
        for at, state, where in _steps(route):
            self._clock.schedule(at, Priority.TRIP_STEP, "trip_step", (driver_id, state, where))
        for start, end, leave, arrive in _legs(route):
            self._schedule_moves(driver_id, start, end, leave, arrive)
        for order_id in route.order_ids:
            self._clock.schedule(route.pickup, Priority.TRIP_STEP, "picked_up", order_id)
        self._clock.schedule(route.free_at, Priority.DRIVER_FREE, "driver_free", route)

    def _schedule_moves(
        self, driver_id: str, start: Point, end: Point, leave: float, arrive: float
    ) -> None:
        """Position reports along the straight line, every ``location_interval_min``."""
        step = self._config.location_interval_min
        time = leave + step
        while time < arrive:
            share = (time - leave) / (arrive - leave)
            where = Point(
                start.latitude + (end.latitude - start.latitude) * share,
                start.longitude + (end.longitude - start.longitude) * share,
            )
            self._clock.schedule(time, Priority.TRIP_STEP, "moved", (driver_id, where))
            time += step

    def _on_moved(self, move: tuple[str, Point]) -> None:
        driver_id, where = move
        self._position[driver_id] = where
        self._backend.moved(driver_id, where)
        self._board.moved(driver_id, where)
        self._record(driver_id, "moving", where)

    def _open_order(self, order: LoggedOrder) -> OpenOrder:
        return OpenOrder(
            order.order_id,
            order.restaurant_id,
            order.restaurant,
            order.customer,
            order.placed_at,
            order.ready_at,
            self._config.radius_km,
        )

    def _log_windowed(self, route: Route, decided_ms: float | None) -> None:
        """A windowed decision's trace, per order of the route: the chosen driver (the one
        candidate logged: its distance, slack and ETAs as the route has them, no score) and,
        as its answer time, the decision's wall time (None: a queued route starting)."""
        for trip in route.trips():
            order = self._outcomes[trip.order_id].order
            attempt = self._outcomes[trip.order_id].attempts
            to_restaurant = trip.arrive_restaurant - route.depart
            candidate = {
                "driverId": trip.driver_id,
                "score": None,
                "distanceKm": haversine_km(route.origin, route.restaurant),
                "slack": max(0.0, order.ready_at - route.depart) - to_restaurant,
                "etaToRestaurant": to_restaurant,
                "totalEta": trip.arrive_customer - route.depart,
                "slackTerm": None,
                "distanceTerm": None,
                "etaTerm": None,
                "waitTerm": None,
            }
            self._decisions.append(
                {
                    "attempt": attempt,
                    "time": self._clock.minutes,
                    "orderId": trip.order_id,
                    "chosenDriver": trip.driver_id,
                    "error": None,
                    "driversInArea": None,
                    "reusedClaim": False,
                    "timingsMs": {},
                    "candidates": [candidate],
                }
            )
            self._latency.append(
                {
                    "order_id": trip.order_id,
                    "attempt": attempt,
                    "time_min": self._clock.minutes,
                    "assigned": True,
                    "error": None,
                    "answer_ms": decided_ms,
                    "in_flight": self._board.waiting,
                }
            )

    def _request_for(self, order: LoggedOrder) -> AssignmentRequested:
        now = self._clock.minutes
        return AssignmentRequested(
            event_id=str(uuid.uuid5(_EVENT_NAMESPACE, f"{order.order_id}:{now}")),
            occurred_at=self._clock.now(),
            order_id=order.order_id,
            restaurant=order.restaurant,
            customer=order.customer,
            preparation_time=round(max(0.0, order.ready_at - now), 6),
            radius_km=self._config.radius_km,
            items=tuple({"name": n, "quantity": q, "unitPrice": p} for n, q, p in order.items),
            total_amount=order.total_amount or 0.0,
            special_instructions="",
        )

    def _record(self, driver_id: str, state: str, where: Point) -> None:
        self._timeline.append(
            {
                "time": self._clock.minutes,
                "driver_id": driver_id,
                "state": state,
                "latitude": where.latitude,
                "longitude": where.longitude,
            }
        )


@dataclass(frozen=True, slots=True)
class _Windowed:
    """A backend running a windowed policy, and its window."""

    backend: WindowedBackend
    window: float


def _windowed(backend: DispatchBackend) -> _Windowed | None:
    if isinstance(backend, WindowedBackend) and backend.window_minutes is not None:
        return _Windowed(backend, backend.window_minutes)
    return None


def _steps(route: Route) -> list[tuple[float, str, Point]]:
    """The states a route's driver passes through: (minute, state, where)."""
    steps = [
        (route.arrive_restaurant, "at_restaurant", route.restaurant),
        (route.depart_restaurant, "to_customer", route.restaurant),
    ]
    for stop in route.stops:
        steps.append((stop.arrive, "at_customer", stop.customer))
        if stop is not route.stops[-1]:
            steps.append((stop.leave, "to_customer", stop.customer))
    return steps


def _legs(route: Route) -> list[tuple[Point, Point, float, float]]:
    """The route's drives: (from, to, leave, arrive)."""
    legs = [(route.origin, route.restaurant, route.depart, route.arrive_restaurant)]
    here, leave = route.restaurant, route.depart_restaurant
    for stop in route.stops:
        legs.append((here, stop.customer, leave, stop.arrive))
        here, leave = stop.customer, stop.leave
    return legs
