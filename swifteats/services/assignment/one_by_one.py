"""Requests held for an external decision clock, then decided one at a time.

In a lockstep replay (``SWIFTEATS_DECISION_CLOCK=external``) a one-at-a-time policy
(``greedy-score``, ``nearest``) does not decide a request when it is read: it holds it
until the harness says "decide now", then decides every held request one after another
in turn (:attr:`~swifteats.services.assignment.decisions.Arrival.turn`: earliest due, then
the oldest order, then by order id). The turn is the same whichever partitions the
requests came from, so a replay through Kafka decides exactly as one in process.
"""

from __future__ import annotations

from datetime import datetime

from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.services.assignment.decisions import Arrival, OneRequest


class OneByOneStep:
    """Holds requests and, at each :meth:`step`, decides them all in turn."""

    def __init__(self, decide: OneRequest, *, clock: Clock) -> None:
        self._decide = decide
        self._clock = clock
        self._held: dict[str, Arrival] = {}

    @property
    def held(self) -> int:
        """Requests waiting for a decision."""
        return len(self._held)

    @property
    def next_at(self) -> datetime | None:
        """Now while a request is held; None otherwise."""
        return self._clock() if self._held else None

    def hold(self, arrival: Arrival) -> None:
        """Keep a valid request for the next step (a request sent again replaces it)."""
        self._held[arrival.request.order_id] = arrival

    def due(self) -> bool:
        """Whether anything is held."""
        return bool(self._held)

    def step(self) -> list[Outgoing]:
        """Decide every held request in turn (one search for all: :meth:`OneRequest.many`)."""
        held = sorted(self._held.values(), key=lambda arrival: arrival.turn)
        self._held.clear()
        return self._decide.many([(h.request, h.received_at) for h in held])
