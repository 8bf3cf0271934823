"""The assignment step alone: search, scoring and claim against a real Redis.

For each fleet size the drivers are written with one pipeline per 5,000
(:meth:`RedisDriverIndex.register_many`) under a fresh key prefix, spread so that a search
of the radius finds about ``found`` drivers (:class:`~swifteats.bench.fleet.Area`): 80 %
available, 15 % busy, 5 % offline, every one with a shift ending 2 to 8 hours ahead (the
heavier path of the ranking). Each sample is one :meth:`Assigner.assign` of an order at a
random restaurant, timed by the assigner itself; the claimed driver is released where it
stood before the next sample, so the pool never shrinks. The prefix is deleted afterwards.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from swifteats.adapters.redis_client import delete_namespace
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.bench.fleet import Area, near
from swifteats.bench.stats import summarise
from swifteats.domain.assignment import Assigner
from swifteats.domain.clock import system_clock
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import AssignmentRequested, DriverAssigned
from swifteats.domain.geo import Point
from swifteats.domain.scoring import ScoringWeights

STEPS = ("search", "scoring", "claim", "total")
"""The assigner's timings; ``total`` is search + scoring + claim."""
_STATUS_SHARES = ((DriverStatus.AVAILABLE, 0.80), (DriverStatus.BUSY, 0.15))
_WARM_UP = 20


@dataclass(frozen=True, slots=True)
class AssignStepOptions:
    """Fleet sizes and samples of the assignment-step benchmark."""

    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    samples: int = 2_000
    found: float = 150.0
    """Drivers (any status) a search of ``radius_km`` finds around a restaurant."""
    radius_km: float = 5.0
    seed: int = 7


def size_label(drivers: int) -> str:
    """``1k``, ``10k``, ``100k`` for round thousands, else the number."""
    return f"{drivers // 1000}k" if drivers >= 1000 and drivers % 1000 == 0 else str(drivers)


def run_assign_step(client: redis.Redis, options: AssignStepOptions) -> dict[str, Any]:
    """Time search, scoring and claim at every fleet size; figures in milliseconds.

    Returns:
        ``p50_ms_<size>``/``p99_ms_<size>`` of the total per size, and ``sizes``: for each,
        the fleet's square, drivers found per search and p50/p95/p99 of every step.
    """
    result: dict[str, Any] = {"found_target": options.found, "radius_km": options.radius_km}
    sizes: dict[str, Any] = {}
    for drivers in options.sizes:
        label = size_label(drivers)
        figures = _one_size(client, drivers, options)
        sizes[label] = figures
        result[f"p50_ms_{label}"] = figures["latency_ms"]["total"]["p50"]
        result[f"p99_ms_{label}"] = figures["latency_ms"]["total"]["p99"]
    result["sizes"] = sizes
    return result


def _one_size(client: redis.Redis, drivers: int, options: AssignStepOptions) -> dict[str, Any]:
    rng = random.Random(options.seed + drivers)  # noqa: S311 - test data, not cryptography
    prefix = f"bench:{uuid.uuid4().hex[:10]}"
    index = RedisDriverIndex(client, prefix)
    area = Area.for_fleet(drivers, found=options.found, radius_km=options.radius_km)
    try:
        fleet = _fleet(drivers, area, rng)
        index.register_many(fleet)
        assigner = Assigner(
            drivers=index, weights=ScoringWeights(), eta=ConstantSpeedEta(), clock=system_clock
        )
        at = {d.driver_id: d.location for d in fleet}
        sample = _sampler(assigner, index, at, area, rng, options.radius_km)
        for _ in range(_WARM_UP):
            sample()
        samples = [sample() for _ in range(options.samples)]
    finally:
        delete_namespace(client, prefix)
    return {
        "drivers": drivers,
        "square_km": round(area.side_km, 1),
        "found_per_search": summarise(s["found"] for s in samples),
        "assigned_share": round(sum(s["assigned"] for s in samples) / len(samples), 3),
        "latency_ms": {step: summarise(s[step] for s in samples) for step in STEPS},
    }


def _fleet(drivers: int, area: Area, rng: random.Random) -> list[DriverRecord]:
    now = datetime.now(UTC)
    fleet = []
    for i in range(drivers):
        ends = now + timedelta(hours=rng.uniform(2.0, 8.0))
        fleet.append(DriverRecord(f"d{i}", area.point(rng), _status(rng), None, ends))
    return fleet


def _status(rng: random.Random) -> DriverStatus:
    draw = rng.random()
    for status, share in _STATUS_SHARES:
        if draw < share:
            return status
        draw -= share
    return DriverStatus.OFFLINE


def _sampler(
    assigner: Assigner,
    index: RedisDriverIndex,
    at: dict[str, Point],
    area: Area,
    rng: random.Random,
    radius_km: float,
) -> Callable[[], dict[str, float]]:
    """One assignment of a fresh order, its timings in ms; the claimed driver is released."""

    def sample() -> dict[str, float]:
        restaurant = area.point(rng, margin_km=radius_km)
        order_id = f"o-{uuid.uuid4().hex[:12]}"
        request = AssignmentRequested(
            event_id=uuid.uuid4().hex,
            occurred_at=datetime.now(UTC),
            order_id=order_id,
            restaurant=restaurant,
            customer=near(restaurant, rng, low_km=0.5, high_km=6.0),
            preparation_time=rng.uniform(5.0, 25.0),
            radius_km=radius_km,
            items=(),
            total_amount=20.0,
            special_instructions="",
        )
        decision = assigner.assign(request)
        assigned = isinstance(decision.response, DriverAssigned)
        if isinstance(decision.response, DriverAssigned):
            driver = decision.response.driver_id
            index.release(driver, order_id, at[driver])
        timings = {step: seconds * 1000 for step, seconds in decision.timings.items()}
        return {**timings, "found": decision.drivers_in_area, "assigned": float(assigned)}

    return sample
