"""Sweep results: every cell's mean KPIs on one input, with the Pareto front of two."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import streamlit as st

from . import charts, data

MINIMISED = (
    "click_to_door_mean",
    "pickup_km_mean",
    "undelivered_share",
    "pickup_minutes_mean",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "ready_to_pickup_mean",
    "never_assigned",
    "wall_seconds",
)
"""The figures a front can be drawn on (lower is better); the first two are the default."""
CELL = ("cell_id", "policy")


def sweep_front(root: Path, sweeps: Sequence[Path]) -> None:
    """Pick a sweep and an input; chart the cells on two figures with their Pareto front."""
    if not sweeps:
        st.info(f"No sweep under `{root}`: run one with `swifteats sweep --out {root}/<name>`.")
        return
    sweep = st.selectbox("Sweep", sweeps, format_func=lambda p: _name(p, root), key="sweep")
    cells = data.sweep_summary(sweep)
    if cells.is_empty():
        st.info("This sweep has no finished run yet.")
        return
    inputs = cells["input"].unique(maintain_order=True).to_list()
    source = st.selectbox("Input", inputs, key=f"sweep_input_{sweep}")
    figures = [name for name in MINIMISED if name in cells.columns]
    if len(figures) < 2:
        st.info("This sweep's summary has fewer than two figures to compare.")
        return
    x, y = _axes(figures, key=str(sweep))
    marked = data.mark_pareto(cells.filter(pl.col("input") == source), x, y)
    weights = data.searched_weights(marked)
    tooltip = [*CELL, *weights, x, y, "n_seeds"]
    st.altair_chart(charts.pareto(marked, x=x, y=y, front="on_front", tooltip=tooltip))
    front = marked.filter(pl.col("on_front")).sort(x)
    st.dataframe(front.select(*CELL, *weights, *figures, "n_seeds"), hide_index=True)
    with st.expander("Every run of the sweep"):
        st.dataframe(data.sweep_results(sweep), hide_index=True)


def _name(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _axes(figures: list[str], *, key: str) -> tuple[str, str]:
    left, right = st.columns(2)
    x = left.selectbox("x (lower is better)", figures, index=0, key=f"sweep_x_{key}")
    y = right.selectbox("y (lower is better)", figures, index=1, key=f"sweep_y_{key}")
    return str(x), str(y)
