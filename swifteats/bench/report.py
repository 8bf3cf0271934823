"""The benchmark's results: targets, the headline figures, the printed table and the JSON.

The JSON is nested: ``{"e2e": {"max_sustained_orders_per_s": …, "steps": […]}, …}``, so
every headline key (``e2e.max_sustained_orders_per_s``) names a path through it
(:func:`lookup`). ``headline`` and ``targets`` repeat the headline figures flat, by
dotted key, for readers that want one level.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    """A figure, what it is compared with, and how."""

    key: str
    label: str
    unit: str
    bound: float
    compare: str
    """``>=``, ``<=`` or ``<``."""

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target; None when it was not measured."""
        return None if value is None else _COMPARE[self.compare](value, self.bound)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
}

TARGETS = (
    Target("e2e.max_sustained_orders_per_s", "sustained end to end", "orders/s", 1000, ">="),
    Target("e2e.p99_placed_to_assigned_ms_at_100", "p99 placed → assigned @100/s", "ms", 50, "<="),
    Target("e2e.p99_placed_to_assigned_ms_at_200", "p99 placed → assigned @200/s", "ms", 100, "<="),
    Target("overload.goodput_ratio_2x", "goodput at 2x capacity / capacity", "", 0.9, ">="),
    Target("overload.goodput_ratio_4x", "goodput at 4x capacity / capacity", "", 0.9, ">="),
    Target("assign_step.p99_ms_10k", "search+scoring+claim p99, 10k drivers", "ms", 2, "<="),
    Target("assign_step.p99_ms_100k", "search+scoring+claim p99, 100k drivers", "ms", 10, "<="),
    Target("replay.inprocess_orders_per_s", "in-process replay", "orders/s", 20_000, ">="),
    Target("replay.live_lockstep_7o100_s", "live lockstep 7o100t100s1p100, greedy", "s", 120, "<="),
    Target(
        "replay.live_lockstep_7o100_windowed_s",
        "live lockstep 7o100t100s1p100, rolling-horizon",
        "s",
        60,
        "<=",
    ),
)
HEADLINE_KEYS = tuple(t.key for t in TARGETS)
DEFINITIONS = {
    "e2e.max_sustained_orders_per_s": "most assignments per second achieved over a whole"
    " step (not the offered rate) that the pipeline sustained: the generator sent >= 95 %"
    " of the offered rate, and the backlog of accepted orders (not yet decided) grew by"
    " <= 5 % of it per second over the step's second half (0: no step was sustained)",
    "e2e.p99_placed_to_assigned_ms_at_<rate>": "accepted_at to response_consumed_at (the"
    " transaction that sets assigned_driver) of every accepted order of the step at that"
    " offered rate: retried ones included, a failed one at its failed_at, one still"
    " undecided at the drain timeout counted at that timeout",
    "overload.goodput_ratio_<n>x": "assignments per second over a step offering n times"
    " e2e.max_sustained_orders_per_s (60 s; --quick 20 s), divided by that capacity (the"
    " best step's assignments/s when no step was sustained); the excess is shed with 503"
    " + Retry-After",
    "assign_step.p99_ms_<size>": "Assigner.assign timings (search + scoring + claim) against"
    " Redis, fleet spread so a 5 km search finds ~found_target drivers",
    "replay.inprocess_orders_per_s": "the slowest input's orders per wall second of"
    " run_replay in process (best of the repeats, outputs written)",
    "replay.live_lockstep_7o100_s": "wall seconds of run_replay live in lockstep, services'"
    " start and outputs included (greedy-score; _windowed_s: rolling-horizon)",
}


