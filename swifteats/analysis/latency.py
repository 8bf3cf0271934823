"""Assignment latency by pipeline stage: percentiles per run, and the samples behind them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from swifteats.analysis.db import query

STAGES: dict[str, str] = {
    "answer": "asking for a driver to having the answer, as the replay saw it (live: via Kafka)",
    "search": "the assigner finding the drivers near the restaurant",
    "scoring": "the assigner ranking them",
    "claim": "the assigner claiming the best one still available",
    "total": "search, scoring and claim together",
    "publish": "live: order accepted to request published (first attempts)",
    "request_queue": "live: request published to consumed by the assignment service",
    "decide": "live: request consumed to decided",
    "response_queue": "live: decided to the response consumed by the Order Service",
    "end_to_end": "live: order accepted to response consumed (first attempts)",
}
"""The stages in pipeline order (the names ``sql/views/latency_samples.sql`` gives them).

The live stages come from each attempt's ``*_to_*_ms`` columns of ``latency.parquet``, or,
for runs without them, from the wall-clock instants of ``orders.parquet`` (each order's
last attempt).
"""

PERCENTILES = ("p50", "p95", "p99")


def latency_by_stage(run_dirs: Sequence[Path], *, by_outcome: bool = False) -> pl.DataFrame:
    """Milliseconds per stage: ``run_id, stage, n, p50_ms, p95_ms, p99_ms``.

    Args:
        run_dirs: The runs, in the order their rows should come.
        by_outcome: Split each stage by the order's outcome (an ``outcome`` column after
            ``stage``).
    """
    table = query(run_dirs, "latency_by_stage", by_outcome=by_outcome)
    return table if by_outcome else table.drop("outcome")


def latency_samples(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """Every measurement, for histograms and CDFs.

    Columns ``run_id, stage, ms`` then ``order_id, attempt, assigned`` (the attempt's
    result) and ``outcome`` (the order's).
    """
    return query(run_dirs, "latency_samples")


def latency_columns(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """One row per run with latency, a column ``<stage>_ms_<pNN>`` for every stage."""
    table = latency_by_stage(run_dirs)
    return table.group_by("run_id", maintain_order=True).agg(
        pl.col(f"{p}_ms").filter(pl.col("stage") == stage).first().alias(f"{stage}_ms_{p}")
        for stage in STAGES
        for p in PERCENTILES
    )


def latency_cdf(run_dirs: Sequence[Path], *, points: int = 101) -> pl.DataFrame:
    """Each stage's cumulative distribution at ``points`` evenly spaced shares, for charts.

    Columns ``run_id, stage, share, ms``: ``ms`` is the ``share`` quantile (linear), so a
    chart of a day's samples stays at ``points`` rows per run and stage (Altair embeds at
    most 5,000 rows).
    """
    if points < 2:
        raise ValueError("a CDF needs at least two points")
    shares = [i / (points - 1) for i in range(points)]
    per_stage = (
        latency_samples(run_dirs)
        .drop_nulls("ms")
        .group_by("run_id", "stage", maintain_order=True)
        .agg(pl.col("ms").quantile(s, "linear").alias(str(i)) for i, s in enumerate(shares))
        .with_row_index("group")
    )
    return (
        per_stage.unpivot(
            index=["group", "run_id", "stage"], variable_name="point", value_name="ms"
        )
        .with_columns(share=pl.col("point").cast(pl.Int64) / (points - 1))
        .sort("group", "share")
        .select("run_id", "stage", "share", "ms")
    )
