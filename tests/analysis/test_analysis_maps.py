"""Positions for maps: driver paths and order points."""

from __future__ import annotations

import polars as pl

from swifteats.analysis import driver_paths, order_points
from tests.analysis.helpers import Runs


def test_driver_paths_follow_each_driver_in_time(runs: Runs) -> None:
    paths = driver_paths(runs.base)
    assert paths.height == pl.read_parquet(runs.base / "drivers.parquet").height
    in_order = paths.group_by("driver_id").agg(pl.col("time_min").diff().min() >= 0)
    assert in_order["time_min"].fill_null(True).all()
    busy_states = set(paths.filter("busy")["state"])
    assert "available" not in busy_states
    assert "offline" not in busy_states
    assert "to_customer" in busy_states


def test_order_points_are_restaurant_and_customer(runs: Runs) -> None:
    points = order_points(runs.base)
    orders = pl.read_parquet(runs.base / "orders.parquet")
    assert points.height == 2 * orders.height
    restaurants = points.filter(pl.col("point") == "restaurant")
    assert restaurants["latitude"].to_list() == orders["restaurant_lat"].to_list()
    customers = points.filter(pl.col("point") == "customer")
    assert customers["longitude"].to_list() == orders["customer_lon"].to_list()
