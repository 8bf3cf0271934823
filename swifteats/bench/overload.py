"""Overload: offer several times the measured capacity and see what the pipeline delivers.

Capacity is ``e2e.max_sustained_orders_per_s`` of the same run (assignments per second
achieved over a step the pipeline sustained), or, when no step was sustained, the most
assignments per second of any step. Each overload step offers ``factor`` times
that for ``step_s`` seconds; the Order Service should shed the excess at the door (503 +
Retry-After) and keep assigning near capacity. ``goodput_ratio_<factor>x`` is the step's
assignments per second over the capacity. Every accepted order must end assigned or
failed with a reason once the drain is over: ``undecided`` counts those that did not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swifteats.bench.e2e_steps import StepRunner

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class OverloadOptions:
    """Factors of capacity to offer, and for how long."""

    factors: tuple[float, ...] = (2.0, 4.0)
    step_s: float = 60.0


def run_overload(
    runner: StepRunner, capacity: float, options: OverloadOptions, echo: Echo
) -> dict[str, Any]:
    """Each factor's step and its goodput ratio; skipped (with the reason) at no capacity."""
    if capacity <= 0:
        return {"skipped": "no load step assigned anything, so there is no capacity"}
    results: dict[str, Any] = {"capacity_orders_per_s": capacity, "step_s": options.step_s}
    for factor in options.factors:
        step = runner.run_step(capacity * factor, options.step_s, label=f"x{factor:g}")
        figures = overload_figures(step, capacity)
        results[f"goodput_ratio_{factor:g}x"] = figures["goodput_ratio"]
        results[f"steps_{factor:g}x"] = {**figures, "step": step}
        echo(
            f"  overload {factor:g}x ({capacity * factor:g}/s): goodput"
            f" {step['completed_per_s']:g}/s = {figures['goodput_ratio']:.2f} of capacity,"
            f" shed {figures['shed_share']:.0%}, undecided {step['undecided']},"
            f" p99 {figures['p99_placed_to_assigned_ms']} ms"
        )
    return results


def overload_figures(step: dict[str, Any], capacity: float) -> dict[str, Any]:
    """Goodput over capacity, the share shed, and what became of the accepted orders."""
    sent = max(1, step["sent"])
    return {
        "offered_per_s": step["offered_per_s"],
        "goodput_per_s": step["completed_per_s"],
        "goodput_ratio": round(step["completed_per_s"] / capacity, 3),
        "accepted": step["accepted"],
        "shed": step["shed"],
        "shed_share": round(step["shed"] / sent, 3),
        "assigned": step["assigned"],
        "failed": step["failed"],
        "failed_reasons": step["failed_reasons"],
        "undecided": step["undecided"],
        "p99_placed_to_assigned_ms": step["latency_ms"]["placed_to_assigned_all"]["p99"],
    }
