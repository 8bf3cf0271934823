"""``greedy-score`` and ``nearest``: one request at a time (the design's Assigner: search,
rank, claim; failures retried with backoff, then given up).

- ``greedy-score`` (the default): the design's ``calculatePriorityScore``, highest first
  (:func:`by_score`).
- ``nearest``: the nearest available driver, whatever the score says (the classic
  baseline of the dispatch literature; :func:`by_distance`).

Both rank the same candidates with the same score terms and shift-end filter, so decision
logs stay comparable; only the order differs. With a travel model that grows with
straight-line distance (both of ours), the design's score falls with distance too, so the
two choose alike; they part where travel time does not follow distance.

The Assigner takes an :data:`Ordering`; :class:`OneAtATime` runs the same through the
``decide`` interface of ``swifteats.domain.policies.base``. Neither has parameters of its
own: the score's weights are :class:`~swifteats.domain.scoring.ScoringWeights`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.geo import haversine_km
from swifteats.domain.policies.base import (
    Assignment,
    DriverView,
    NoParams,
    OpenOrder,
    PolicyContext,
)
from swifteats.domain.ranking import Job, RankedDriver, rank_drivers

Ordering = Callable[[list[RankedDriver]], list[RankedDriver]]
"""Puts ranked candidates (best score first) in the order the policy prefers."""


def by_score(ranked: list[RankedDriver]) -> list[RankedDriver]:
    """``greedy-score``: the ranking's own order, best score first."""
    return ranked


def by_distance(ranked: list[RankedDriver]) -> list[RankedDriver]:
    """``nearest``: nearest first (ties by driver id)."""
    return sorted(ranked, key=lambda r: (r.distance_km, r.driver_id))


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Any instant: minutes become instants for the ranking's shift-end filter."""


@dataclass
class OneAtATime:
    """A one-at-a-time policy through the dispatch interface: each open order in turn,
    ranked exactly as the Assigner ranks it, gets the first free driver in the policy's
    order. The replay and the services run these through the Assigner itself."""

    context: PolicyContext
    params: NoParams
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
                available_since=_instant(d.free_at),
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
