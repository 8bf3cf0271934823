"""Score terms that trade something off: defaults keep the design's decisions exactly;
the supply and idle terms can make a farther driver the better choice."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.geo import Point
from swifteats.domain.ranking import Job, neighbours, rank_drivers
from swifteats.domain.scoring import ScoringWeights

RESTAURANT = Point(40.7128, -74.0060)
JOB = Job("o1", RESTAURANT, Point(40.7300, -74.0060), 10.0, 50.0)
ETA = ConstantSpeedEta()
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _design_score(slack: float, km: float, total_eta: float) -> float:
    """``calculatePriorityScore`` of the design, line by line."""
    score = 100.0
    score += min(slack * 10, 50) if slack > 0 else -abs(slack) * 20
    return max(score - km * 5 - total_eta * 2, 0.0)


def _driver(driver_id: str, lat: float, lon: float, since: datetime | None = None) -> DriverRecord:
    return DriverRecord(driver_id, Point(lat, lon), DriverStatus.AVAILABLE, available_since=since)


def test_default_weights_rank_exactly_as_the_designs_score() -> None:
    rng = random.Random(7)
    for _ in range(20):
        pool = [
            _driver(
                f"d{i}",
                40.7128 + rng.uniform(-0.05, 0.05),
                -74.006 + rng.uniform(-0.05, 0.05),
                NOW - timedelta(minutes=rng.uniform(0, 240)),
            )
            for i in range(30)
        ]
        ranked = rank_drivers(JOB, pool, ScoringWeights(), ETA, now=NOW)
        assert [r.score for r in ranked] == [
            _design_score(r.slack, r.distance_km, r.total_eta) for r in ranked
        ]
        expected = sorted(ranked, key=lambda r: (-r.score, r.distance_km, r.driver_id))
        assert [r.driver_id for r in ranked] == [r.driver_id for r in expected]
        terms = [(r.terms.supply_term, r.terms.wait_term, r.terms.idle_term) for r in ranked]
        assert terms == [(0.0, 0.0, 0.0)] * len(ranked)


def test_an_idle_bonus_gives_the_order_to_the_driver_idle_longest_up_to_its_cap() -> None:
    near = _driver("near", 40.7138, -74.0060, NOW - timedelta(minutes=2))  # 0.1 km, 2 min
    far = _driver("far", 40.7228, -74.0060, NOW - timedelta(minutes=50))  # 1.1 km, 50 min
    unknown = _driver("unknown", 40.7148, -74.0060)  # never said: idle 0
    pool = [near, far, unknown]
    assert rank_drivers(JOB, pool, ScoringWeights(), ETA, now=NOW)[0].driver_id == "near"
    weights = ScoringWeights(idle_bonus_per_minute=1.0)
    ranked = {r.driver_id: r for r in rank_drivers(JOB, pool, weights, ETA, now=NOW)}
    assert [r.driver_id for r in rank_drivers(JOB, pool, weights, ETA, now=NOW)][0] == "far"
    assert (ranked["far"].terms.idle_term, ranked["near"].terms.idle_term) == (50.0, 2.0)
    assert ranked["unknown"].terms.idle_term == 0.0
    capped = ScoringWeights(idle_bonus_per_minute=1.0, idle_bonus_cap=2.0)
    assert rank_drivers(JOB, pool, capped, ETA, now=NOW)[0].driver_id == "near"
    assert rank_drivers(JOB, pool, weights, ETA)[0].driver_id == "near"  # no now: no idle


def test_a_supply_bonus_keeps_the_lone_near_driver_and_takes_one_from_a_crowd() -> None:
    lone = _driver("lone", 40.7138, -74.0060)  # 0.1 km from the restaurant
    crowd = [_driver(f"c{i}", 40.7308 + i * 0.001, -74.0060) for i in range(4)]  # ~2 km north
    pool = [lone, *crowd]
    assert rank_drivers(JOB, pool, ScoringWeights(), ETA)[0].driver_id == "lone"
    weights = ScoringWeights(supply_bonus_per_driver=10.0, supply_radius_km=1.0)
    best = rank_drivers(JOB, pool, weights, ETA)[0]
    assert best.driver_id.startswith("c") and best.terms.supply_term == 30.0


def test_neighbours_count_the_others_within_the_radius_and_cost_nothing_by_default() -> None:
    pool = [Point(40.0, -74.0), Point(40.001, -74.0), Point(41.0, -74.0)]
    weights = ScoringWeights(supply_bonus_per_driver=1.0, supply_radius_km=0.5)
    assert neighbours(pool, weights) == [1, 1, 0]
    assert neighbours(pool, ScoringWeights(supply_radius_km=500.0)) == [0, 0, 0]
