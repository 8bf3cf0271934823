"""The in-memory search (vectorised) cuts and orders exactly as the scalar Redis formula."""

from __future__ import annotations

import random

import pytest

from swifteats.adapters.memory_drivers import InMemoryDriverIndex, redis_geo_distance_m
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.geo import Point


def _reference(
    index: InMemoryDriverIndex, ids: list[str], center: Point, radius_km: float
) -> list[str]:
    """Every driver within the radius by :func:`redis_geo_distance_m`, nearest first, by id."""
    records = [r for r in (index.get(i) for i in ids) if r is not None]
    near = [(redis_geo_distance_m(center, r.location), r.driver_id) for r in records]
    return [driver_id for metres, driver_id in sorted(near) if metres <= radius_km * 1000]


@pytest.mark.parametrize("seed", range(40))
def test_search_matches_the_scalar_formula_at_ties_and_on_the_radius(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data
    index = InMemoryDriverIndex()
    spots = [Point(40.7 + rng.gauss(0, 0.03), -74.0 + rng.gauss(0, 0.03)) for _ in range(4)]
    ids = [f"d{i}" for i in range(rng.randint(1, 150))]
    for driver_id in ids:  # most drivers share a spot with others: exact ties
        at = rng.choice(spots) if rng.random() < 0.6 else Point(40.7 + rng.gauss(0, 0.03), -74.0)
        index.register(driver_id, at, rng.choice(list(DriverStatus)))
    for _ in range(25):
        center = Point(40.7 + rng.gauss(0, 0.03), -74.0 + rng.gauss(0, 0.03))
        on_someone = redis_geo_distance_m(center, rng.choice(spots)) / 1000
        for radius_km in (on_someone, on_someone * (1 - 1e-15), rng.uniform(0.1, 8.0)):
            found = [d.driver_id for d in index.search(center, radius_km)]
            assert found == _reference(index, ids, center, radius_km)


def test_search_shows_no_order_and_keeps_up_with_moves_and_claims() -> None:
    index = InMemoryDriverIndex()
    index.register_many(
        DriverRecord(f"d{i}", Point(40.7, -74.0 + i * 0.001), DriverStatus.AVAILABLE)
        for i in range(100)
    )
    index.claim("o1", [("d5", 3)])
    index.move("d99", Point(40.7, -74.0))
    found = index.search(Point(40.7, -74.0), 1.0)
    assert [d.driver_id for d in found][:2] == ["d0", "d99"]
    assert all(d.order_id is None for d in found)
    assert next(d for d in found if d.driver_id == "d5").status is DriverStatus.BUSY
    held = index.get("d5")
    assert held is not None and held.order_id == "o1"
