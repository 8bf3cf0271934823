"""``batch-matching``: requests collect over a window, then a minimum-cost matching.

Every ``window_minutes`` the open orders are matched to the drivers free now by a
minimum-cost bipartite matching (``swifteats.domain.policies.support.matching``). The
cost of a pair is the design's priority score of that driver for that order, negated,
from the same components as ``calculatePriorityScore`` (slack bonus or lateness,
distance, total ETA, waiting; ``swifteats.domain.scoring``) but without the floor, which
would make every distant driver equally bad. Two terms are added per order, so that every
order is worth serving and none starves behind fresher ones (the slack bonus favours
orders whose food is far from ready): ``reward``, and ``age_weight`` score points per
minute since the order was placed (both in :class:`BatchMatchingParams`). A driver is
never given an order it could only pick up after its shift, nor one farther than the
order's search radius.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from swifteats.domain.eta import MIN_MOVE_MINUTES
from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder, PolicyContext
from swifteats.domain.policies.support.bundles import Legs
from swifteats.domain.policies.support.explain import Explanation
from swifteats.domain.policies.support.explain import explain as explain_pairs
from swifteats.domain.policies.support.matching import Candidates, match
from swifteats.domain.policies.support.travel_matrix import distance_km, travel_matrix
from swifteats.domain.policies.support.windowed import WindowedMatching
from swifteats.domain.ranking import neighbours
from swifteats.domain.scoring import priority_scores


@dataclass(frozen=True, slots=True)
class BatchMatchingParams:
    """The knobs of :class:`BatchMatching`."""

    window_minutes: float = 1.0
    """Minutes between decisions."""
    reward: float = 1000.0
    """Score points every order is worth: with the default, any feasible pair beats none."""
    age_weight: float = 20.0
    """Score points per minute since an order was placed: as much as a minute of lateness
    (the design's ``slack_penalty_per_minute``), so the slack bonus of a fresh order never
    outweighs minutes of waiting for long."""


@dataclass
class BatchMatching(WindowedMatching):
    """The design's score, decided for a window's orders at once (see the module)."""

    context: PolicyContext
    params: BatchMatchingParams = BatchMatchingParams()
    name: str = "batch-matching"
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
        idle = Candidates.of([d for d in drivers if d.idle and now <= d.shift_ends_at], now)
        waiting = [o for o in orders if o.queued_with is None]
        if not len(idle) or not waiting:
            return [], []
        restaurants = [o.restaurant for o in waiting]
        to_restaurant = travel_matrix(self.context.eta, restaurants, idle.free_location)
        km = distance_km(restaurants, idle.free_location)
        ready = np.array([o.ready_at for o in waiting])
        to_customer = np.array([self._legs(o.restaurant, o.customer) for o in waiting], float)
        weights = self.context.weights
        score = priority_scores(
            np.maximum(ready - now, 0.0)[:, None] - to_restaurant,
            km,
            to_restaurant + to_customer[:, None],
            weights,
            np.array(neighbours(list(idle.free_location), weights))[None, :],
            np.array([max(0.0, now - d.free_at) for d in idle.drivers])[None, :],
        )
        placed = np.array([o.placed_at for o in waiting])
        worth = self.params.reward + self.params.age_weight * (now - placed)
        cost = -score - worth[:, None]
        half_pickup = self.context.service.pickup_minutes / 2
        pickup = np.maximum(ready[:, None], now + to_restaurant + half_pickup)
        radius = np.array([o.radius_km for o in waiting])
        feasible = (
            (pickup <= idle.shift_ends_at[None, :])
            & (to_restaurant >= MIN_MOVE_MINUTES)
            & (km <= radius[:, None])
        )
        pairs = match(cost, feasible)
        chosen = [Assignment(idle.drivers[d].driver_id, (waiting[o].order_id,)) for o, d in pairs]
        if not explain:
            return chosen, []
        ids = [d.driver_id for d in idle.drivers]
        terms = {"score": score, "worth": worth[:, None]}
        return chosen, explain_pairs(
            pairs,
            cost,
            feasible,
            driver_ids=ids,
            job_orders=[(o.order_id,) for o in waiting],
            terms=terms,
        )
