"""Two runs of the same input, order by order: which orders changed driver and what it did."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from . import charts, data
from .selection import Selection


def order_diff(selection: Selection) -> None:
    """Pick run A and a run B of the same input; the changed orders and their minutes."""
    left, right = st.columns(2)
    run_a = left.selectbox("Run A", selection.ids, key="diff_a")
    if run_a is None:
        return
    others = _same_input(selection, run_a)
    run_b = right.selectbox("Run B (same input)", others, key=f"diff_b_{run_a}")
    if run_b is None:
        st.info(f"No other picked run replayed the input of {run_a}.")
        return
    dirs = selection.dir_of(run_a), selection.dir_of(run_b)
    _summary(data.diff_summary(*dirs).row(0, named=True))
    diff = data.order_diff(*dirs)
    changed = diff.filter(pl.col("changed"))
    chart = charts.paired(
        diff.drop_nulls("delta"),
        x="click_to_door_a",
        y="click_to_door_b",
        color="changed",
        tooltip=["order_id", "driver_a", "driver_b", "delta"],
    )
    st.altair_chart(chart, width="stretch")
    st.dataframe(changed, hide_index=True)


def _same_input(selection: Selection, run_id: str) -> list[str]:
    """The other picked runs that replayed the same input as ``run_id``."""
    sha = selection.row(run_id)["input_sha256"]
    same = selection.picked.filter(pl.col("input_sha256") == sha, pl.col("run_id") != run_id)
    return list(same["run_id"])


def _summary(summary: dict[str, Any]) -> None:
    """Cards from ``diff_summary``: changed driver, faster, slower, mean change."""
    mean = summary["delta_mean"]
    figures = {
        "Changed driver": f"{summary['changed']:,} of {summary['orders']:,}",
        "Faster in B": f"{summary['faster']:,}",
        "Slower in B": f"{summary['slower']:,}",
        "Mean change, min": "–" if mean is None else f"{mean:+.2f}",
    }
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value)
