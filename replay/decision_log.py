"""The assignment service's decision log, read back into a live run's decisions table.

The service logs every decision as one JSON line (``assignment decision``) with the
candidates and their score terms, the fields the in-process backend records directly.
Lines of one order come in attempt order; the answers the replay saw say when each
attempt was decided.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from swifteats.domain.events import parse_instant

_DECISION_MESSAGES = frozenset(
    {"assignment decision", "slow assignment decision", "assignment decision explained"}
)
EXPLAINED = ("queued", "postponed")
"""``decision`` of a windowed policy's record that answers no request."""


def read_decision_log(path: Path) -> list[dict[str, Any]]:
    """Every decision logged in ``path`` (a JSON-lines log), in the order logged."""
    if not path.is_file():
        return []
    decisions = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # not one of ours (a server banner, say)
        if isinstance(entry, dict) and entry.get("message") in _DECISION_MESSAGES:
            decisions.append(entry)
    return decisions


def number_attempts(
    decisions: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    minute_of: Callable[[datetime], float] | None = None,
) -> list[dict[str, Any]]:
    """The decisions with ``attempt`` and ``time`` (minutes) from the answers' rows.

    ``answers`` are the replay's latency rows (``order_id``, ``attempt``, ``time_min``);
    a decision with no answer to match (one decided twice after a redelivery) is dropped.
    A windowed policy's queued or postponed pair belongs to the attempt still open, at
    the minute of its ``decidedAt`` (``minute_of``; dropped without it).
    """
    seen_at = {(a["order_id"], a["attempt"]): a["time_min"] for a in answers}
    counted: defaultdict[str, int] = defaultdict(int)
    numbered = []
    for decision in decisions:
        order_id = decision["orderId"]
        if decision.get("decision") in EXPLAINED:
            if minute_of is not None:
                minute = minute_of(parse_instant(decision["decidedAt"]))
                numbered.append({**decision, "attempt": counted[order_id] + 1, "time": minute})
            continue
        counted[order_id] += 1
        time = seen_at.get((order_id, counted[order_id]))
        if time is not None:
            numbered.append({**decision, "attempt": counted[order_id], "time": time})
    return numbered
