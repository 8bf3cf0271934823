"""Figures of one load step from what was offered, stored and logged (no I/O).

Stages come from the orders table (wall clock; ``request_consumed_at`` and
``decided_at`` travel in messages with millisecond precision), search/scoring/claim
from the decision log, the POST round trip from the generator. Stage figures use the
orders assigned at their first attempt (a retry's stamps would span the retry delay);
``placed_to_assigned_all`` counts every accepted order of the step: an assigned one at
its ``response_consumed_at``, a failed one at its ``failed_at``, and one still
undecided when the drain gave up at that instant.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from swifteats.bench.offered import Offered
from swifteats.bench.stats import (
    StepLoad,
    Summary,
    backlog_series,
    growth_per_s,
    limited_by,
    summarise,
)

Row = dict[str, Any]

STAGES = {
    "outbox_to_kafka": ("accepted_at", "request_published_at"),
    "request_consumed": ("request_published_at", "request_consumed_at"),
    "decided": ("request_consumed_at", "decided_at"),
    "response_consumed": ("decided_at", "response_consumed_at"),
    "placed_to_assigned": ("accepted_at", "response_consumed_at"),
}
"""Stage → (from, to) stamps of the orders table; ``response_consumed_at`` is set in the
transaction that marks the order ``assigned_driver``."""
COLUMNS = (
    "id",
    "status",
    "attempts",
    "last_error",
    "failed_at",
    *sorted({c for pair in STAGES.values() for c in pair}),
)
"""The orders table's columns a step reads."""
ASSIGNED = frozenset({"assigned_driver", "picked_up", "delivered"})
FAILED = "assignment_failed"
_DECISION_MESSAGES = {"assignment decision", "slow assignment decision"}


def step_figures(
    offered: Offered, rows: list[Row], decisions: list[dict[str, Any]], *, deadline: float
) -> dict[str, Any]:
    """One step's load and latency figures; ``deadline``: when the drain stopped waiting."""
    end = offered.start + offered.duration_s
    assigned = [r for r in rows if r["status"] in ASSIGNED]
    failed = [r for r in rows if r["status"] == FAILED]
    finished = [_finished(r, deadline) for r in rows]
    done = [_epoch(r["response_consumed_at"]) for r in assigned]
    series = backlog_series(
        [_epoch(r["accepted_at"]) for r in rows],
        [t for t, r in zip(finished, rows, strict=True) if r["status"] != "new_order"],
        start=offered.start,
        end=end,
        every_s=0.5,
    )
    load = StepLoad(
        offered_per_s=offered.rate_per_s,
        achieved_per_s=offered.achieved_per_s,
        completed_per_s=sum(1 for t in done if t <= end) / offered.duration_s,
        backlog_growth_per_s=growth_per_s(series),
    )
    return {
        "offered_per_s": offered.rate_per_s,
        "duration_s": offered.duration_s,
        "generator": offered.generator,
        "sent": offered.sent,
        "accepted": len(rows),
        "shed": offered.shed,
        "errors": offered.errors(),
        "achieved_per_s": round(load.achieved_per_s, 1),
        "completed_per_s": round(load.completed_per_s, 1),
        "backlog_end": series[-1][1] if series else 0,
        "backlog_growth_per_s": round(load.backlog_growth_per_s, 2),
        "limited_by": limited_by(load),
        "assigned": len(assigned),
        "failed": len(failed),
        "failed_reasons": dict(Counter(str(r["last_error"]) for r in failed)),
        "undecided": len(rows) - len(assigned) - len(failed),
        "retried": sum(1 for r in rows if r["attempts"] > 1),
        "generator_max_late_ms": round(offered.max_late_ms, 1),
        "drivers_found": summarise(float(d.get("driversInArea", 0)) for d in decisions),
        "latency_ms": {
            **_latencies(offered, assigned, decisions),
            "placed_to_assigned_all": summarise(
                (t - _epoch(r["accepted_at"])) * 1000 for t, r in zip(finished, rows, strict=True)
            ),
        },
    }


def _finished(row: Row, deadline: float) -> float:
    """When the order was decided; ``deadline`` if it still was not."""
    if row["status"] in ASSIGNED and row["response_consumed_at"] is not None:
        return _epoch(row["response_consumed_at"])
    if row["status"] == FAILED and row["failed_at"] is not None:
        return _epoch(row["failed_at"])
    return deadline


def _latencies(
    offered: Offered, assigned: list[Row], decisions: list[dict[str, Any]]
) -> dict[str, Summary]:
    first_try = [r for r in assigned if r["attempts"] == 1]
    figures: dict[str, Summary] = {"http_post": offered.post_ms}
    for stage, (begin, end) in STAGES.items():
        figures[stage] = summarise(
            (_epoch(r[end]) - _epoch(r[begin])) * 1000 for r in first_try if r[begin] and r[end]
        )
    for step in ("search", "scoring", "claim", "total"):
        figures[step] = summarise(
            float(d["timingsMs"][step]) for d in decisions if step in d.get("timingsMs", {})
        )
    return figures


def decision_lines(text: bytes) -> Iterable[dict[str, Any]]:
    """The assignment service's decision log lines (JSON) in ``text``."""
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") in _DECISION_MESSAGES:
            yield entry


def step_line(step: dict[str, Any]) -> str:
    """One line of progress for a finished step."""
    latency = step["latency_ms"]["placed_to_assigned_all"]
    verdict = f"limited by {step['limited_by']}" if step["limited_by"] else "kept up"
    return (
        f"  e2e {step['offered_per_s']:>6g}/s: sent {step['achieved_per_s']:g}/s,"
        f" accepted {step['accepted']}, shed {step['shed']},"
        f" assigned {step['completed_per_s']:g}/s, undecided {step['undecided']},"
        f" p99 {latency['p99']} ms — {verdict}"
    )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()
