"""Per-run figures: the KPIs, the runs with their headline KPIs, runs side by side, drivers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from swifteats.analysis.db import query
from swifteats.analysis.latency import latency_columns
from swifteats.analysis.runs import read_runs, runs_frame

HEADLINE = (
    "orders",
    "delivered",
    "never_assigned",
    "undelivered_share",
    "click_to_door_mean",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "utilisation",
    "orders_per_driver_hour",
    "answer_ms_p50",
    "answer_ms_p99",
)
"""The KPIs ``runs_table`` shows beside each run's identity."""


def run_kpis(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """One row per run with every per-run metric.

    Outcome counts and the undelivered share; click-to-door over all orders
    (``click_to_door_all_*``: an undelivered order counts from its placement to the end of
    the day's last shift); click-to-door, ready-to-pickup, ready-to-door (minutes) and the chosen
    driver's distance (km): mean, p50, p90, max; slack (minutes the driver is early for the
    food) p10/p50/p90 and the share below 0; fleet hours, utilisation (busy share of
    on-shift time) and delivered orders per driver-hour; attempts, failed attempts,
    retries, most requests in flight; then ``<stage>_ms_<p50|p95|p99>`` for every latency
    stage (null when the run did not measure it). Percentiles interpolate linearly.
    """
    kpis = query(run_dirs, "run_kpis")
    return kpis.join(latency_columns(run_dirs), on="run_id", how="left", maintain_order="left")


def runs_table(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """One row per run: its identity (manifest, ``weights`` as JSON) and headline KPIs."""
    runs = runs_frame(read_runs(run_dirs)).drop("run_no")
    kpis = run_kpis(run_dirs).select("run_id", *HEADLINE)
    return runs.join(kpis, on="run_id", how="left", maintain_order="left")


def compare_runs(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """The KPIs side by side: a ``metric`` column, then one column per run (by ``run_id``).

    Metrics no run has (e.g. the live stages of in-process runs) are left out.
    """
    kpis = run_kpis(run_dirs)
    run_ids = kpis["run_id"].to_list()
    table = kpis.select(pl.exclude("run_id").cast(pl.Float64)).transpose(
        include_header=True, header_name="metric", column_names=run_ids
    )
    return table.filter(~pl.all_horizontal(pl.col(run_ids).is_null()))


def driver_activity(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """One row per driver of each run: on-shift and busy minutes, utilisation, deliveries."""
    return query(run_dirs, "driver_activity")
