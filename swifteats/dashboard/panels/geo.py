"""The map of one run: restaurants, customers and the paths of chosen drivers, tile-free."""

from __future__ import annotations

import polars as pl
import streamlit as st

from . import charts, data
from .selection import Selection

DRIVERS_SHOWN = 8
"""How many drivers' paths are drawn when the page opens (the busiest first)."""


def run_map(selection: Selection) -> None:
    """Pick a run and drivers; draw the orders' places and the drivers' paths."""
    run_id = st.selectbox("Run", selection.ids, key="map_run")
    if run_id is None:
        return
    run_dir = selection.dir_of(run_id)
    paths = data.driver_paths(run_dir)
    options = sorted(paths["driver_id"].unique())
    drivers = st.multiselect(
        "Drivers", options, default=_busiest(paths), key=f"map_drivers_{run_id}"
    )
    points = data.order_points(run_dir).rename({"point": "kind"})
    shown = paths.filter(pl.col("driver_id").is_in(drivers)).rename({"time_min": "time"})
    st.altair_chart(charts.route_map(points, shown), width="stretch")
    st.caption("Mercator projection of latitude and longitude; no map tiles.")


def _busiest(paths: pl.DataFrame) -> list[str]:
    """The drivers with the most busy position reports."""
    busy = paths.filter(pl.col("busy")).group_by("driver_id").len()
    top = busy.sort(["len", "driver_id"], descending=[True, False]).head(DRIVERS_SHOWN)
    return sorted(top["driver_id"])
