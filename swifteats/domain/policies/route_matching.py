"""``bundling`` and ``rolling-horizon``: routes of bundled orders matched to drivers.

One class, :class:`RouteMatching`, runs both: they differ only in their
:class:`RouteMatchingParams` (``rolling-horizon``'s are :data:`ROLLING_HORIZON`).

Both decide every ``window_minutes`` over every open order, queued ones included (a
queued route is a commitment that may still change), and over every driver on shift
that is free now or will be within ``queue_horizon`` minutes:

1. **Bundles.** Each restaurant's orders are partitioned into bundles
   (``swifteats.domain.policies.support.bundles``) of at most ``size`` orders, where
   ``size`` follows the load: the orders waiting per driver available, rounded up,
   capped at ``max_bundle``. With drivers to spare every order travels alone.
2. **Costs.** For each bundle and driver, the fleet model's timing: the driver leaves
   when it is free, reaches the restaurant, picks up once the food is ready and drops off
   in the bundle's order. The cost is the customer-minutes still to come (each drop-off
   minus the later of now and the food being ready), plus ``courier_weight`` times the
   minutes the driver is tied up, minus the worth of the bundle's orders: ``reward``
   each, plus ``age_weight`` per minute its food has waited already (so that no order
   starves). Pairs whose pickup would fall after the driver's shift, whose restaurant is
   beyond an order's radius or where a leg has no length are left out. When food is
   ready and waiting for drivers (a backlog), a driver's minutes beyond the fewest any
   feasible driver would take for that bundle cost ``backlog_weight`` times the waiting
   orders per driver more: each such minute delays the backlog behind that driver, so a
   bundle rather waits for a nearer driver about to be free than sends a far one on a
   long empty drive. The bundle's best driver costs nothing more, so no bundle becomes
   worse than leaving it open; with no food waiting nothing changes.
3. **Matching.** A minimum-cost matching of bundles to drivers (``matching.match``).
4. **Commitment.** A driver free now starts its route at once; a busy one gets it queued
   and starts it when it is free, unless a later decision changes it first.

``rolling-horizon`` differs in one rule, after the rolling-horizon method of Reyes,
Erera, Savelsbergh, Sahasrabudhe and O'Neil ("The Meal Delivery Routing Problem", 2018):
decisions are postponed while the food is far from ready. A matched pair is only
committed when waiting for the next decision would make its driver late for the food:
when the latest minute it can leave (and be there as the last order of the bundle is
ready) falls within this window, counted from when the driver is free (now, or the end
of its route). Otherwise driver and orders stay free, and the next decision, which
knows of more orders and more drivers, decides again; an order placed meanwhile can
still join the bundle. Its courier cost counts from the minute the driver would have to
leave, not from when it is free, since it is not sent early to wait. The method's other
ideas are here in our own terms: bundle sizes that follow the load (the target bundle
size), one matching per decision, and commitments that are only final once the driver
sets off. Our own measurements (``swifteats bench policies``) chose the defaults of each.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from swifteats.domain.eta import MIN_MOVE_MINUTES
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder, PolicyContext
from swifteats.domain.policies.support.bundles import Bundle, Legs, make_bundles
from swifteats.domain.policies.support.explain import Explanation
from swifteats.domain.policies.support.explain import explain as explain_pairs
from swifteats.domain.policies.support.matching import (
    BoolArray,
    Candidates,
    FloatArray,
    match,
)
from swifteats.domain.policies.support.travel_matrix import distance_km, travel_matrix
from swifteats.domain.policies.support.windowed import WindowedMatching


@dataclass(frozen=True, slots=True)
class RouteMatchingParams:
    """The knobs of :class:`RouteMatching` (minutes unless said otherwise); the defaults
    are ``bundling``'s, :data:`ROLLING_HORIZON` holds ``rolling-horizon``'s."""

    window_minutes: float = 1.0
    """Minutes between decisions."""
    queue_horizon: float = 20.0
    """Busy drivers free within this many minutes may be given a queued route."""
    max_bundle: int = 3
    bundle_load: float = 1.0
    """Bundle size: this times the orders per driver available, rounded up (at most
    ``max_bundle``)."""
    ready_gap: float = 10.0
    """The most minutes between the food of two orders of a bundle being ready."""
    max_extra: float = 30.0
    """The most customer-minutes adding an order to a bundle may cost."""
    courier_weight: float = 0.35
    """What a minute of a driver's time is worth, in customer-minutes."""
    reward: float = 60.0
    """What serving an order is worth, in customer-minutes."""
    age_weight: float = 1.0
    """What each minute an order's food has waited adds to its worth."""
    backlog_weight: float = 0.0
    """What a driver's minute beyond the best driver's for a bundle is worth, per order
    whose food is ready and waiting for each driver available (0: not priced)."""
    postpone: bool = False
    """Commit only when the driver must leave within the window (``rolling-horizon``)."""


