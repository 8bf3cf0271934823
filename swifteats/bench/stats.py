"""Pure figures of the benchmark: percentile summaries, backlog over time, "sustained".

Nothing here does I/O, so the rules that turn measurements into verdicts are unit-tested.
Times are seconds on one clock (the benchmark compares the services' wall-clock stamps
with its own ``time.time()``: everything runs on one machine).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swifteats.observability import percentile

QUANTILES = (50, 95, 99)
TOLERANCE = 0.05
"""How far below the offered rate a step may fall and still count as keeping up."""

Summary = dict[str, float | int | None]


def summarise(values: Iterable[float]) -> Summary:
    """p50/p95/p99 (nearest rank, as the services' /stats), max and count, rounded to µs."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    quantiles: Summary = {f"p{q}": round(percentile(ordered, q), 3) for q in QUANTILES}
    return {**quantiles, "max": round(ordered[-1], 3), "count": len(ordered)}


def backlog_series(
    arrived: Sequence[float], done: Sequence[float], *, start: float, end: float, every_s: float
) -> list[tuple[float, int]]:
    """Orders arrived and not done at each ``every_s`` from ``start`` to ``end``.

    Returns:
        ``(seconds since start, backlog)`` pairs, the first at ``start + every_s``.
    """
    arrivals, completions = sorted(arrived), sorted(done)
    points = []
    for k in range(1, int((end - start) / every_s + 1e-9) + 1):
        at = start + k * every_s
        points.append((k * every_s, bisect_right(arrivals, at) - bisect_right(completions, at)))
    return points


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points; 0 for fewer than two distinct x."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def growth_per_s(series: Sequence[tuple[float, int]]) -> float:
    """How fast the backlog grows over the second half of a step (orders per second)."""
    half = series[len(series) // 2 :]
    return slope([(t, float(b)) for t, b in half])


@dataclass(frozen=True, slots=True)
class StepLoad:
    """What one load step offered and what the system did with it."""

    offered_per_s: float
    """The rate the step was meant to offer."""
    achieved_per_s: float
    """The rate the load generator actually sent at."""
    completed_per_s: float
    """Orders that reached ``assigned_driver`` during the step, per second."""
    backlog_growth_per_s: float
    """Slope of the backlog (arrived, not assigned) over the step's second half."""


def limited_by(step: StepLoad, tolerance: float = TOLERANCE) -> str | None:
    """Why a step did not keep up: ``generator``, ``system``, or None when it did.

    The generator limits a step that sent more than ``tolerance`` below the offered rate
    (the offer was not made). The system limits one whose completions fell more than
    twice ``tolerance`` short (orders finishing just after the step's end are allowed
    for) or whose backlog grew by more than ``tolerance`` of the offered rate per second.
    """
    floor = (1 - tolerance) * step.offered_per_s
    if step.achieved_per_s < floor:
        return "generator"
    slow = step.completed_per_s < (1 - 2 * tolerance) * step.offered_per_s
    if slow or step.backlog_growth_per_s > tolerance * step.offered_per_s:
        return "system"
    return None


def sustained(steps: Iterable[StepLoad], tolerance: float = TOLERANCE) -> float:
    """The most assignments per second achieved over a whole step that the pipeline
    sustained: the generator offered its rate and the backlog of accepted orders did not
    grow (by more than ``tolerance`` of the offered rate per second). Orders shed at the
    door do not count against a step; only what was assigned counts for it. 0: none.

    A step that fell behind below a higher one that kept up is read as disturbance from
    elsewhere on the machine: sustaining a whole step at the higher rate is the proof.
    """
    kept = [
        s.completed_per_s
        for s in steps
        if s.achieved_per_s >= (1 - tolerance) * s.offered_per_s
        and s.backlog_growth_per_s <= tolerance * s.offered_per_s
    ]
    return max(kept, default=0.0)
