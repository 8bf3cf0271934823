"""A sweep's figures: one run directory as a row of KPIs, and per-cell means with 95 % CIs.

The confidence interval is Student's t (``scipy.stats.t``) over the cell's seeds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from scipy.stats import t as student_t

from replay.sweep_spec import WEIGHT_FIELDS

KPIS = (
    "orders",
    "delivered",
    "never_assigned",
    "undelivered_share",
    "click_to_door_mean",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "ready_to_pickup_mean",
    "pickup_km_mean",
    "pickup_minutes_mean",
    "utilisation",
    "wall_seconds",
)
"""Numeric figures of a run; ``click_to_door_all_mean`` counts every order (an undelivered
one from its placement to the end of the day's last shift), ``pickup_km_mean`` and
``pickup_minutes_mean`` are the chosen driver's distance and travel minutes to the
restaurant when assigned (the courier's empty driving), ``utilisation`` the drivers' busy
share of their logged time."""
CI_KPIS = (
    "undelivered_share",
    "click_to_door_mean",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "ready_to_pickup_mean",
    "pickup_km_mean",
    "pickup_minutes_mean",
    "utilisation",
)
"""The figures that get a ``<kpi>_ci95`` half-width per cell."""
CELL_KEYS = ("cell_id", "input", "policy", *WEIGHT_FIELDS, "params", "deterministic")
_IDLE = ("available", "offline")


def t975(df: int) -> float:
    """Student's t 97.5 % quantile for ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    return float(student_t.ppf(0.975, df))


def is_finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a finished run: a readable manifest with its summary."""
    try:
        return "summary" in json.loads((run_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False


def run_row(run_dir: Path) -> dict[str, Any]:
    """The KPIs of a finished run directory."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    summary, check = manifest["summary"], manifest.get("mdrp_check")
    orders = summary["orders"]
    started, ended = (datetime.fromisoformat(manifest[k]) for k in ("started_at", "ended_at"))
    return {
        "orders": orders,
        "delivered": summary["delivered"],
        "never_assigned": summary["never_assigned"],
        "undelivered_share": (orders - summary["delivered"]) / orders if orders else None,
        "click_to_door_mean": summary["click_to_door_mean"],
        "click_to_door_all_mean": summary.get("click_to_door_all_mean"),
        "click_to_door_p90": summary["click_to_door_p90"],
        "ready_to_pickup_mean": summary["ready_to_pickup_mean"],
        **pickup_means(pl.read_parquet(run_dir / "decisions.parquet")),
        "utilisation": utilisation(pl.read_parquet(run_dir / "drivers.parquet")),
        "mdrp_feasible": check["feasible"] if check else None,
        "wall_seconds": round((ended - started).total_seconds(), 3),
    }


def pickup_means(decisions: pl.DataFrame) -> dict[str, float | None]:
    """``pickup_km_mean`` and ``pickup_minutes_mean``: the mean distance (km) and travel
    minutes from the chosen driver to the restaurant at assignment."""
    chosen = decisions.filter(pl.col("chosen")) if not decisions.is_empty() else decisions
    return {
        "pickup_km_mean": _mean(chosen, "distance_km"),
        "pickup_minutes_mean": _mean(chosen, "eta_to_restaurant"),
    }


def _mean(frame: pl.DataFrame, column: str) -> float | None:
    value = frame[column].mean() if column in frame.columns else None
    return float(value) if isinstance(value, int | float) else None


def utilisation(timeline: pl.DataFrame) -> float | None:
    """Busy share (neither available nor offline) of the time between drivers' records."""
    if timeline.is_empty():
        return None
    spans = timeline.sort("driver_id", "time", maintain_order=True).with_columns(
        span=pl.col("time").shift(-1).over("driver_id") - pl.col("time")
    )
    logged = spans.filter(pl.col("state") != "offline")["span"].sum()
    busy = spans.filter(~pl.col("state").is_in(_IDLE))["span"].sum()
    return float(busy) / float(logged) if logged else None


def summarise_cells(results: pl.DataFrame) -> pl.DataFrame:
    """One row per cell and input: seeds run, KPI means and ``<kpi>_ci95`` half-widths
    (results written before parameters could be swept get ``params`` ``{}``)."""
    if "params" not in results.columns:
        results = results.with_columns(params=pl.lit("{}"))
    summary = results.group_by(CELL_KEYS, maintain_order=True).agg(
        pl.len().alias("n_seeds"),
        *(pl.col(k).mean() for k in KPIS),
        *(pl.col(k).std().alias(f"{k}_sd") for k in CI_KPIS),
        pl.col("mdrp_feasible").cast(pl.Boolean).all(ignore_nulls=False),
    )
    t = pl.col("n_seeds").replace_strict(_t_by_count(summary), default=None)
    return summary.with_columns(
        (t * pl.col(f"{k}_sd") / pl.col("n_seeds").sqrt()).alias(f"{k}_ci95") for k in CI_KPIS
    ).drop(f"{k}_sd" for k in CI_KPIS)


def _t_by_count(summary: pl.DataFrame) -> dict[int, float]:
    counts = summary["n_seeds"].unique().to_list()
    return {n: t975(n - 1) for n in counts if n > 1}