ROLLING_HORIZON = RouteMatchingParams(
    queue_horizon=15.0, courier_weight=0.25, postpone=True, backlog_weight=1.0
)
"""``rolling-horizon``: postponed commitments; a driver's time weighs less, since it no
longer includes waiting for the food, and busy drivers are looked at a little less far ahead;
a backlog prices a driver's extra minutes (one customer-minute per waiting order per
driver, the backlog's shadow price, not a tuned figure)."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """One bundle on one driver, as costed."""

    bundle: Bundle
    driver: DriverView
    leave_by: float
    """The latest minute the driver can leave and be there when the food is ready."""


@dataclass
class RouteMatching(WindowedMatching):
    """Bundles matched to drivers every window (see the module)."""

    context: PolicyContext
    params: RouteMatchingParams = RouteMatchingParams()
    name: str = "bundling"
    holds_orders: bool = True
    _legs: Legs = field(init=False, repr=False)

    def _decide(
        self,
        orders: Sequence[OpenOrder],
        drivers: Sequence[DriverView],
        now: float,
        *,
        explain: bool,
    ) -> tuple[list[Assignment], list[Explanation]]:
        horizon = now + self.params.queue_horizon
        usable = [d for d in drivers if now <= d.shift_ends_at and d.free_at <= horizon]
        if not usable or not orders:
            return [], []
        candidates = Candidates.of(usable, now)
        bundles = self._bundles(orders, len(candidates))
        plans, why = self._matched(bundles, candidates, now, explain=explain)
        commit = [self._commits(p, now) for p in plans]
        chosen = [
            Assignment(p.driver.driver_id, p.bundle.order_ids)
            for p, c in zip(plans, commit, strict=True)
            if c
        ]
        return chosen, why

    def _commits(self, plan: _Plan, now: float) -> bool:
        """Whether the matched pair is committed now (``rolling-horizon``: only when the
        driver must leave within this window)."""
        free = max(now, plan.driver.free_at)
        return not self.params.postpone or plan.leave_by < free + self.params.window_minutes

    def _bundles(self, orders: Sequence[OpenOrder], drivers: int) -> list[Bundle]:
        load = self.params.bundle_load * len(orders) / max(1, drivers)
        size = min(self.params.max_bundle, max(1, math.ceil(load)))
        by_restaurant: dict[str, list[OpenOrder]] = defaultdict(list)
        for order in orders:
            by_restaurant[order.restaurant_id].append(order)
        return [
            bundle
            for group in by_restaurant.values()
            for bundle in make_bundles(
                group,
                self._legs,
                self.context.service,
                size=size,
                ready_gap=self.params.ready_gap,
                max_extra=self.params.max_extra,
            )
        ]

    def _matched(
        self, bundles: list[Bundle], drivers: Candidates, now: float, *, explain: bool
    ) -> tuple[list[_Plan], list[Explanation]]:
        if not bundles:
            return [], []
        restaurants = [b.restaurant for b in bundles]
        to_restaurant = travel_matrix(self.context.eta, restaurants, drivers.free_location)
        half = self.context.service.pickup_minutes / 2
        ready = np.array([b.ready_at for b in bundles])
        arrive = drivers.free_at[None, :] + to_restaurant
        pickup = np.maximum(ready[:, None], arrive + half)
        leave_by = ready[:, None] - half - to_restaurant
        customers, courier, worth = self._terms(bundles, drivers, pickup, leave_by, now)
        radius = np.array([b.radius_km for b in bundles])
        feasible = (
            (pickup <= drivers.shift_ends_at[None, :])
            & (to_restaurant >= MIN_MOVE_MINUTES)
            & (distance_km(restaurants, drivers.free_location) <= radius[:, None])
        )
        cost = customers + self.params.courier_weight * courier - worth
        cost = cost + self._backlog_cost(bundles, courier, feasible, now)
        pairs = match(cost, feasible)
        plans = [_Plan(bundles[b], drivers.drivers[d], float(leave_by[b, d])) for b, d in pairs]
        if not explain:
            return plans, []
        ids = [d.driver_id for d in drivers.drivers]
        terms = {"customer_minutes": customers, "courier_minutes": courier, "worth": worth}
        return plans, explain_pairs(
            pairs,
            cost,
            feasible,
            driver_ids=ids,
            job_orders=[b.order_ids for b in bundles],
            terms=terms,
            leave_by=leave_by,
            committed=[self._commits(p, now) for p in plans],
        )

    def _backlog_cost(
        self, bundles: list[Bundle], courier: FloatArray, feasible: BoolArray, now: float
    ) -> FloatArray:
        """``backlog_weight`` times the orders whose food is ready and waiting per driver
        available, times the driver's minutes beyond the fewest any driver would take for
        that bundle: when food waits for drivers, a driver's extra minute delays the backlog
        behind it. The best feasible driver of each bundle costs nothing more, so no
        bundle becomes worse than leaving it open."""
        if self.params.backlog_weight == 0:
            return np.zeros_like(courier)
        waiting = sum(1 for b in bundles for o in b.orders if o.ready_at <= now)
        fewest = np.where(feasible, courier, np.inf).min(axis=1, keepdims=True)
        extra: FloatArray = np.where(feasible, courier - fewest, 0.0)
        priced: FloatArray = self.params.backlog_weight * waiting / courier.shape[1] * extra
        return priced

    def _terms(
        self,
        bundles: list[Bundle],
        drivers: Candidates,
        pickup: FloatArray,
        leave_by: FloatArray,
        now: float,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Customer-minutes still to come, the driver's minutes tied up (both per pair) and
        the worth of each bundle (a column)."""
        p = self.params
        leave = pickup + self.context.service.pickup_minutes / 2
        count = np.array([len(b.orders) for b in bundles], dtype=np.float64)
        offsets = np.array([sum(b.offsets) for b in bundles])
        tail = np.array([b.tail for b in bundles])
        since = np.array([sum(max(now, o.ready_at) for o in b.orders) for b in bundles])
        waited = np.array([sum(max(0.0, now - o.ready_at) for o in b.orders) for b in bundles])
        customers = count[:, None] * leave + (offsets - since)[:, None]
        start = drivers.free_at[None, :]
        if p.postpone:
            start = np.maximum(start, leave_by)
        courier = leave + tail[:, None] - start
        worth = p.reward * count + p.age_weight * waited
        return customers, courier, worth[:, None]
