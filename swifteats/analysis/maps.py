"""Positions for maps: where each driver went, and each order's restaurant and customer."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from swifteats.analysis.db import query


def driver_paths(run_dir: Path) -> pl.DataFrame:
    """Each driver's positions in time order.

    Columns ``driver_id, time_min, end_min`` (until the next row), ``state, busy,
    latitude, longitude``.
    """
    return query([run_dir], "driver_paths")


def order_points(run_dir: Path) -> pl.DataFrame:
    """Two rows per order (``point`` is ``restaurant`` or ``customer``) with ``latitude,
    longitude`` and the order's ``restaurant_id, outcome, driver_id, click_to_door``."""
    return query([run_dir], "order_points")
