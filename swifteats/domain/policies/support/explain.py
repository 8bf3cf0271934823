"""Why a windowed policy matched what it matched: each pair's cost terms and the next best.

A windowed policy decides by a minimum-cost matching (``matching.match``) over a cost
matrix of jobs (orders or bundles, rows) by drivers (columns). :func:`explain` turns a
matched pair into an :class:`Explanation`: its cost and the terms it is made of, and
the runners-up read off the same matrix, the cheapest other feasible drivers for those
orders and the cheapest other jobs for that driver. It costs a pass over one row and
one column per pair, nothing the matching did not already compute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from swifteats.domain.policies.support.matching import BoolArray, FloatArray

RUNNERS_UP = 2
"""Alternatives kept per side."""


@dataclass(frozen=True, slots=True)
class Alternative:
    """A pair the matching did not make, and its cost."""

    driver_id: str
    order_ids: tuple[str, ...]
    cost: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """One matched pair: committed now, or postponed to a later window."""

    driver_id: str
    order_ids: tuple[str, ...]
    committed: bool
    """False: matched but postponed (``rolling-horizon``: the driver need not leave yet)."""
    cost: float
    """The matching cost (negative: worth making)."""
    terms: Mapping[str, float]
    """What the cost is made of, by name (e.g. customer and courier minutes, worth)."""
    other_drivers: tuple[Alternative, ...] = ()
    """The cheapest other feasible drivers for these orders."""
    other_orders: tuple[Alternative, ...] = ()
    """The cheapest other feasible jobs for this driver."""
    leave_by: float | None = None
    """The latest minute the driver can leave and be there when the food is ready."""


def explain(
    pairs: Sequence[tuple[int, int]],
    cost: FloatArray,
    feasible: BoolArray,
    *,
    driver_ids: Sequence[str],
    job_orders: Sequence[tuple[str, ...]],
    terms: Mapping[str, FloatArray],
    leave_by: FloatArray | None = None,
    committed: Sequence[bool] | None = None,
) -> list[Explanation]:
    """The explanation of each matched pair (row, column) of ``cost`` (see the module).

    ``job_orders`` are each row's orders; ``terms`` and ``leave_by`` are matrices shaped
    as ``cost`` (a term may be one value per row, shaped ``(rows, 1)``); ``committed``
    says which pairs are committed (default: all). A few numpy calls per decision,
    whatever the pairs.
    """
    if not pairs:
        return []
    rows = np.array([r for r, _ in pairs])
    cols = np.array([c for _, c in pairs])
    blocked = np.where(feasible, cost, np.inf)
    by_row = blocked[rows]
    by_row[np.arange(len(rows)), cols] = np.inf
    by_col = blocked[:, cols].T
    by_col[np.arange(len(cols)), rows] = np.inf
    other_cols, other_rows = _cheapest(by_row), _cheapest(by_col)
    values = {n: np.broadcast_to(m, cost.shape)[rows, cols] for n, m in terms.items()}
    leave = None if leave_by is None else leave_by[rows, cols]
    return [
        Explanation(
            driver_ids[c],
            job_orders[r],
            True if committed is None else committed[i],
            float(cost[r, c]),
            {n: float(v[i]) for n, v in values.items()},
            tuple(
                Alternative(driver_ids[j], job_orders[r], float(by_row[i, j]))
                for j in other_cols[i]
            ),
            tuple(
                Alternative(driver_ids[c], job_orders[j], float(by_col[i, j]))
                for j in other_rows[i]
            ),
            None if leave is None else float(leave[i]),
        )
        for i, (r, c) in enumerate(pairs)
    ]


def _cheapest(costs: FloatArray) -> list[list[int]]:
    """Per row, the columns of its :data:`RUNNERS_UP` cheapest finite entries, cheapest first."""
    k = min(RUNNERS_UP, costs.shape[1])
    if k == 0:
        return [[] for _ in range(costs.shape[0])]
    part = np.argpartition(costs, k - 1, axis=1)[:, :k] if costs.shape[1] > k else None
    idx = part if part is not None else np.tile(np.arange(costs.shape[1]), (costs.shape[0], 1))
    picked = np.take_along_axis(costs, idx, axis=1)
    order = np.argsort(picked, axis=1, kind="stable")
    idx, picked = np.take_along_axis(idx, order, axis=1), np.take_along_axis(picked, order, axis=1)
    return [
        [int(j) for j, v in zip(ix, pv, strict=True) if np.isfinite(v)]
        for ix, pv in zip(idx, picked, strict=True)
    ]
