"""The batch policies' building blocks: travel-time matrices and the minimum-cost matching."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from swifteats.adapters.memory_drivers import redis_geo_position
from swifteats.domain.eta import ConstantSpeedEta, PlanarEta, PlanarProjection
from swifteats.domain.geo import Point
from swifteats.domain.policies.support.matching import match
from swifteats.domain.policies.support.travel_matrix import travel_matrix
from tests.policies.helpers import ETA, at

metres = st.floats(-20_000, 20_000, allow_nan=False)
points = st.lists(st.builds(lambda x, y: at(x / 100, y / 100), metres, metres), max_size=6)


@settings(max_examples=50, deadline=None)
@given(points, points)
def test_a_travel_matrix_holds_exactly_the_models_minutes(
    origins: list[Point], destinations: list[Point]
) -> None:
    for eta in (ETA, ConstantSpeedEta()):
        matrix = travel_matrix(eta, origins, destinations)
        assert matrix.shape == (len(origins), len(destinations))
        for i, a in enumerate(origins):
            for j, b in enumerate(destinations):
                assert matrix[i, j] == eta.travel_minutes(a, b)


def test_whole_minutes_on_the_boundary_match_the_scalar_model() -> None:
    exact = [at(0.0), at(10.0), at(3.0, 4.0)]  # 0, 10 and 5 minutes: no rounding up
    assert travel_matrix(ETA, exact[:1], exact).tolist() == [[0.0, 10.0, 5.0]]


whole_metres = st.tuples(st.integers(0, 20_000), st.integers(0, 20_000))


@settings(max_examples=200, deadline=None)
@given(whole_metres, whole_metres)
def test_a_courier_read_back_from_the_geo_index_travels_the_evaluators_minutes(
    courier: tuple[int, int], restaurant: tuple[int, int]
) -> None:
    """MDRP places sit on whole metres; GEO stores a courier to about ±0.3 m, which must
    not change a minute (a courier at its restaurant's door travels 0, and the evaluator
    refuses a move of no length)."""
    projection = PlanarProjection(Point(40.7128, -74.0060))
    eta = PlanarEta(projection, 320.0)
    stored = redis_geo_position(projection.to_point(*courier))
    place = projection.to_point(*restaurant)
    evaluators = math.ceil(math.dist(courier, restaurant) / 320.0)

    assert eta.travel_minutes(stored, place) == evaluators
    assert travel_matrix(eta, [place], [stored]).tolist() == [[evaluators]]


def test_matching_takes_the_cheapest_set_of_pairs_not_the_largest() -> None:
    cost = np.array([[-10.0, -1.0], [-1.0, 5.0]])
    feasible = np.ones((2, 2), dtype=bool)
    assert match(cost, feasible) == [(0, 0)]  # -10 alone beats (0,1)+(1,0) = -2
    cost[1, 0] = -9.5
    assert sorted(match(cost, feasible)) == [(0, 1), (1, 0)]  # -10.5 now


def test_matching_never_uses_an_infeasible_pair() -> None:
    cost = np.array([[-100.0, -1.0], [-50.0, -1.0]])
    feasible = np.array([[False, True], [True, True]])
    assert sorted(match(cost, feasible)) == [(0, 1), (1, 0)]
    assert match(cost, np.zeros((2, 2), dtype=bool)) == []
    assert match(np.zeros((0, 3)), np.zeros((0, 3), dtype=bool)) == []
