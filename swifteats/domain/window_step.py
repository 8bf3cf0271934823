"""One decision of a windowed policy as the Driver Assignment Service takes it.

The service holds the requests of a windowed policy (``swifteats.domain.policies.base``) and,
every window, rebuilds a :class:`~swifteats.domain.dispatch_board.DispatchBoard` (whose
checks and route planning are the replay's) from what the driver index knows: drivers
available now; drivers on a route whose end a windowed claim recorded, with their queued
route; and the held orders. The policy decides on it as it does in the replay. A route
that starts now is claimed, and each of its orders answered with its ETA, the minutes
until its driver is at the customer; a queued route that changed is written back, to
start when the driver's route ends. A driver busy with no known end (claimed one request
at a time) is not shown. Times are minutes since an epoch the service chooses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from swifteats.domain.dispatch_board import DispatchBoard, Underway
from swifteats.domain.drivers import (
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
    RouteStops,
)
from swifteats.domain.fleet import Route
from swifteats.domain.geo import haversine_km
from swifteats.domain.policies.base import DispatchPolicy, OpenOrder, PolicyContext
from swifteats.domain.policies.support.explain import Explanation


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A route to claim: the driver, each order with its ETA in drop-off order, its end,
    and the route as planned (for the decision's record)."""

    driver_id: str
    etas: RouteStops
    end: RouteEnd | None = None
    route: Route | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """What one window decided: routes starting now, and queued routes that changed."""

    started: list[RoutePlan] = field(default_factory=list)
    queued: dict[str, QueuedRoute | None] = field(default_factory=dict)
    """Driver → its new queued route (None: it has none any more)."""
    explanations: list[Explanation] = field(default_factory=list, compare=False)
    """Every pair the policy matched, committed or postponed, with its cost terms (the
    policies that decide by a matching cost; ``support.explain``)."""


def minutes_since(instant: datetime, epoch: datetime) -> float:
    """``instant`` as minutes after ``epoch``."""
    return (instant - epoch).total_seconds() / 60.0


def decide_window(
    policy: DispatchPolicy,
    context: PolicyContext,
    orders: Sequence[OpenOrder],
    drivers: Iterable[DriverRecord],
    plans: Mapping[str, DriverPlan],
    *,
    now: float,
    epoch: datetime,
) -> WindowDecision:
    """The routes the policy starts and queues at ``now`` (see the module).

    Raises:
        PolicyError: the policy returned an assignment that cannot be carried out.
    """
    board = DispatchBoard(context.eta, context.service)
    queues: dict[str, tuple[str, ...]] = {}
    for driver in drivers:
        shift_end = (
            math.inf if driver.shift_ends_at is None else minutes_since(driver.shift_ends_at, epoch)
        )
        plan = plans.get(driver.driver_id)
        if driver.status is DriverStatus.AVAILABLE:
            since = driver.available_since
            free_since = now if since is None else minutes_since(since, epoch)
            board.driver_on(driver.driver_id, driver.location, shift_end, free_since)
        elif driver.status is DriverStatus.BUSY and plan is not None and plan.end is not None:
            free_at = minutes_since(plan.end.free_at, epoch)
            underway = Underway(free_at, plan.end.location)
            board.driver_underway(driver.driver_id, driver.location, shift_end, underway)
            queues[driver.driver_id] = () if plan.queued is None else plan.queued.order_ids
    for order in orders:
        board.add_order(order)
    for driver_id, order_ids in queues.items():
        board.queue(driver_id, order_ids, now)
    shown = board.drivers(now)
    before = {d.driver_id: d.queued for d in shown}
    explaining = getattr(policy, "decide_explained", None)
    if explaining is not None:
        assignments, explanations = explaining(board.open_orders(), shown, now)
    else:
        assignments, explanations = policy.decide(board.open_orders(), shown, now), []
    started = board.apply(assignments, now)
    changed = {
        d.driver_id: _queued(board.queued_route(d.driver_id))
        for d in board.drivers(now)
        if d.driver_id in before and d.queued != before[d.driver_id]
    }
    return WindowDecision([_started(r, now, epoch) for r in started], changed, explanations)


