"""The replay's planar travel model: metres ↔ lat/lon, and MDRP travel minutes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.inputs import PlanarEta, PlanarProjection
from replay.mdrp.instance import DEFAULT_ORIGIN, MdrpInstance, mdrp_root, read_instance
from swifteats.domain.geo import Point

INSTANCE = "0o100t100s1p100"
# Published metres span 0–35 km east and 0–55 km north; a margin either side.
METRES = st.floats(min_value=-60_000, max_value=60_000, allow_nan=False)
ORIGINS = st.builds(
    Point,
    st.floats(min_value=-60, max_value=60, allow_nan=False),
    st.floats(min_value=-179, max_value=179, allow_nan=False),
)


@given(x=METRES, y=METRES, origin=ORIGINS)
def test_metres_survive_the_round_trip_through_lat_lon(x: float, y: float, origin: Point) -> None:
    projection = PlanarProjection(origin)
    back_x, back_y = projection.to_metres(projection.to_point(x, y))
    assert math.dist((x, y), (back_x, back_y)) < 1e-6


def test_north_and_east_are_latitude_and_longitude() -> None:
    projection = PlanarProjection(DEFAULT_ORIGIN)
    north, east = projection.to_point(0, 111_320), projection.to_point(1_000, 0)
    assert north == Point(DEFAULT_ORIGIN.latitude + 1, DEFAULT_ORIGIN.longitude)
    assert east.latitude == DEFAULT_ORIGIN.latitude
    assert east.longitude > DEFAULT_ORIGIN.longitude


@pytest.mark.parametrize(
    ("metres", "minutes"), [(0, 0), (1, 1), (320, 1), (321, 2), (3200, 10), (3201, 11)]
)
def test_planar_eta_rounds_up_with_no_minimum(metres: float, minutes: int) -> None:
    eta = PlanarEta(PlanarProjection(DEFAULT_ORIGIN), 320)
    assert eta.minutes_between_metres((0, 0), (metres, 0)) == minutes
    far = eta.projection.to_point(0, metres)
    assert eta.travel_minutes(DEFAULT_ORIGIN, far) == minutes


def test_planar_eta_matches_the_metres_for_every_order_and_restaurant() -> None:
    root = mdrp_root()
    if root is None:
        pytest.skip(
            "MDRP instances not found: set SWIFTEATS_MDRP_DIR or put shared/ beside the repo"
        )
    instance = read_instance(root / INSTANCE)
    eta = PlanarEta(PlanarProjection(DEFAULT_ORIGIN), instance.meters_per_minute)
    restaurants = [(eta.projection.to_point(*xy), xy) for xy in instance.restaurants.values()]
    for order in instance.orders.values():
        customer = eta.projection.to_point(order.x, order.y)
        for restaurant, xy in restaurants:
            exact = math.ceil(math.dist(xy, order.location) / instance.meters_per_minute)
            assert eta.travel_minutes(restaurant, customer) == exact, (xy, order.location)


def test_a_quotient_just_above_a_whole_minute_rounds_up() -> None:
    customer, restaurant = (6819.0, 7087.0), (6818.0, 3887.0)  # 3200.000156 m apart
    eta = PlanarEta(PlanarProjection(DEFAULT_ORIGIN), 320)
    assert math.ceil(math.dist(customer, restaurant) / 320) == 11
    assert eta.minutes_between_metres(customer, restaurant) == 11


def test_the_checker_s_travel_is_the_evaluator_s_exact_ceiling() -> None:
    instance = MdrpInstance("x", {}, {}, {}, 320, 4, 4, 40, 90, 10, 15)
    assert instance.travel((6819.0, 7087.0), (6818.0, 3887.0)) == 11
    assert instance.travel((0, 0), (3200, 0)) == 10
    assert instance.travel((0, 0), (1920, 2560)) == 10  # 3200 m: a whole 10 minutes
