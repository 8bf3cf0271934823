"""Every read of the dashboard: ``swifteats.analysis``, run queries cached per argument.

A run directory does not change once its manifest is written (last), so its answers are
cached for the life of the server; new runs show up because finding runs is not cached,
and neither are sweeps (a resumed sweep rewrites its tables).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import streamlit as st

from swifteats import analysis

Query = TypeVar("Query", bound=Callable[..., object])


def _cached(query: Query) -> Query:
    return cast(Query, st.cache_data(show_spinner=False)(query))


find_runs = analysis.find_runs
runs_table = _cached(analysis.runs_table)
run_kpis = _cached(analysis.run_kpis)
compare_runs = _cached(analysis.compare_runs)
order_outcomes = _cached(analysis.order_outcomes)
latency_by_stage = _cached(analysis.latency_by_stage)
latency_samples = _cached(analysis.latency_samples)
failures_by_reason = _cached(analysis.failures_by_reason)
order_diff = _cached(analysis.order_diff)
diff_summary = _cached(analysis.diff_summary)
decision_breakdown = _cached(analysis.decision_breakdown)
driver_paths = _cached(analysis.driver_paths)
order_points = _cached(analysis.order_points)

find_sweeps = analysis.find_sweeps
outside_sweeps = analysis.outside_sweeps
sweep_results = analysis.sweep_results
sweep_summary = analysis.sweep_summary
mark_pareto = analysis.mark_pareto
searched_weights = analysis.searched_weights
