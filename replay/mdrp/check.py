"""Our own check of an MDRP solution, rule by rule, with the evaluator's metrics.

:func:`check_solution` reads the three files back (:mod:`replay.mdrp.parse`, rule
``format``), checks them against the instance's exact metres (:mod:`replay.mdrp.rules`:
``consistency`` and rules 1–8 of ``MDRP_SOLUTION_FORMAT.md``) and measures them
(:mod:`replay.mdrp.metrics`).
"""

from __future__ import annotations

from pathlib import Path

from replay.mdrp.instance import MdrpInstance
from replay.mdrp.metrics import CheckReport, Distribution, build_report
from replay.mdrp.parse import Violations, read_assignments, read_moves, read_orders
from replay.mdrp.rules import (
    check_assignments,
    check_consistency,
    check_dropoff,
    check_pickup,
    courier_timelines,
)


def check_solution(folder: Path, instance: MdrpInstance) -> CheckReport:
    """Check the three solution files in ``folder`` against ``instance``.

    Args:
        folder: holds ``solution_info_assignments.txt``, ``solution_info_orders.txt``
            and ``solution_info_couriers.txt``.
        instance: the instance solved, with its exact metres.

    Returns:
        The report; each violation names its rule, file, line and ids.
    """
    out = Violations()
    assignments = read_assignments(folder, instance, out)
    delivered = read_orders(folder, instance, out)
    timelines = courier_timelines(read_moves(folder, instance, out), instance, out)
    check_assignments(assignments, delivered, instance, out)
    check_consistency(assignments, delivered, instance, out)
    for a in assignments:
        check_pickup(a, timelines[a.record.courier_id], instance, out)
    for d in delivered.values():
        check_dropoff(d, timelines[d.record.courier_id], instance.dropoff_minutes, out)
    return build_report(out.items, assignments, delivered, timelines, instance)


def format_report(report: CheckReport, *, max_violations: int = 50) -> str:
    """The report as text, ending with ``FEASIBLE`` or ``INFEASIBLE``."""
    lines = [f"orders delivered: {report.delivered} out of {report.total}"]
    for name, distribution in (
        ("click-to-door", report.click_to_door),
        ("ready-to-door", report.ready_to_door),
        ("ready-to-pickup", report.ready_to_pickup),
        ("click-to-door overage", report.click_to_door_overage),
        ("courier orders per hour", report.orders_per_hour),
        ("courier utilisation", report.utilisation),
    ):
        lines.append(f"{name}: {_describe(distribution)}")
    lines.append(f"total courier pay: {report.total_pay:.2f}")
    lines.append(f"violations: {len(report.violations)}")
    lines += [f"  {v}" for v in report.violations[:max_violations]]
    if len(report.violations) > max_violations:
        lines.append(f"  ... and {len(report.violations) - max_violations} more")
    lines.append("FEASIBLE" if report.feasible else "INFEASIBLE")
    return "\n".join(lines)


def _describe(distribution: Distribution | None) -> str:
    if distribution is None:
        return "-"
    d = distribution
    return f"mean {d.mean:.2f}, p10 {d.p10:.2f}, p50 {d.p50:.2f}, p90 {d.p90:.2f}"
