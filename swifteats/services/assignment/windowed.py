"""The Assignment Service's windowed step: requests held, one decision per window.

With a windowed policy (``batch-matching``, ``bundling``, ``rolling-horizon``) a valid
request is not decided when it is read: it is held, and every window the policy decides
for all held requests at once (``swifteats.domain.window_step``) over the drivers near
their restaurants: available ones, and busy ones whose route end a windowed claim
recorded. A route that starts now is claimed in Redis in one atomic step; every order of
it is answered on ``driver_assignment.responses`` with the design's success response,
same driver. A route given to a busy driver is queued in Redis: it may change at any
later window, and starts atomically when the driver's last drop-off frees it; its orders
are answered at the first window after that. A route whose driver was taken meanwhile
(another process of the group) is decided again next window.

A held request nobody takes within ``max_hold_s``, and that is on no queued route, is
answered with the design's failure response, so the Order Service's retries and
dead-lettering apply as with the greedy policy. A route with an ETA larger than an answer
may carry (``MAX_ETA_MINUTES``) is neither claimed nor queued: its orders stay held.

Held requests live in this process only: their offsets are committed when they are
held, and the Order Service sends a request again once it has been unanswered for
``SWIFTEATS_ANSWER_TIMEOUT_S``, which covers a process that dies holding some. A request
held again (such a re-send, or a redelivery) keeps its first holding instant; one whose
order already holds a driver is answered with that driver.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from swifteats.domain.assignment import Timer
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.drivers import DriverIndex, DriverRecord, DriverStatus, RouteStops
from swifteats.domain.events import (
    MAX_ETA_MINUTES,
    AssignmentFailed,
    AssignmentRequested,
    DriverAssigned,
)
from swifteats.domain.policies.base import DispatchPolicy, OpenOrder, PolicyContext
from swifteats.domain.policies.support.explain import Explanation
from swifteats.domain.ranking import no_candidate_reason
from swifteats.domain.window_step import (
    RoutePlan,
    WindowDecision,
    decide_window,
    explanation_records,
    minutes_since,
    route_decisions,
)
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.decisions import Arrival, DecisionSink
from swifteats.services.outgoing import answer

log = logging.getLogger("swifteats.assignment")
EXPLAINED = "assignment decision explained"
"""The log message of a matched pair that started nothing now (queued or postponed)."""


@dataclass(frozen=True, slots=True)
class _Held:
    arrival: Arrival
    held_since: datetime

    @property
    def request(self) -> AssignmentRequested:
        """The request held."""
        return self.arrival.request


class WindowedStep:
    """Holds requests and decides them every ``policy.window_minutes`` (see the module).

    Not thread-safe: the consumer thread both holds requests and runs the steps.
    """

    def __init__(
        self,
        policy: DispatchPolicy,
        context: PolicyContext,
        drivers: DriverIndex,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        max_hold_s: float,
        timer: Timer = time.perf_counter,
        on_decision: DecisionSink | None = None,
    ) -> None:
        if policy.window_minutes is None:
            raise ValueError(f"policy {policy.name!r} decides one request at a time")
        self._policy = policy
        self._context = context
        self._drivers = drivers
        self._clock = clock
        self._metrics = metrics
        self._window = timedelta(minutes=policy.window_minutes)
        self._max_hold = timedelta(seconds=max_hold_s)
        self._timer = timer
        self._on_decision = on_decision
        self._held: dict[str, _Held] = {}
        self.queued: tuple[str, ...] = ()
        """The drivers the last step gave a queued route (one that starts when their
        current route ends): only a step queues routes."""
        self._explained: dict[str, tuple[Any, ...]] = {}
        """Per held order, the last queued or postponed pair recorded (a pair repeated
        window after window is recorded once, when it first appears or changes)."""
        self.restart(clock())

    def restart(self, epoch: datetime) -> None:
        """Count windows from ``epoch`` (an external clock's first instant); nothing held."""
        if self._held:
            raise RuntimeError("windows cannot restart while requests are held")
        self._epoch = epoch
        """Minutes the policy sees count from here."""
        self._next_at = epoch + self._window

    @property
    def held(self) -> int:
        """Requests waiting for a decision."""
        return len(self._held)

    @property
    def next_at(self) -> datetime | None:
        """The end of the current window while a request is held; None otherwise."""
        return self._next_at if self._held else None

    def hold(self, arrival: Arrival) -> None:
        """Keep a valid request for the next decision."""
        earlier = self._held.get(arrival.request.order_id)
        since = arrival.consumed_at if earlier is None else earlier.held_since
        self._held[arrival.request.order_id] = _Held(arrival, since)

    def due(self) -> bool:
        """Whether a window has ended since the last decision."""
        return self._clock() >= self._next_at

    def step(self) -> list[Outgoing]:
        """Decide for every held request; the answers to publish (held ones stay held)."""
        now = self._clock()
        self._next_at += self._window * ((now - self._next_at) // self._window + 1)
        self.queued = ()
        if not self._held:
            return []
        start = self._timer()
        answers = self._already_claimed(now)
        held = sorted(self._held.values(), key=lambda h: h.arrival.turn)
        nearby = _nearby(self._drivers, held)
        plans = self._drivers.plans(
            [d.driver_id for d in nearby.values() if d.status is DriverStatus.BUSY]
        )
        searched = self._timer()
        orders = [OpenOrder.from_request(h.request, epoch=self._epoch) for h in held]
        decision = decide_window(
            self._policy,
            self._context,
            orders,
            nearby.values(),
            plans,
            now=minutes_since(now, self._epoch),
            epoch=self._epoch,
        )
        decided = self._timer()
        decision = _answerable(decision)
        ready_at = {o.order_id: o.ready_at for o in orders}
        why = {e.driver_id: e for e in decision.explanations if e.committed}
        claimed_by: set[str] = set()
        for plan in decision.started:
            if self._drivers.claim_route(plan.driver_id, list(plan.etas), plan.end):
                claimed_by.add(plan.driver_id)
                self._record(plan, ready_at, why.get(plan.driver_id))
                for order_id, eta in plan.etas:
                    answers.append(self._assigned(order_id, plan.driver_id, eta, now))
        for fields in explanation_records(decision.explanations, claimed_by, now, self._new):
            self._emit(fields, EXPLAINED)
        for driver_id, route in decision.queued.items():
            # a driver freed meanwhile is not queued: next window
            if self._drivers.queue_route(driver_id, route) and route is not None:
                self.queued += (driver_id,)
        claimed = self._timer()
        queued = {
            order_id
            for route in [*(p.queued for p in plans.values()), *decision.queued.values()]
            if route is not None
            for order_id in route.order_ids
        }
        answers += self._expired(now, queued)
        self._observe(start, searched, decided, claimed)
        log.info(
            "windowed decision",
            extra={
                "fields": {
                    "policy": self._policy.name,
                    "orders": len(orders),
                    "drivers": len(nearby),
                    "started": [[p.driver_id, [o for o, _ in p.etas]] for p in decision.started],
                    "queued": {d: r and r.order_ids for d, r in decision.queued.items()},
                    "answered": len(answers),
                    "stillHeld": len(self._held),
                    "timingsMs": round((claimed - start) * 1000, 3),
                }
            },
        )
        return answers

    def _already_claimed(self, now: datetime) -> list[Outgoing]:
        """Answer the held orders that hold a driver already: a queued route that started,
        or a request sent again."""
        claims = self._drivers.claims(list(self._held))
        for order_id, claim in claims.items():
            self._emit(
                {
                    "orderId": order_id,
                    "chosenDriver": claim.driver_id,
                    "error": None,
                    "driversInArea": None,
                    "reusedClaim": True,
                    "timingsMs": {},
                    "candidates": [],
                }
            )
        return [self._assigned(o, c.driver_id, c.eta, now) for o, c in claims.items()]

    def _new(self, order_id: str, why: Explanation) -> bool:
        """Whether the pair is new for the order (then remembered)."""
        pair = (why.committed, why.driver_id, why.order_ids)
        if self._explained.get(order_id) == pair:
            return False
        self._explained[order_id] = pair
        return True

    def _record(self, plan: RoutePlan, ready_at: dict[str, float], why: Explanation | None) -> None:
        """Log (and hand to ``on_decision``) each order of a route that starts now."""
        if plan.route is not None:
            for fields in route_decisions(plan.route, ready_at, why):
                self._emit(fields)

    def _emit(self, fields: dict[str, Any], message: str = "assignment decision") -> None:
        log.info(message, extra={"fields": fields})
        if self._on_decision is not None:
            self._on_decision(fields)

    def _expired(self, now: datetime, queued: set[str]) -> list[Outgoing]:
        """Failure answers for the requests held longer than ``max_hold_s`` and not on a
        queued route."""
        expired = [
            h
            for h in self._held.values()
            if now - h.held_since >= self._max_hold and h.request.order_id not in queued
        ]
        answers = []
        for held in expired:
            request = held.request
            in_area = self._drivers.search(request.restaurant, request.radius_km)
            reason = no_candidate_reason(len(in_area))
            self._metrics.count("failed")
            self._metrics.count(f"failed:{reason}")
            del self._held[request.order_id]
            self._explained.pop(request.order_id, None)
            response = AssignmentFailed(request.order_id, reason, now)
            answers.append(answer(response, request.event_id, held.arrival.received_at))
        return answers

    def _assigned(self, order_id: str, driver_id: str, eta: int, now: datetime) -> Outgoing:
        held = self._held.pop(order_id)
        self._explained.pop(order_id, None)
        self._metrics.count("assigned")
        response = DriverAssigned(order_id, driver_id, eta, now)
        return answer(response, held.request.event_id, held.arrival.received_at)

    def _observe(self, start: float, searched: float, decided: float, claimed: float) -> None:
        for stage, seconds in (
            ("search", searched - start),
            ("scoring", decided - searched),
            ("claim", claimed - decided),
            ("total", claimed - start),
        ):
            self._metrics.observe(stage, seconds)


def _answerable(decision: WindowDecision) -> WindowDecision:
    """The decision without the routes whose ETAs no answer may carry (a queued one is
    dropped: the driver has no next route)."""

    def in_time(etas: RouteStops) -> bool:
        return all(eta <= MAX_ETA_MINUTES for _, eta in etas)

    started = [plan for plan in decision.started if in_time(plan.etas)]
    queued = {d: r if r is None or in_time(r.etas) else None for d, r in decision.queued.items()}
    if len(started) < len(decision.started) or queued != decision.queued:
        log.warning("routes with an ETA over %d minutes left out", MAX_ETA_MINUTES)
    return WindowDecision(started, queued, decision.explanations)


def _nearby(drivers: DriverIndex, held: list[_Held]) -> dict[str, DriverRecord]:
    """Every driver within the radius of a held order's restaurant, by driver id: the
    same drivers in the same order however the requests arrived (a live service reads its
    geo topics in no fixed order) and whichever index found them."""
    found = drivers.search_union([(h.request.restaurant, h.request.radius_km) for h in held])
    return {driver.driver_id: driver for driver in sorted(found, key=lambda d: d.driver_id)}
