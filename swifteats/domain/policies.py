"""Assignment policies, chosen by name (``SWIFTEATS_POLICY`` in the services, ``--policy``
in ``swifteats replay``, ``swifteats sweep`` and ``swifteats bench policies``).

One request at a time (the design's Assigner: search, rank, claim; failures retried with
backoff, then given up):

- ``greedy-score`` (the default): the design's ``calculatePriorityScore``, highest first.
- ``nearest``: the nearest available driver, whatever the score says (the classic
  baseline of the dispatch literature).

Both rank the same candidates with the same score terms and shift-end filter, so decision
logs stay comparable; only the order differs. With a travel model that grows with
straight-line distance (both of ours), the design's score falls with distance too, so the
two choose alike; they part where travel time does not follow distance.

Windowed (``swifteats.domain.dispatch``: requests collect, then one decision for all of
them; an order nobody takes stays open):

- ``batch-matching``: a minimum-cost matching on the design's score terms
  (``swifteats.domain.batch_matching``).
- ``bundling``: orders of one restaurant bundled, routes matched to drivers free now or
  soon, queued routes that can change until they start (``swifteats.domain.route_policies``).
- ``rolling-horizon``: the same, with decisions postponed while the food is far from
  ready (``swifteats.domain.route_policies``).

:func:`dispatch_policy` builds any of them as a :class:`~swifteats.domain.dispatch.DispatchPolicy`;
:func:`policy_named` gives the Assigner's ordering of a one-at-a-time policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from swifteats.domain.batch_matching import BatchMatching
from swifteats.domain.dispatch import (
    Assignment,
    DispatchPolicy,
    DriverView,
    OpenOrder,
    PolicyContext,
)
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.geo import haversine_km
from swifteats.domain.ranking import Job, RankedDriver, rank_drivers
from swifteats.domain.route_policies import ROLLING_HORIZON, RouteMatching, RouteMatchingParams

DEFAULT_POLICY = "greedy-score"

Ordering = Callable[[list[RankedDriver]], list[RankedDriver]]
"""Puts ranked candidates (best score first) in the order the policy prefers."""


def _by_score(ranked: list[RankedDriver]) -> list[RankedDriver]:
    return ranked


def _by_distance(ranked: list[RankedDriver]) -> list[RankedDriver]:
    return sorted(ranked, key=lambda r: (r.distance_km, r.driver_id))


POLICIES: dict[str, Ordering] = {
    DEFAULT_POLICY: _by_score,
    "nearest": _by_distance,
}
"""The one-request-at-a-time policies, as the Assigner's orderings."""

WindowedFactory = Callable[[PolicyContext, float | None], DispatchPolicy]
"""Builds a windowed policy for a context, with its own window or the one given (minutes)."""


def _batch_matching(context: PolicyContext, window: float | None) -> DispatchPolicy:
    return BatchMatching(context) if window is None else BatchMatching(context, window)


def _route_matching(params: RouteMatchingParams, name: str) -> WindowedFactory:
    def build(context: PolicyContext, window: float | None) -> DispatchPolicy:
        chosen = params if window is None else replace(params, window_minutes=window)
        return RouteMatching(context, chosen, name=name)

    return build


WINDOWED: dict[str, WindowedFactory] = {
    "batch-matching": _batch_matching,
    "bundling": _route_matching(RouteMatchingParams(), "bundling"),
    "rolling-horizon": _route_matching(ROLLING_HORIZON, "rolling-horizon"),
}
"""The windowed policies by name."""

POLICY_NAMES = (*POLICIES, *WINDOWED)


def check_policy(name: str) -> str:
    """``name`` if it is a policy; a ValueError listing the known names otherwise."""
    if name not in POLICY_NAMES:
        known = ", ".join(POLICY_NAMES)
        raise ValueError(f"unknown policy {name!r}; known policies: {known}")
    return name


def is_windowed(name: str) -> bool:
    """Whether the policy decides on a window (not one request at a time)."""
    return check_policy(name) in WINDOWED


def policy_named(name: str) -> Ordering:
    """The Assigner's ordering for a one-at-a-time policy.

    Raises:
        ValueError: an unknown name (the message lists the known ones), or a windowed
            policy, which the Assigner cannot run.
    """
    if is_windowed(name):
        raise ValueError(f"policy {name!r} decides on a window, not one request at a time")
    return POLICIES[name]


def dispatch_policy(
    name: str, context: PolicyContext, *, window_minutes: float | None = None
) -> DispatchPolicy:
    """The policy called ``name`` behind the one interface of ``swifteats.domain.dispatch``;
    a windowed one decides every ``window_minutes`` (default: the policy's own window)."""
    if is_windowed(name):
        return WINDOWED[name](context, window_minutes)
    return OneAtATime(context, name, POLICIES[name])


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Any instant: minutes become instants for the ranking's shift-end filter."""


@dataclass
class OneAtATime:
    """A one-at-a-time policy through the dispatch interface: each open order in turn,
    ranked exactly as the Assigner ranks it, gets the first free driver in the policy's
    order. The replay and the services run these through the Assigner itself."""

    context: PolicyContext
    name: str
    ordering: Ordering
    window_minutes: float | None = None
    holds_orders: bool = False

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        """Each unqueued order in the given order, to its best driver still free."""
        free = {d.driver_id: d for d in drivers if d.idle}
        assignments = []
        for order in orders:
            if order.queued_with is not None:
                continue
            chosen = next(iter(self._ranked(order, free.values(), now)), None)
            if chosen is not None:
                assignments.append(Assignment(chosen.driver_id, (order.order_id,)))
                del free[chosen.driver_id]
        return assignments

    def _ranked(
        self, order: OpenOrder, drivers: Iterable[DriverView], now: float
    ) -> list[RankedDriver]:
        records = [
            DriverRecord(
                d.driver_id,
                d.location,
                DriverStatus.AVAILABLE,
                shift_ends_at=_instant(d.shift_ends_at),
            )
            for d in drivers
            if haversine_km(d.location, order.restaurant) <= order.radius_km
        ]
        job = Job(
            order.order_id,
            order.restaurant,
            order.customer,
            max(0.0, order.ready_at - now),
            order.radius_km,
        )
        ranked = rank_drivers(
            job,
            records,
            self.context.weights,
            self.context.eta,
            now=_instant(now),
            pickup_lead_minutes=self.context.service.pickup_minutes / 2,
        )
        return self.ordering(ranked)


def _instant(minutes: float) -> datetime | None:
    if minutes == float("inf"):
        return None
    return _EPOCH + timedelta(minutes=minutes)
