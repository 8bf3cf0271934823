"""The replay: orders and shifts on a simulated clock, a moving fleet, a backend that assigns."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from replay.backends import Answer, DispatchBackend, pipeline_ms
from replay.clock import Event, Priority, SimClock
from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from swifteats.domain.events import AssignmentRequested
from swifteats.domain.fleet import Trip, plan_trip
from swifteats.domain.geo import Point
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
        self._latency: list[dict[str, Any]] = []

    def run(self) -> RunResult:
        """Play every event to the end of the day."""
        self._schedule_inputs()
        if self._config.speed is None:
            self._run_lockstep()
        else:
            self._run_paced(self._config.speed)
        return RunResult(
            self._outcomes, self._decisions, self._timeline, self._latency, self._trips
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
        self._record(shift.driver_id, "available", shift.start)

    def _on_shift_end(self, shift: DriverShift) -> None:
        if shift.driver_id not in self._busy:
            self._backend.driver_off(shift.driver_id)
            self._record(shift.driver_id, "offline", self._position[shift.driver_id])

    def _on_order(self, order_id: str) -> None:
        outcome = self._outcomes[order_id]
        outcome.attempts += 1
        self._backend.request(self._request_for(outcome.order))

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

    def _on_driver_free(self, trip: Trip) -> None:
        door = self._outcomes[trip.order_id].order.customer
        self._busy.discard(trip.driver_id)
        self._backend.delivered(trip.order_id, trip.driver_id, door)
        self._record(trip.driver_id, "available", door)
        if self._clock.minutes >= self._shifts[trip.driver_id].shift_end:
            self._backend.driver_off(trip.driver_id)
            self._record(trip.driver_id, "offline", door)

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
        trip = plan_trip(
            driver_id=driver_id,
            order_id=order.order_id,
            now=self._clock.minutes,
            driver_at=self._position[driver_id],
            restaurant=order.restaurant,
            customer=order.customer,
            ready_at=order.ready_at,
            eta=self._data.eta,
            service=self._data.service_times,
        )
        outcome.trip, outcome.eta, outcome.last_error = trip, eta, None
        self._busy.add(driver_id)
        self._trips.append(trip)
        self._record(driver_id, "to_restaurant", self._position[driver_id])
        steps = (
            (trip.arrive_restaurant, "at_restaurant", order.restaurant),
            (trip.depart_restaurant, "to_customer", order.restaurant),
            (trip.arrive_customer, "at_customer", order.customer),
        )
        for at, state, where in steps:
            self._clock.schedule(at, Priority.TRIP_STEP, "trip_step", (driver_id, state, where))
        self._schedule_moves(
            driver_id,
            self._position[driver_id],
            order.restaurant,
            trip.assigned_at,
            trip.arrive_restaurant,
        )
        self._schedule_moves(
            driver_id,
            order.restaurant,
            order.customer,
            trip.depart_restaurant,
            trip.arrive_customer,
        )
        self._clock.schedule(trip.pickup, Priority.TRIP_STEP, "picked_up", order.order_id)
        self._clock.schedule(trip.free_at, Priority.DRIVER_FREE, "driver_free", trip)

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
        self._record(driver_id, "moving", where)

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
