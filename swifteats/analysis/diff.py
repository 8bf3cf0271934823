"""Two runs of one input, order by order: who got another driver and what that did."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from swifteats.analysis.db import query
from swifteats.analysis.runs import RunInfo, read_runs


def same_input(run_a: Path, run_b: Path) -> tuple[RunInfo, RunInfo]:
    """Both runs (named as :func:`~swifteats.analysis.runs.read_runs` names them), when
    they replayed the same input.

    Raises:
        ValueError: the inputs' ``input_sha256`` differ (or one is missing).
    """
    runs = read_runs([run_a, run_b])
    a, b = runs[0], runs[-1]
    sha_a, sha_b = a.manifest.get("input_sha256"), b.manifest.get("input_sha256")
    if not sha_a or sha_a != sha_b:
        raise ValueError(
            f"runs {a.run_id} and {b.run_id} replayed different inputs "
            f"(input_sha256 {sha_a} and {sha_b}): an order-by-order diff needs the same input"
        )
    return a, b


def order_diff(run_a: Path, run_b: Path) -> pl.DataFrame:
    """Per order: ``order_id, driver_a, driver_b, click_to_door_a, click_to_door_b, delta,
    changed``, then ``outcome_a, outcome_b``.

    ``delta`` is b minus a (minutes; null unless delivered in both); ``changed`` is true
    when the order went to another driver, or was assigned in one run only.

    Raises:
        ValueError: the runs replayed different inputs.
    """
    a, b = same_input(run_a, run_b)
    return query([run_a, run_b], "order_diff", run_a=a.run_id, run_b=b.run_id)


def diff_summary(run_a: Path, run_b: Path) -> pl.DataFrame:
    """One row: orders, how many changed driver, got faster or slower, delivered in each
    run, and the mean and total click-to-door change (b minus a, minutes).

    Raises:
        ValueError: the runs replayed different inputs.
    """
    a, b = same_input(run_a, run_b)
    delta = pl.col("delta")
    return order_diff(run_a, run_b).select(
        pl.lit(a.run_id).alias("run_a"),
        pl.lit(b.run_id).alias("run_b"),
        pl.len().alias("orders"),
        pl.col("changed").sum().alias("changed"),
        (delta < 0).sum().alias("faster"),
        (delta > 0).sum().alias("slower"),
        (pl.col("outcome_a") == "delivered").sum().alias("delivered_a"),
        (pl.col("outcome_b") == "delivered").sum().alias("delivered_b"),
        delta.mean().alias("delta_mean"),
        delta.filter(pl.col("changed")).mean().alias("delta_mean_changed"),
        delta.sum().alias("delta_total"),
    )
