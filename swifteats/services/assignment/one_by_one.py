"""Requests held for an external decision clock, then decided one at a time.

In a lockstep replay (``SWIFTEATS_DECISION_CLOCK=external``) a one-at-a-time policy
(``greedy-score``, ``nearest``) does not decide a request when it is read: it holds it
until the harness says "decide now", then decides every held request one after another
in (request instant, order id) order. The order is the same whichever partitions the
requests came from, so a replay through Kafka decides exactly as one in process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.events import UNKNOWN_INSTANT, AssignmentRequested
from swifteats.services.assignment.decisions import OneRequest


@dataclass(frozen=True, slots=True)
class _Held:
    request: AssignmentRequested
    received_at: datetime


class OneByOneStep:
    """Holds requests and, at each :meth:`step`, decides them all in a fixed order."""

    def __init__(self, decide: OneRequest, *, clock: Clock) -> None:
        self._decide = decide
        self._clock = clock
        self._held: dict[str, _Held] = {}

    @property
    def held(self) -> int:
        """Requests waiting for a decision."""
        return len(self._held)

    @property
    def next_at(self) -> datetime | None:
        """Now while a request is held; None otherwise."""
        return self._clock() if self._held else None

    def hold(
        self, request: AssignmentRequested, consumed_at: datetime, received_at: datetime
    ) -> None:
        """Keep a valid request for the next step (a request sent again replaces it)."""
        if request.occurred_at == UNKNOWN_INSTANT:
            request = replace(request, occurred_at=consumed_at)
        self._held[request.order_id] = _Held(request, received_at)

    def due(self) -> bool:
        """Whether anything is held."""
        return bool(self._held)

    def step(self) -> list[Outgoing]:
        """Decide every held request, earliest first, ties by order id."""
        held = sorted(
            self._held.values(), key=lambda h: (h.request.occurred_at, h.request.order_id)
        )
        self._held.clear()
        return [self._decide(h.request, h.received_at) for h in held]


def _due_then_order(held: _Held) -> tuple[datetime, str]:
    return held.request.occurred_at, held.request.order_id
