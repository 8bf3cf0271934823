"""Order by order: outcomes with the chosen candidate, failures, one order's decisions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from swifteats.analysis.db import query


def order_outcomes(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """Every order of every run: ``run_id``, the orders columns, the chosen candidate's
    ``distance_km`` and ``slack`` (null when never assigned, or in live runs)."""
    return query(run_dirs, "order_outcomes")


def failures_by_reason(run_dirs: Sequence[Path]) -> pl.DataFrame:
    """``run_id, kind, reason, n, share``: orders never assigned by their last error, and
    failed attempts by their error (share within the run and kind).

    Runs record each attempt's error only when ``latency.parquet`` has an ``error``
    column; otherwise only the final attempt of an order never assigned has a known reason
    and the others count as ``(not recorded)``.
    """
    return query(run_dirs, "failures_by_reason")


def decision_breakdown(run_dir: Path, order_id: str) -> pl.DataFrame:
    """Every attempt for ``order_id`` with each candidate, its rank and score terms.

    An attempt without candidates is one row with a null ``driver_id``; an unknown order
    gives no rows.
    """
    return query([run_dir], "decision_breakdown", order_id=order_id)
