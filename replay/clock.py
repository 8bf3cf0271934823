"""The simulated clock: an event heap keyed ``(time, priority, seq)``, deterministic ties."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Order of events at the same minute: free drivers and shifts first, then retries that
    fell due (the live Order Service releases those as soon as its clock gets there), then
    new orders, then the fleet's moves, and last a windowed policy's decision, which so
    sees every order and driver of that minute."""

    DRIVER_FREE = 0
    SHIFT_END = 1
    SHIFT_START = 2
    RETRY = 3
    ORDER = 4
    TRIP_STEP = 5
    DECIDE = 6


@dataclass(order=True, frozen=True, slots=True)
class Event:
    """Something that happens at ``time`` (minutes from the start of the day)."""

    time: float
    priority: Priority
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


def _to_millisecond(minutes: float) -> float:
    """Event times on a millisecond grid: the instants services exchange carry milliseconds,
    so a time that went through a service compares equal to one computed here."""
    return round(minutes * 60_000) / 60_000


class SimClock:
    """Owns simulated time; the instant it maps to is ``day_start + minutes``."""

    def __init__(self, day_start: datetime) -> None:
        self.day_start = day_start
        self.minutes = 0.0
        self._heap: list[tuple[float, int, int, Event]] = []
        """Events behind their sort key: tuples compare faster than the dataclass."""
        self._seq = 0

    def schedule(self, time: float, priority: Priority, kind: str, payload: Any = None) -> None:
        """Add an event; never in the past."""
        self._seq += 1
        when = max(_to_millisecond(time), self.minutes)
        event = Event(when, priority, self._seq, kind, payload)
        heapq.heappush(self._heap, (when, priority, self._seq, event))

    def next_batch(self) -> list[Event]:
        """Every event due at the next instant, in order; advances the clock to it."""
        if not self._heap:
            return []
        self.minutes = self._heap[0][0]
        batch = []
        while self._heap and self._heap[0][0] == self.minutes:
            batch.append(heapq.heappop(self._heap)[3])
        return batch

    def peek(self) -> float | None:
        """The time of the next event, None when nothing is left."""
        return self._heap[0][0] if self._heap else None

    def advance_to(self, minutes: float) -> None:
        """Move time forward to ``minutes`` (a paced run), never past the next event."""
        upcoming = self.peek()
        target = _to_millisecond(minutes) if upcoming is None else min(upcoming, minutes)
        self.minutes = max(self.minutes, _to_millisecond(target))

    def now(self) -> datetime:
        """The current simulated instant (a Clock for the services' code)."""
        return self.day_start + timedelta(minutes=self.minutes)

    def __len__(self) -> int:
        return len(self._heap)
