"""Assignment policies: how the candidates near a restaurant are put in order.

A policy is chosen by name (``SWIFTEATS_POLICY`` in the services, ``--policy`` in
``swifteats replay``). Every policy ranks the same candidates with the same score terms
and shift-end filter, so decision logs stay comparable; only the order differs.

- ``greedy-score`` (the default): the design's ``calculatePriorityScore``, highest first.
- ``nearest``: the nearest available driver, whatever the score says (the classic
  baseline of the dispatch literature).

With a travel model that grows with straight-line distance (both of ours), the design's
score falls with distance too, so the two choose alike; they part where travel time does
not follow distance, as on a road network.
"""

from __future__ import annotations

from collections.abc import Callable

from swifteats.domain.ranking import RankedDriver

DEFAULT_POLICY = "greedy-score"

Ordering = Callable[[list[RankedDriver]], list[RankedDriver]]
"""Puts ranked candidates (best score first) in the order the policy prefers."""


def _by_score(ranked: list[RankedDriver]) -> list[RankedDriver]:
    return ranked


def _by_distance(ranked: list[RankedDriver]) -> list[RankedDriver]:
    return sorted(ranked, key=lambda r: (r.distance_km, r.driver_id))


POLICIES: dict[str, Ordering] = {
    DEFAULT_POLICY: _by_score,
    "nearest": _by_distance,
}


def policy_named(name: str) -> Ordering:
    """The policy called ``name``; a ValueError lists the known names otherwise."""
    try:
        return POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown policy {name!r}; known policies: {known}") from None
