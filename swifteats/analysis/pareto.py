"""The Pareto front of a results table: the rows no other row beats on two figures."""

from __future__ import annotations

import polars as pl


def pareto_front(df: pl.DataFrame, x: str, y: str) -> pl.DataFrame:
    """The rows of ``df`` not dominated on ``x`` and ``y`` (both minimised), sorted by ``x``.

    A row is dominated when another is no worse on both and better on one; identical
    points are all kept. Rows missing ``x`` or ``y`` (null or NaN) are left out.
    """
    missing = [c for c in (x, y) if c not in df.columns]
    if missing:
        raise ValueError(f"no column(s) {', '.join(missing)} in the table")
    present = pl.all_horizontal(
        pl.col(c).cast(pl.Float64).fill_nan(None).is_not_null() for c in (x, y)
    )
    rows = df.filter(present).sort(x, y)
    keep = _undominated(rows[x].to_list(), rows[y].to_list())
    return rows.filter(pl.Series(keep, dtype=pl.Boolean))


def _undominated(xs: list[float], ys: list[float]) -> list[bool]:
    """For points sorted by (x, y): whether each is on the front."""
    keep, best_y, best_x = [], float("inf"), float("nan")
    for x, y in zip(xs, ys, strict=True):
        if y < best_y:
            best_y, best_x = y, x
        keep.append(y == best_y and x == best_x)
    return keep