def _started(route: Route, now: float, epoch: datetime) -> RoutePlan:
    etas = tuple((stop.order_id, math.ceil(stop.arrive - now)) for stop in route.stops)
    end = RouteEnd(epoch + timedelta(minutes=route.free_at), route.end)
    return RoutePlan(route.driver_id, etas, end, route)


def _queued(route: Route | None) -> QueuedRoute | None:
    """A queued route as the driver index keeps it: minutes count from its start."""
    if route is None:
        return None
    etas = tuple((stop.order_id, math.ceil(stop.arrive - route.depart)) for stop in route.stops)
    return QueuedRoute(etas, route.free_at - route.depart, route.end)


def route_decisions(
    route: Route, ready_at: Mapping[str, float], why: Explanation | None = None
) -> list[dict[str, Any]]:
    """A started route's decision record per order, as a one-at-a-time decision logs it:
    the chosen driver first, with its distance, slack and ETAs as the route has them; a
    windowed policy decides by matching cost, not by the design's score, so with ``why``
    the chosen driver carries the cost and its terms and the runners-up follow
    (:func:`explained_candidates`)."""
    to_restaurant = route.arrive_restaurant - route.depart
    distance = haversine_km(route.origin, route.restaurant)
    return [
        {
            "orderId": trip.order_id,
            "chosenDriver": route.driver_id,
            "error": None,
            "driversInArea": None,
            "reusedClaim": False,
            "decision": "started",
            "routeOrders": list(route.order_ids),
            "timingsMs": {},
            "candidates": [
                {
                    "driverId": route.driver_id,
                    "score": None,
                    "distanceKm": distance,
                    "slack": max(0.0, ready_at[trip.order_id] - route.depart) - to_restaurant,
                    "etaToRestaurant": to_restaurant,
                    "totalEta": trip.arrive_customer - route.depart,
                    "slackTerm": None,
                    "distanceTerm": None,
                    "etaTerm": None,
                    "waitTerm": None,
                    "supplyTerm": None,
                    "idleTerm": None,
                    **(_cost_fields(why) if why else {}),
                },
                *(explained_candidates(why)[1:] if why else []),
            ],
        }
        for trip in route.trips()
    ]


def explanation_records(
    explanations: Sequence[Explanation],
    started: set[str],
    decided_at: datetime,
    wanted: Callable[[str, Explanation], bool] = lambda order_id, why: True,
) -> list[dict[str, Any]]:
    """Decision records of the pairs that did not start now, one per order ``wanted``: a
    commitment queued on a busy driver (``queued``) or a pair ``postponed`` to a later
    window. They answer no request (``chosenDriver`` is null for a postponed pair)."""
    return [
        {
            "orderId": order_id,
            "chosenDriver": why.driver_id if why.committed else None,
            "error": None,
            "driversInArea": None,
            "reusedClaim": False,
            "decision": "queued" if why.committed else "postponed",
            "decidedAt": decided_at.isoformat(),
            "routeOrders": list(why.order_ids),
            "timingsMs": {},
            "candidates": explained_candidates(why),
        }
        for why in explanations
        if not (why.committed and why.driver_id in started)
        for order_id in why.order_ids
        if wanted(order_id, why)
    ]


def explained_candidates(why: Explanation) -> list[dict[str, Any]]:
    """The matched driver, the cheapest other drivers for its orders, and the cheapest
    other orders for that driver, each with its matching cost."""
    matched = {"driverId": why.driver_id, "kind": "matched", **_cost_fields(why)}
    others = [
        {"driverId": a.driver_id, "kind": kind, "bundle": list(a.order_ids), "cost": a.cost}
        for kind, alternatives in (
            ("other_driver", why.other_drivers),
            ("other_orders", why.other_orders),
        )
        for a in alternatives
    ]
    return [matched, *others]


def _cost_fields(why: Explanation) -> dict[str, Any]:
    return {
        "kind": "matched",
        "bundle": list(why.order_ids),
        "cost": why.cost,
        "leaveBy": why.leave_by,
        **{_CAMEL.get(name, name): value for name, value in why.terms.items()},
    }


_CAMEL = {"customer_minutes": "customerMinutes", "courier_minutes": "courierMinutes"}
"""Cost terms as the decision records name them (the others are one word)."""
