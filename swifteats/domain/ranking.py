"""Ranking the drivers near a restaurant and explaining why an assignment failed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.eta import MIN_MOVE_MINUTES, ConstantSpeedEta, EtaModel
from swifteats.domain.geo import Point, haversine_km
from swifteats.domain.scoring import ScoreTerms, ScoringWeights, priority_score, priority_scores

NO_DRIVERS_IN_AREA = "No available drivers in area"
ALL_DRIVERS_BUSY = "All drivers busy"
INVALID_COORDINATES = "Invalid coordinates"
INTERNAL_ERROR = "Internal error"


@dataclass(frozen=True, slots=True)
class Job:
    """What the ranking needs to know of an order."""

    order_id: str
    restaurant: Point
    customer: Point
    preparation_time: float
    radius_km: float


class RankedDriver(NamedTuple):
    """One candidate with every input of its score; the terms are worked out on demand
    (a named tuple: a ranking makes one per candidate, and a tuple is made fastest)."""

    driver_id: str
    distance_km: float
    eta_to_restaurant: int
    eta_to_customer: int
    slack: float
    score: float
    """The priority score (after the floor)."""
    neighbours: int
    idle_minutes: float
    weights: ScoringWeights

    @property
    def total_eta(self) -> int:
        """Minutes to the restaurant plus minutes from there to the customer."""
        return self.eta_to_restaurant + self.eta_to_customer

    @property
    def terms(self) -> ScoreTerms:
        """Every term of the score, as :func:`priority_score` gives them (logs and
        research read them; the ranking itself scores every candidate at once)."""
        return priority_score(
            self.slack,
            self.distance_km,
            self.total_eta,
            self.weights,
            self.neighbours,
            self.idle_minutes,
        )


def rank_drivers(
    job: Job,
    candidates: Iterable[DriverRecord],
    weights: ScoringWeights,
    eta: EtaModel,
    *,
    now: datetime | None = None,
    pickup_lead_minutes: float = 0.0,
) -> list[RankedDriver]:
    """Score the available candidates, best first; ties go to the nearer, then the lower id.

    With ``now`` given, a driver whose shift ends before the order could be picked up
    (arrival plus ``pickup_lead_minutes``, or the food being ready, whichever is later)
    is left out, and a driver's idle minutes count from its ``available_since`` (none
    without ``now`` or an ``available_since``). A driver closer than ``MIN_MOVE_MINUTES`` is
    left out too.
    """
    pool = [driver for driver in candidates if driver.status is DriverStatus.AVAILABLE]
    to_customer = eta.travel_minutes(job.restaurant, job.customer)
    near = neighbours([driver.location for driver in pool], weights)
    pickup = None if now is None else _Pickups(now, job.preparation_time, pickup_lead_minutes)
    by_km = eta.minutes_for_km if type(eta) is ConstantSpeedEta else None
    kept: list[tuple[DriverRecord, float, int, int, float]] = []
    for driver, n in zip(pool, near, strict=True):
        distance = haversine_km(driver.location, job.restaurant)
        if by_km is None:
            to_restaurant = eta.travel_minutes(driver.location, job.restaurant)
        else:
            to_restaurant = by_km(distance)
        if to_restaurant < MIN_MOVE_MINUTES:
            continue
        ends = driver.shift_ends_at
        if pickup is not None and ends is not None and pickup.at(to_restaurant) > ends:
            continue
        kept.append((driver, distance, to_restaurant, n, idle_minutes(driver, now)))
    if not kept:
        return []
    _, distances, etas, counts, idle = zip(*kept, strict=True)
    to_restaurant_minutes = np.array(etas, dtype=np.float64)
    scores = np.maximum(
        priority_scores(
            job.preparation_time - to_restaurant_minutes,
            np.array(distances),
            to_restaurant_minutes + to_customer,
            weights,
            np.array(counts, dtype=np.float64),
            np.array(idle),
        ),
        weights.floor,
    ).tolist()
    ranked = [
        RankedDriver(
            driver.driver_id,
            distance,
            to_restaurant,
            to_customer,
            job.preparation_time - to_restaurant,
            score,
            n,
            idle_for,
            weights,
        )
        for (driver, distance, to_restaurant, n, idle_for), score in zip(kept, scores, strict=True)
    ]
    ranked.sort(key=_best_first)
    return ranked


def _best_first(ranked: RankedDriver) -> tuple[float, float, str]:
    return (-ranked.score, ranked.distance_km, ranked.driver_id)


class _Pickups:
    """The earliest pickup of the order by a driver ``minutes`` away: arrival plus the
    lead, or the food being ready, whichever is later (made once per arrival minute)."""

    def __init__(self, now: datetime, preparation_time: float, lead: float) -> None:
        self._now, self._ready, self._lead = now, preparation_time, lead
        self._known: dict[int, datetime] = {}

    def at(self, minutes: int) -> datetime:
        known = self._known.get(minutes)
        if known is None:
            wait = max(minutes + self._lead, self._ready)
            known = self._known[minutes] = self._now + timedelta(minutes=wait)
        return known


def neighbours(points: Sequence[Point], weights: ScoringWeights) -> list[int]:
    """For each driver at ``points``, the others within ``supply_radius_km`` of it; all 0
    (and nothing computed) while ``supply_bonus_per_driver`` is 0."""
    if not weights.supply_bonus_per_driver or len(points) < 2:
        return [0] * len(points)
    from swifteats.domain.policies.support.travel_matrix import distance_km  # noqa: PLC0415

    near = distance_km(points, points) <= weights.supply_radius_km
    return [int(n) - 1 for n in near.sum(axis=1)]


def idle_minutes(driver: DriverRecord, now: datetime | None) -> float:
    """Minutes since the driver became available (0 if unknown, or not yet)."""
    if now is None or driver.available_since is None:
        return 0.0
    return max(0.0, (now - driver.available_since).total_seconds() / 60.0)


def no_candidate_reason(drivers_in_area: int) -> str:
    """Why nobody could be assigned: nobody near, or everybody near is taken."""
    return ALL_DRIVERS_BUSY if drivers_in_area else NO_DRIVERS_IN_AREA
