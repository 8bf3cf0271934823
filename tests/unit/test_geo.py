"""Geo keys, coordinate validation and great-circle distance."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swifteats.domain.geo import Point, geo_key, haversine_km, valid_coordinates

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.builds(Point, latitudes, longitudes)

NYC = Point(40.7128, -74.0060)
LA = Point(34.0522, -118.2437)


def test_geo_key_of_the_design_example() -> None:
    assert geo_key(40.7128, -74.0060) == "4_-7"


@pytest.mark.parametrize(
    ("latitude", "longitude", "key"),
    [
        (0.0, 0.0, "0_0"),
        (-0.5, -9.99, "0_0"),
        (9.99, 19.99, "0_1"),
        (-10.0, 10.0, "-1_1"),
        (51.5074, -0.1278, "5_0"),
        (-33.8688, 151.2093, "-3_15"),
        (90.0, -180.0, "9_-18"),
    ],
)
def test_geo_key_truncates_toward_zero(latitude: float, longitude: float, key: str) -> None:
    assert geo_key(latitude, longitude) == key


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(0.0, 0.0), (0.0, 12.5), (12.5, 0.0), (90.0, 180.0), (-90.0, -180.0), (40.7128, -74.0060)],
)
def test_valid_coordinates_include_zero_and_the_bounds(latitude: float, longitude: float) -> None:
    assert valid_coordinates(latitude, longitude)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (90.0001, 0.0),
        (-90.0001, 0.0),
        (0.0, 180.0001),
        (0.0, -180.0001),
        (91.0, -74.0),
        (math.nan, 0.0),
        (0.0, math.nan),
        (math.inf, 0.0),
        (0.0, -math.inf),
    ],
)
def test_out_of_range_or_non_finite_coordinates_are_invalid(
    latitude: float, longitude: float
) -> None:
    assert not valid_coordinates(latitude, longitude)


def test_haversine_new_york_to_los_angeles() -> None:
    assert haversine_km(NYC, LA) == pytest.approx(3936, rel=0.005)


def test_haversine_short_known_distance() -> None:
    # One degree of latitude is about 111.2 km on the mean-radius sphere.
    assert haversine_km(Point(0, 0), Point(1, 0)) == pytest.approx(111.195, rel=1e-3)


def test_haversine_is_zero_for_the_same_point() -> None:
    assert haversine_km(NYC, NYC) == 0.0


def test_haversine_antipodes_is_half_the_circumference() -> None:
    assert haversine_km(Point(0, 0), Point(0, 180)) == pytest.approx(math.pi * 6371.0088)


@given(points, points)
def test_haversine_is_symmetric_and_non_negative(a: Point, b: Point) -> None:
    d = haversine_km(a, b)
    assert d >= 0
    assert d == pytest.approx(haversine_km(b, a), abs=1e-9)
    assert d <= math.pi * 6371.0088 + 1e-6


@given(points)
def test_haversine_of_a_point_to_itself_is_zero(p: Point) -> None:
    assert haversine_km(p, p) == 0.0


@given(latitudes, longitudes)
def test_geo_key_parts_are_truncated_tenths(latitude: float, longitude: float) -> None:
    lat_part, lon_part = geo_key(latitude, longitude).split("_")
    assert int(lat_part) == math.trunc(latitude / 10)
    assert int(lon_part) == math.trunc(longitude / 10)
    assert not lat_part.startswith("-0") and not lon_part.startswith("-0")


@given(
    st.floats(min_value=-9.999, max_value=0, allow_nan=False),
    st.floats(min_value=-9.999, max_value=0, allow_nan=False),
)
def test_small_negative_values_give_a_plain_zero(latitude: float, longitude: float) -> None:
    assert geo_key(latitude, longitude) == "0_0"
