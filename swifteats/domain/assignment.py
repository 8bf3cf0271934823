"""The assignment decision: search, rank, claim — one request at a time.

Used unchanged by the Driver Assignment Service (Redis index) and the
in-process replay (memory index).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from swifteats.domain.clock import Clock
from swifteats.domain.drivers import DriverIndex, DriverRecord, DriverStatus
from swifteats.domain.eta import EtaModel
from swifteats.domain.events import (
    MAX_ETA_MINUTES,
    UNKNOWN_INSTANT,
    AssignmentFailed,
    AssignmentRequested,
    AssignmentResponse,
    DriverAssigned,
)
from swifteats.domain.policies.greedy import Ordering
from swifteats.domain.policies.registry import DEFAULT_POLICY, ordering
from swifteats.domain.ranking import RankedDriver, no_candidate_reason, rank_drivers
from swifteats.domain.scoring import ScoringWeights

Timer = Callable[[], float]
"""A monotonic seconds counter, for stage timings."""

BEYOND_MAX_ETA = f"No driver can reach the customer within {MAX_ETA_MINUTES} minutes"
"""Why an order is refused whose every candidate's ETA is larger than an answer may carry
(the Order Service would refuse such an answer, with the driver claimed)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request, with what it was based on and how long each step took."""

    response: AssignmentResponse
    candidates: list[RankedDriver]
    drivers_in_area: int
    reused_claim: bool
    timings: dict[str, float] = field(default_factory=dict)

    def log_fields(self) -> dict[str, Any]:
        """The decision as structured log fields."""
        chosen = self.response.driver_id if isinstance(self.response, DriverAssigned) else None
        return {
            "orderId": self.response.order_id,
            "chosenDriver": chosen,
            "error": getattr(self.response, "error", None),
            "driversInArea": self.drivers_in_area,
            "reusedClaim": self.reused_claim,
            "timingsMs": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "candidates": [
                {
                    "driverId": c.driver_id,
                    "score": round(c.score, 3),
                    "distanceKm": round(c.distance_km, 3),
                    "slack": c.slack,
                    "etaToRestaurant": c.eta_to_restaurant,
                    "totalEta": c.total_eta,
                    "slackTerm": round(c.terms.slack_term, 3),
                    "distanceTerm": round(c.terms.distance_term, 3),
                    "etaTerm": round(c.terms.eta_term, 3),
                    "waitTerm": round(c.terms.wait_term, 3),
                    "supplyTerm": round(c.terms.supply_term, 3),
                    "idleTerm": round(c.terms.idle_term, 3),
                }
                for c in self.candidates[:10]
            ],
        }


@dataclass(frozen=True, slots=True)
class Assigner:
    """Finds, ranks and claims a driver for each request."""

    drivers: DriverIndex
    weights: ScoringWeights
    eta: EtaModel
    clock: Clock
    timer: Timer = time.perf_counter
    pickup_lead_minutes: float = 0.0
    """Minutes between arriving at the restaurant and the earliest pickup (shift checks)."""
    policy: Ordering = field(default_factory=lambda: ordering(DEFAULT_POLICY))
    """The order in which ranked candidates are tried (``swifteats.domain.policies.greedy``)."""

    def assign(self, request: AssignmentRequested) -> Decision:
        """Claim the best available driver near the restaurant, or say why none could be."""
        start = self.timer()
        nearby = self.drivers.search(request.restaurant, request.radius_km)
        return self._decide(request, nearby, start, self.timer())

    def assign_many(self, requests: Sequence[AssignmentRequested]) -> Iterator[Decision]:
        """:meth:`assign` each request in turn, with one search for all of them.

        The areas are searched together (:meth:`DriverIndex.search_many`); each decision
        then sees the drivers the earlier ones claimed as busy, so the decisions are
        those of :meth:`assign` in turn as long as nobody else changes the index
        meanwhile, and a claim stays atomic whatever happens. Each decision's ``search``
        timing is its share of the one search. Decisions are yielded as they are made.
        """
        if not requests:
            return
        start = self.timer()
        found = self.drivers.search_many([(r.restaurant, r.radius_km) for r in requests])
        share = (self.timer() - start) / len(requests)
        taken: set[str] = set()
        for request, nearby in zip(requests, found, strict=True):
            if taken:
                nearby = [_busy(d) if d.driver_id in taken else d for d in nearby]
            began = self.timer()
            decision = self._decide(request, nearby, began - share, began)
            if isinstance(decision.response, DriverAssigned) and not decision.reused_claim:
                taken.add(decision.response.driver_id)
            yield decision

    def _decide(
        self,
        request: AssignmentRequested,
        nearby: list[DriverRecord],
        start: float,
        searched: float,
    ) -> Decision:
        """Rank ``nearby`` (found from ``start`` to ``searched``) and claim the best."""
        ranked = self.policy(
            rank_drivers(
                request.job(),
                nearby,
                self.weights,
                self.eta,
                now=self._decision_time(request),
                pickup_lead_minutes=self.pickup_lead_minutes,
            )
        )
        scored = self.timer()
        etas = ((r.driver_id, r.total_eta) for r in ranked)
        in_time = [(driver_id, eta) for driver_id, eta in etas if eta <= MAX_ETA_MINUTES]
        claim = self.drivers.claim(request.order_id, in_time)
        claimed = self.timer()
        timings = {
            "search": searched - start,
            "scoring": scored - searched,
            "claim": claimed - scored,
            "total": claimed - start,
        }
        response: AssignmentResponse
        if claim is None:
            reason = BEYOND_MAX_ETA if ranked and not in_time else no_candidate_reason(len(nearby))
            response = AssignmentFailed(request.order_id, reason, self.clock())
        else:
            response = DriverAssigned(request.order_id, claim.driver_id, claim.eta, self.clock())
        reused = claim is not None and claim.existing
        return Decision(response, ranked, len(nearby), reused, timings)

    def _decision_time(self, request: AssignmentRequested) -> datetime:
        """The request's own time: preparation time and shift ends are relative to it."""
        if request.occurred_at == UNKNOWN_INSTANT:
            return self.clock()
        return request.occurred_at


def _busy(driver: DriverRecord) -> DriverRecord:
    """The driver as a search finds it once claimed."""
    return replace(driver, status=DriverStatus.BUSY)
