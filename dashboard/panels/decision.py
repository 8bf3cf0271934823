"""One order's decision: every candidate of every attempt with the terms of its score."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from . import charts, data
from .selection import Selection

TERMS = (
    *("base", "slack_term", "distance_term", "eta_term"),
    *("wait_term", "supply_term", "idle_term"),
)
"""The parts of a candidate's score: ``max(base + the terms, floor)``."""
COST_TERMS = ("customer_minutes", "courier_term", "minus_worth")
"""The parts of a windowed policy's matching cost: customer-minutes + courier weight ×
courier minutes − worth (the courier part is the cost's remainder, weight applied);
``batch-matching``'s cost is − score − worth."""
BATCH_TERMS = ("minus_score", "minus_worth")
MAX_WINDOWS = 12
"""The latest windows charted for an order (a long wait is matched again every window)."""


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
    costed = _costed(rows)
    if not costed.is_empty():
        st.caption(
            "Windowed policy: each window that matched this order (started, queued on a busy"
            " driver, or postponed), the matched pair's cost and its terms, and the runners-up:"
            " other drivers for these orders, other orders for that driver (lower is better)."
        )
        terms = BATCH_TERMS if costed["customer_minutes"].is_null().all() else COST_TERMS
        chart = charts.score_breakdown(costed, terms, total="cost", title="matching cost")
        st.altair_chart(chart, width="stretch")
    else:
        scored = _candidates(rows, base=json.loads(selection.row(run_id)["weights"])["base"])
        if not scored.is_empty():
            st.altair_chart(charts.score_breakdown(scored, TERMS), width="stretch")
    st.dataframe(rows, hide_index=True)


def _costed(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows with a matching cost, of the last :data:`MAX_WINDOWS` windows, labelled
    ``minute · decision · driver → orders (kind)``, with the cost split into its terms."""
    costed = rows.filter(pl.col("cost").is_not_null())
    if costed.is_empty():
        return costed
    last = costed["time_min"].unique().sort().tail(MAX_WINDOWS)
    label = pl.format(
        "min {} · {} · {} → {} ({})", "time_min", "decision", "driver_id", "bundle", "kind"
    )
    return costed.filter(pl.col("time_min").is_in(last.implode())).with_columns(
        label=label,
        minus_worth=-pl.col("worth"),
        minus_score=-pl.col("score"),
        courier_term=pl.col("cost") - pl.col("customer_minutes") + pl.col("worth"),
    )


def _candidates(rows: pl.DataFrame, *, base: float) -> pl.DataFrame:
    """The rows with a candidate, labelled ``attempt · rank · driver`` (✓ when chosen)."""
    mark = pl.when(pl.col("chosen")).then(pl.lit(" ✓")).otherwise(pl.lit(""))
    label = pl.format("attempt {} · #{} {}{}", "attempt", "rank", "driver_id", mark)
    return rows.filter(pl.col("driver_id").is_not_null()).with_columns(
        label=label, base=pl.lit(base)
    )
