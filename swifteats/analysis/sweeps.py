"""Sweep directories (``swifteats sweep``): finding them, their result tables, Pareto fronts.

A sweep directory holds ``results.parquet`` (one row per cell × input × seed),
``summary.parquet`` (one row per cell and input, means over seeds with 95 % CIs) and a
run directory per task under ``cells/``. A folder of runs may hold sweeps: pickers of
single runs can leave their many runs out (:func:`outside_sweeps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import polars as pl

from swifteats.analysis.pareto import pareto_front
from swifteats.domain.scoring import ScoringWeights

RESULTS = "results.parquet"
SUMMARY = "summary.parquet"
WEIGHT_FIELDS = tuple(field.name for field in fields(ScoringWeights))


def find_sweeps(root: Path) -> list[Path]:
    """Every sweep directory (a folder holding ``results.parquet``) at or under ``root``.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    return sorted(results.parent for results in root.rglob(RESULTS))


def outside_sweeps(run_dirs: Sequence[Path], sweep_dirs: Sequence[Path]) -> list[Path]:
    """The run directories that are not inside any of ``sweep_dirs``."""
    return [run for run in run_dirs if not any(run.is_relative_to(s) for s in sweep_dirs)]


def sweep_results(sweep_dir: Path) -> pl.DataFrame:
    """One row per run: ``cell_id, input, policy``, the weights, ``seed``, the KPIs, ``run_dir``."""
    return pl.read_parquet(sweep_dir / RESULTS)


def sweep_summary(sweep_dir: Path) -> pl.DataFrame:
    """One row per cell and input: the weights, ``n_seeds``, KPI means and ``<kpi>_ci95``."""
    path = sweep_dir / SUMMARY
    return pl.read_parquet(path) if path.is_file() else pl.DataFrame()


def mark_pareto(cells: pl.DataFrame, x: str, y: str) -> pl.DataFrame:
    """``cells`` with ``on_front``: no other row is as good on ``x`` and ``y`` (both
    minimised) and better on one."""
    indexed = cells.with_row_index("_row")
    front = pareto_front(indexed, x, y)["_row"]
    return indexed.with_columns(on_front=pl.col("_row").is_in(front.to_list())).drop("_row")


def searched_weights(cells: pl.DataFrame) -> list[str]:
    """The weight columns (and ``params``, the policies' parameter overrides) whose value
    differs between rows: the ones the sweep searched."""
    present = [name for name in (*WEIGHT_FIELDS, "params") if name in cells.columns]
    return [name for name in present if cells[name].n_unique() > 1]
