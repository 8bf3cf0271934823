"""DuckDB analyses over replay run directories, returning Polars DataFrames.

Each question is one SQL file in ``sql/`` run over the runs' Parquet tables (see
:mod:`swifteats.analysis.tables`); ``run_dirs`` are folders written by ``swifteats
replay``, results come in the order given. :mod:`swifteats.analysis.report` renders the
tables for ``swifteats report``. Times are simulated minutes, latencies milliseconds,
percentiles linearly interpolated.
"""

from __future__ import annotations

from swifteats.analysis.diff import diff_summary, order_diff
from swifteats.analysis.kpis import compare_runs, driver_activity, run_kpis, runs_table
from swifteats.analysis.latency import STAGES, latency_by_stage, latency_cdf, latency_samples
from swifteats.analysis.maps import driver_paths, order_points
from swifteats.analysis.orders import decision_breakdown, failures_by_reason, order_outcomes
from swifteats.analysis.runs import find_runs, resolve_runs
from swifteats.analysis.sweeps import (
    find_sweeps,
    mark_pareto,
    outside_sweeps,
    searched_weights,
    sweep_results,
    sweep_summary,
)

__all__ = [
    "STAGES",
    "compare_runs",
    "decision_breakdown",
    "diff_summary",
    "driver_activity",
    "driver_paths",
    "failures_by_reason",
    "find_runs",
    "find_sweeps",
    "latency_by_stage",
    "latency_cdf",
    "latency_samples",
    "mark_pareto",
    "order_diff",
    "order_outcomes",
    "order_points",
    "outside_sweeps",
    "resolve_runs",
    "run_kpis",
    "runs_table",
    "searched_weights",
    "sweep_results",
    "sweep_summary",
]
