"""The design's ``calculatePriorityScore`` with every constant in :class:`ScoringWeights`.

Every term of the design's score falls as the driver gets farther from the restaurant, so
with its defaults, or any non-negative weights, the nearest available driver always ranks
first and reweighting changes no decision. Two terms (0 in the design, so its defaults
keep its decisions exactly) do not follow distance and can make a farther driver the
better choice:

- ``wait_penalty_per_minute`` charges the minutes the driver would wait for the food (the
  food waiting for the driver is the design's ``slack_penalty_per_minute``), so an early,
  near driver can be kept for an order that needs one;
- ``supply_bonus_per_driver`` rewards taking a driver from where others are: points per
  other candidate within ``supply_radius_km`` of it, so the last driver of an area is kept
  there (see ``swifteats.domain.ranking``);
- ``idle_bonus_per_minute`` rewards each minute the driver has been available (fairness:
  the longest idle goes first), up to ``idle_bonus_cap`` points.

A busy driver about to be free nearer the restaurant is not a candidate of a one-at-a-time
score: the windowed ``bundling`` and ``rolling-horizon`` queue routes on such drivers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class ScoringWeights:
    """Constants of the priority score; the defaults are the design's."""

    base: float = 100.0
    slack_bonus_per_minute: float = 10.0
    slack_bonus_cap: float = 50.0
    slack_penalty_per_minute: float = 20.0
    distance_penalty_per_km: float = 5.0
    eta_penalty_per_minute: float = 2.0
    floor: float = 0.0
    wait_penalty_per_minute: float = 0.0
    """Cost of each minute the driver would wait at the restaurant (not in the design)."""
    supply_bonus_per_driver: float = 0.0
    """Points per other candidate within ``supply_radius_km`` of the driver (not in the
    design): the supply its area keeps once it is taken."""
    supply_radius_km: float = 2.0
    """What counts as near a driver for ``supply_bonus_per_driver``."""
    idle_bonus_per_minute: float = 0.0
    """Points per minute the driver has been available (not in the design): fairness."""
    idle_bonus_cap: float = 100.0
    """The most points ``idle_bonus_per_minute`` earns a driver."""

    @classmethod
    def from_json(cls, text: str) -> ScoringWeights:
        """Defaults overridden by the fields of a JSON object; unknown fields are an error."""
        if not text.strip():
            return cls()
        values: Any = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("scoring weights must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown scoring weight(s): {', '.join(unknown)}")
        return replace(cls(), **{k: float(v) for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class ScoreTerms:
    """The parts the score is made of, kept for decision logs and research."""

    slack_term: float
    distance_term: float
    eta_term: float
    score: float
    wait_term: float = 0.0
    supply_term: float = 0.0
    idle_term: float = 0.0


def priority_score(
    slack: float,
    distance_km: float,
    total_eta: float,
    weights: ScoringWeights,
    neighbours: int = 0,
    idle_minutes: float = 0.0,
) -> ScoreTerms:
    """Score one driver: positive slack earns a capped bonus; lateness, distance, ETA and
    (with ``wait_penalty_per_minute``) waiting for the food cost; ``neighbours``, the other
    candidates near the driver, earn ``supply_bonus_per_driver`` each; ``idle_minutes``,
    how long it has been available, earn ``idle_bonus_per_minute`` each (capped)."""
    if slack > 0:
        slack_term = min(slack * weights.slack_bonus_per_minute, weights.slack_bonus_cap)
    else:
        slack_term = -abs(slack) * weights.slack_penalty_per_minute
    distance_term = -distance_km * weights.distance_penalty_per_km
    eta_term = -total_eta * weights.eta_penalty_per_minute
    wait_term = -max(slack, 0.0) * weights.wait_penalty_per_minute
    supply_term = neighbours * weights.supply_bonus_per_driver
    idle_term = min(idle_minutes * weights.idle_bonus_per_minute, weights.idle_bonus_cap)
    raw = weights.base + slack_term + distance_term + eta_term + wait_term + supply_term
    score = max(raw + idle_term, weights.floor)
    return ScoreTerms(slack_term, distance_term, eta_term, score, wait_term, supply_term, idle_term)


def priority_scores(
    slack: npt.NDArray[np.float64],
    distance_km: npt.NDArray[np.float64],
    total_eta: npt.NDArray[np.float64],
    weights: ScoringWeights,
    neighbours: npt.NDArray[np.float64] | float = 0.0,
    idle_minutes: npt.NDArray[np.float64] | float = 0.0,
) -> npt.NDArray[np.float64]:
    """:func:`priority_score` element-wise over broadcastable arrays, before the floor
    (a matching weighs every pair, including those the floor would clip)."""
    slack_term = np.where(
        slack > 0,
        np.minimum(slack * weights.slack_bonus_per_minute, weights.slack_bonus_cap),
        -np.abs(slack) * weights.slack_penalty_per_minute,
    )
    result: npt.NDArray[np.float64] = (
        weights.base
        + slack_term
        - distance_km * weights.distance_penalty_per_km
        - total_eta * weights.eta_penalty_per_minute
        - np.maximum(slack, 0.0) * weights.wait_penalty_per_minute
        + np.asarray(neighbours) * weights.supply_bonus_per_driver
        + np.minimum(
            np.asarray(idle_minutes) * weights.idle_bonus_per_minute, weights.idle_bonus_cap
        )
    )
    return result
