"""Why a windowed policy matched what it matched: each pair's cost terms and the next best.

A windowed policy decides by a minimum-cost matching (``matching.match``) over a cost
matrix of jobs (orders or bundles, rows) by drivers (columns). :func:`explain` turns a
matched pair into an :class:`Explanation`: its cost and the terms it is made of, and
the runners-up read off the same matrix, the cheapest other feasible drivers for those
orders and the cheapest other jobs for that driver. It costs a pass over one row and
one column per pair, nothing the matching did not already compute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    row: int,
    col: int,
    cost: FloatArray,
    feasible: BoolArray,
    *,
    driver_ids: Sequence[str],
    job_orders: Callable[[int], tuple[str, ...]],
    terms: Mapping[str, FloatArray],
    committed: bool = True,
    leave_by: float | None = None,
) -> Explanation:
    """The explanation of the pair (``row``, ``col``) of ``cost`` (see the module).

    ``terms`` are matrices shaped as ``cost`` (or one value per row, shaped ``(rows, 1)``).
    """
    return Explanation(
        driver_ids[col],
        job_orders(row),
        committed,
        float(cost[row, col]),
        {name: float(np.broadcast_to(m, cost.shape)[row, col]) for name, m in terms.items()},
        tuple(
            Alternative(driver_ids[c], job_orders(row), float(cost[row, c]))
            for c in _cheapest(cost[row], feasible[row], col)
        ),
        tuple(
            Alternative(driver_ids[col], job_orders(r), float(cost[r, col]))
            for r in _cheapest(cost[:, col], feasible[:, col], row)
        ),
        leave_by,
    )


def _cheapest(costs: FloatArray, feasible: BoolArray, skip: int) -> list[int]:
    """The indices of the cheapest feasible entries but ``skip``, cheapest first."""
    usable = np.flatnonzero(feasible)
    usable = usable[usable != skip]
    if len(usable) > RUNNERS_UP:
        usable = usable[np.argpartition(costs[usable], RUNNERS_UP)[:RUNNERS_UP]]
    return [int(i) for i in usable[np.argsort(costs[usable], kind="stable")]]
