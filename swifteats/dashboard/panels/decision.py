"""One order's decision: every candidate of every attempt with the terms of its score."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from . import charts, data
from .selection import Selection

TERMS = ("base", "slack_term", "distance_term", "eta_term", "wait_term")
"""The parts of a candidate's score: ``max(base + the terms, floor)``."""


def decision(selection: Selection) -> None:
    """Pick a run and an order; chart and list its candidates' score terms."""
    left, right = st.columns(2)
    run_id = left.selectbox("Run", selection.ids, key="decision_run")
    if run_id is None:
        return
    run_dir = selection.dir_of(run_id)
    orders: list[str] = data.order_outcomes([run_dir]).sort("order_id")["order_id"].to_list()
    order_id = right.selectbox("Order", orders, key=f"decision_order_{run_id}")
    if order_id is None:
        return
    rows = data.decision_breakdown(run_dir, order_id)
    scored = _candidates(rows, base=json.loads(selection.row(run_id)["weights"])["base"])
    if not scored.is_empty():
        st.altair_chart(charts.score_breakdown(scored, TERMS), width="stretch")
    st.dataframe(rows, hide_index=True)


def _candidates(rows: pl.DataFrame, *, base: float) -> pl.DataFrame:
    """The rows with a candidate, labelled ``attempt · rank · driver`` (✓ when chosen)."""
    mark = pl.when(pl.col("chosen")).then(pl.lit(" ✓")).otherwise(pl.lit(""))
    label = pl.format("attempt {} · #{} {}{}", "attempt", "rank", "driver_id", mark)
    return rows.filter(pl.col("driver_id").is_not_null()).with_columns(
        label=label, base=pl.lit(base)
    )
