"""Minimum-cost bipartite matching of jobs (orders or bundles) to drivers, and the drivers'
arrays the batch policies build their costs from.

:func:`match` solves the rectangular assignment problem with
``scipy.optimize.linear_sum_assignment`` over the feasible pairs. Every cost is meant
net of a reward for serving the job, so a pair is only worth making when its cost is
negative; leaving a job unmatched costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from swifteats.domain.geo import Point
from swifteats.domain.policies.base import DriverView

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def match(cost: FloatArray, feasible: BoolArray) -> list[tuple[int, int]]:
    """Row and column of each pair of a minimum-cost matching of feasible, negative pairs.

    Any number of pairs may be made: each row may also stay unmatched at no cost (a
    column of zeros of its own), so the answer is the cheapest set of pairs, not the
    cheapest among the largest sets.
    """
    usable = feasible & (cost < 0)
    if not usable.any():
        return []
    rows = np.flatnonzero(usable.any(axis=1))
    cols = np.flatnonzero(usable.any(axis=0))
    sub_ok = usable[np.ix_(rows, cols)]
    sub_cost = np.where(sub_ok, cost[np.ix_(rows, cols)], 1.0)
    stay = np.zeros((len(rows), len(rows)))
    chosen_rows, chosen_cols = linear_sum_assignment(np.hstack([sub_cost, stay]))
    return [
        (int(rows[r]), int(cols[c]))
        for r, c in zip(chosen_rows, chosen_cols, strict=True)
        if c < len(cols) and sub_ok[r, c]
    ]


@dataclass(frozen=True, slots=True)
class Candidates:
    """The drivers a decision may use: when and where each is next free, and its shift end."""

    drivers: tuple[DriverView, ...]
    free_at: FloatArray
    free_location: tuple[Point, ...]
    shift_ends_at: FloatArray

    @classmethod
    def of(cls, drivers: Sequence[DriverView], now: float) -> Candidates:
        """``drivers`` with their next free minute (never before ``now``)."""
        chosen = tuple(drivers)
        return cls(
            chosen,
            np.array([max(now, d.free_at) for d in chosen], dtype=np.float64),
            tuple(d.free_location for d in chosen),
            np.array([d.shift_ends_at for d in chosen], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.drivers)
