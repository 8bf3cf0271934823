"""The replay: logged orders and shifts on a simulated clock, driven through the services.

Each instant the scheduler plays the fleet's events (shifts, moves, pickups, drop-offs)
and places the orders logged for it; then, when an order was placed or a service asked to
be woken, the engine's barrier (:meth:`replay.engine.Engine.settle`) publishes, decides and
answers everything due, and the fleet drives the routes the answers gave. Retries, dead
letters, windows and decisions are the services' own (``replay.engine``); this module only
keeps the clock and the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replay.decision_log import EXPLAINED, number_attempts
from replay.engine import Engine
from replay.fleet import Fleet
from replay.inputs import LoggedOrder, ReplayInput
from replay.scheduler import Priority, Scheduler
from swifteats.domain.fleet import Route, Trip
from swifteats.progress import ProgressSink, Tick


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
    day_end: float = float("inf")
    """The end of the day's last shift (minutes): an order still open then is undelivered."""


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """Knobs of a replay that are not the services'."""

    radius_km: float = 5.0
    location_interval_min: float = 2.0
    """How often a moving driver reports its position (simulated minutes)."""
    speed: float | None = None
    """None: lockstep, as fast as the services answer. A number: paced, each instant is
    played no earlier than ``speed`` times faster than wall time."""
    queued_routes: bool = False
    """Whether the policy may queue routes on busy drivers (the windowed ones do)."""
    stop_at_day_end: bool = False
    """No service is woken after the day's last shift ends (orders retried without limit
    would otherwise never stop); they stay open, undelivered."""


class Replay:
    """Runs one input through an engine (see the module); tells ``progress`` after each
    barrier how many orders have their final answer, how many wait for one, and the
    simulated time."""

    def __init__(
        self,
        data: ReplayInput,
        engine: Engine,
        scheduler: Scheduler,
        config: ReplayConfig,
        *,
        progress: ProgressSink | None = None,
    ) -> None:
        self._data = data
        self._progress = progress
        self._engine = engine
        self._scheduler = scheduler
        self._config = config
        self._fleet = Fleet(
            data,
            scheduler,
            engine,
            location_interval_min=config.location_interval_min,
            queued_routes=config.queued_routes,
        )
        self._outcomes = {o.order_id: OrderOutcome(o) for o in data.orders}
        self._latency: list[dict[str, Any]] = []
        self._due = False
        self._wakes: set[float] = set()
        self._open = 0
        self._answered = 0
        self._day_end = max((s.shift_end for s in data.drivers), default=float("inf"))

    def run(self) -> RunResult:
        """Play every event to the end of the day."""
        self._fleet.schedule_shifts()
        for order in self._data.orders:
            self._scheduler.at(order.revealed_at, Priority.ORDER, self._place, order)
        pace = None if self._config.speed is None else _pacer(self._config.speed)
        # both services' clocks start together
        self._engine.settle(self._scheduler.now(), routes_of=[])
        self._scheduler.run_until(before_instant=self._begin, after_instant=self._settle, pace=pace)
        self._report()
        for order_id, final in self._engine.final_orders(list(self._outcomes)).items():
            outcome = self._outcomes[order_id]
            outcome.attempts, outcome.last_error = final.attempts, final.last_error
            outcome.pipeline = final.pipeline
        for order_id, trip in self._fleet.trips.items():
            self._outcomes[order_id].trip = trip
            self._outcomes[order_id].last_error = None
        decisions = number_attempts(
            self._engine.decisions(), self._latency, self._scheduler.minute_of
        )
        _add_step_timings(self._latency, decisions)
        return RunResult(
            self._outcomes,
            decisions,
            self._fleet.timeline,
            self._latency,
            list(self._fleet.trips.values()),
            self._fleet.routes,
            self._day_end,
        )

    def _begin(self) -> None:
        self._engine.begin(self._scheduler.now())

    def _place(self, order: LoggedOrder) -> None:
        self._engine.place(order, radius_km=self._config.radius_km, now_min=order.revealed_at)
        self._open += 1
        self._due = True

    def _wake(self, minute: float) -> None:
        self._wakes.discard(minute)
        self._due = True

    def _settle(self) -> None:
        """The instant's barrier, when an order was placed or a service asked for it; the
        routes that drop-offs started are read with it (alone when there is none)."""
        starting = self._fleet.take_starting()
        if not self._due:
            if starting:
                self._fleet.start_queued(starting, self._engine.driver_routes(starting))
            return
        self._due = False
        now = self._scheduler.minutes
        settled = self._engine.settle(self._scheduler.now(), routes_of=starting)
        self._fleet.start_queued(starting, settled.routes)
        assigned = []
        # by order: a live Order Service applies answers in the order it reads them
        for applied in sorted(settled.applied, key=lambda a: (a.order_id, a.attempt)):
            if applied.outcome != "retry":
                self._open -= 1
                self._answered += 1
            self._latency.append(
                {
                    "order_id": applied.order_id,
                    "attempt": applied.attempt,
                    "time_min": now,
                    "assigned": applied.driver_id is not None,
                    "error": applied.error,
                    "answer_ms": settled.answer_ms,
                    "in_flight": self._open,
                }
            )
            if applied.outcome == "assigned" and applied.driver_id is not None:
                self._outcomes[applied.order_id].eta = applied.eta
                assigned.append((applied.order_id, applied.driver_id))
        self._fleet.queued(settled.queued)
        self._fleet.assigned(assigned)
        if settled.wake_at is not None:
            minute = self._scheduler.minute_of(settled.wake_at)
            last = self._day_end if self._config.stop_at_day_end else float("inf")
            if now < minute <= last and minute not in self._wakes:
                self._wakes.add(minute)
                self._scheduler.at(minute, Priority.WAKE, self._wake, minute)
        self._report()

    def _report(self) -> None:
        if self._progress is not None:
            simulated = self._scheduler.now().strftime("%Y-%m-%d %H:%M")
            total = len(self._outcomes)
            self._progress(Tick(self._answered, total, "orders", self._open, simulated))


def _add_step_timings(latency: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> None:
    """Each answered attempt gets its decision's step timings (``search_ms``, …)."""
    timings = {
        (d["orderId"], d["attempt"]): d.get("timingsMs") or {}
        for d in decisions
        if d.get("decision") not in EXPLAINED
    }
    for row in latency:
        steps = timings.get((row["order_id"], row["attempt"]), {})
        row.update({f"{step}_ms": ms for step, ms in steps.items()})


def _pacer(speed: float) -> Callable[[float], None]:
    """Waits until simulated time, running ``speed`` times wall time from the first
    instant, reaches each instant."""
    origin: list[float] = []

    def pace(minute: float) -> None:
        if not origin:
            origin.extend((minute, time.monotonic()))
        first, wall_start = origin
        wait_s = wall_start + (minute - first) * 60.0 / speed - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)

    return pace
