"""Distributions across runs: latency per pipeline stage, and click-to-door minutes."""

from __future__ import annotations

import polars as pl
import streamlit as st

from . import charts, data
from .selection import Selection


def latency(selection: Selection) -> None:
    """Percentiles per stage, then a histogram and a CDF of every stage, runs overlaid."""
    st.dataframe(data.latency_by_stage(selection.dirs), hide_index=True)
    samples = data.latency_samples(selection.dirs).select("run_id", "stage", "ms")
    if samples.is_empty():
        st.caption("These runs recorded no latency.")
        return
    _pair(samples, value="ms", facet="stage", what="latency")


def click_to_door(selection: Selection) -> None:
    """Click-to-door minutes of the delivered orders: histogram and CDF, runs overlaid."""
    orders = data.order_outcomes(selection.dirs)
    delivered = orders.filter(pl.col("outcome") == "delivered").select("run_id", "click_to_door")
    if delivered.is_empty():
        st.caption("No order was delivered in these runs.")
        return
    _pair(delivered, value="click_to_door", facet=None, what="click-to-door, minutes")


def _pair(df: pl.DataFrame, *, value: str, facet: str | None, what: str) -> None:
    """A histogram and a CDF of ``value`` coloured by run, small multiples by ``facet``."""
    for build, kind in ((charts.histogram, "histogram"), (charts.cdf, "CDF")):
        chart = build(df, value=value, color="run_id", title=f"{what}: {kind}")
        if facet is None:
            st.altair_chart(chart.properties(height=300), width="stretch")
        else:
            st.altair_chart(charts.by_facet(chart, facet), width="content")