def lookup(results: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``a.b.c`` in nested mappings; None when any part is missing."""
    value: Any = results
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def verdicts(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met (None: not measured)."""
    rows = []
    for target in TARGETS:
        value = lookup(results, target.key)
        rows.append(
            {
                "key": target.key,
                "value": value,
                "target": f"{target.compare} {target.bound:g} {target.unit}",
                "met": target.met(value),
            }
        )
    return rows


def finish(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with the flat ``headline`` and the ``targets`` verdicts added."""
    return {
        **results,
        "headline": {key: lookup(results, key) for key in HEADLINE_KEYS},
        "targets": verdicts(results),
        "definitions": DEFINITIONS,
    }


def write_json(results: Mapping[str, Any], path: Path) -> None:
    """``results`` as indented JSON at ``path`` (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def render(results: Mapping[str, Any]) -> str:
    """The table printed at the end of a run: targets, load steps, assignment step, replay."""
    lines = ["", "swifteats bench — targets", _rule()]
    lines.append(f"{'figure':44} {'measured':>12} {'target':>16}  verdict")
    for target, row in zip(TARGETS, verdicts(results), strict=True):
        verdict = {True: "met", False: "NOT met", None: "not measured"}[row["met"]]
        lines.append(
            f"{target.label:44} {_number(row['value']):>12} {row['target']:>16}  {verdict}"
        )
    lines += _e2e_lines(results.get("e2e"))
    lines += _overload_lines(results.get("overload"))
    lines += _assign_lines(results.get("assign_step"))
    lines += _replay_lines(results.get("replay"))
    lines += _machine_lines(results.get("machine"))
    return "\n".join(lines)


def _e2e_lines(e2e: Mapping[str, Any] | None) -> list[str]:
    if not e2e or "steps" not in e2e:
        return []
    lines = ["", "end to end (POST /orders → assigned_driver), per offered rate", _rule()]
    lines.append(
        f"{'offered':>8} {'sent':>8} {'assigned':>9} {'backlog':>8} {'grows':>7}"
        f" {'post p99':>9} {'→assigned p50':>14} {'p95':>8} {'p99':>8}  verdict"
    )
    for step in e2e["steps"]:
        latency = step["latency_ms"]
        total = latency["placed_to_assigned_all"]
        lines.append(
            f"{step['offered_per_s']:>8g} {step['achieved_per_s']:>8g}"
            f" {step['completed_per_s']:>9g} {step['backlog_end']:>8}"
            f" {step['backlog_growth_per_s']:>7g} {_number(latency['http_post']['p99']):>9}"
            f" {_number(total['p50']):>14} {_number(total['p95']):>8} {_number(total['p99']):>8}"
            f"  {'kept up' if not step['limited_by'] else 'limited by ' + step['limited_by']}"
        )
    lines += ["", "stage latency, ms (p50 / p95 / p99) per offered rate", _rule()]
    steps = e2e["steps"]
    lines.append(f"{'stage':20} " + " | ".join(f"{s['offered_per_s']:>20g}/s" for s in steps))
    for stage in steps[0]["latency_ms"] if steps else ():
        cells = [f"{_triple(step['latency_ms'][stage]):>22}" for step in steps]
        lines.append(f"{stage:20} " + " | ".join(cells))
    for what in ("cpu_ms_per_order",):
        for name in steps[0].get(what, {}) if steps else ():
            cells = [f"{_number(step[what].get(name)):>22}" for step in steps]
            lines.append(f"{'cpu ms/order ' + name:20.20} " + " | ".join(cells))
    return lines


def _overload_lines(overload: Mapping[str, Any] | None) -> list[str]:
    if not overload:
        return []
    if "skipped" in overload:
        return ["", f"overload: skipped ({overload['skipped']})"]
    lines = ["", f"overload (capacity {overload['capacity_orders_per_s']:g}/s)", _rule()]
    lines.append(
        f"{'factor':>6} {'offered':>8} {'goodput':>8} {'ratio':>6} {'accepted':>9} {'shed':>7}"
        f" {'failed':>7} {'undecided':>9} {'p99 ms':>9}"
    )
    for key, figures in overload.items():
        if not key.startswith("steps_"):
            continue
        lines.append(
            f"{key.removeprefix('steps_'):>6} {figures['offered_per_s']:>8g}"
            f" {figures['goodput_per_s']:>8g} {figures['goodput_ratio']:>6.2f}"
            f" {figures['accepted']:>9} {figures['shed']:>7} {figures['failed']:>7}"
            f" {figures['undecided']:>9} {_number(figures['p99_placed_to_assigned_ms']):>9}"
        )
    return lines


def _assign_lines(assign: Mapping[str, Any] | None) -> list[str]:
    if not assign or "sizes" not in assign:
        return []
    lines = ["", "assignment step alone (Redis), ms (p50 / p95 / p99)", _rule()]
    lines.append(
        f"{'drivers':>8} {'found':>6} {'search':>22} {'scoring':>22} {'claim':>22} {'total':>22}"
    )
    for label, size in assign["sizes"].items():
        latency = size["latency_ms"]
        cells = " ".join(
            f"{_triple(latency[s]):>22}" for s in ("search", "scoring", "claim", "total")
        )
        lines.append(f"{label:>8} {_number(size['found_per_search']['p50']):>6} {cells}")
    return lines


def _replay_lines(replay: Mapping[str, Any] | None) -> list[str]:
    if not replay:
        return []
    lines = ["", "replay speed", _rule()]
    for name, figures in replay.get("inprocess", {}).items():
        if "orders_per_s" in figures:
            lines.append(
                f"in-process {name:24} {figures['orders']:>6} orders"
                f" {figures['wall_s']:>8.2f} s {figures['orders_per_s']:>10g} orders/s"
            )
        else:
            lines.append(f"in-process {name:24} skipped: {figures.get('skipped')}")
    for live in (replay.get("live_lockstep"), replay.get("live_lockstep_windowed")):
        if live:
            lines.append(
                f"live lockstep {live['instance']} {live['policy']:15}"
                f" {live.get('orders', 0):>6} orders {live['wall_s']:>8.1f} s,"
                f" {live.get('attempts')} attempts,"
                f" answer p50 {_number(lookup(live, 'answer_ms.p50'))} ms"
            )
    if replay.get("live_lockstep_skipped"):
        lines.append(f"live lockstep: skipped ({replay['live_lockstep_skipped']})")
    return lines


def _machine_lines(machine: Mapping[str, Any] | None) -> list[str]:
    if not machine:
        return []
    return ["", "machine: " + ", ".join(f"{k} {v}" for k, v in machine.items())]


def _triple(summary: Mapping[str, Any]) -> str:
    return " / ".join(_number(summary.get(q)) for q in ("p50", "p95", "p99"))


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _rule() -> str:
    return "-" * 100
