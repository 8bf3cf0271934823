"""The simulated clock: an event heap keyed ``(time, priority, seq)``, deterministic ties."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Order of events at the same minute: free drivers first, new orders after shifts."""

    DRIVER_FREE = 0
    SHIFT_END = 1
    SHIFT_START = 2
    ORDER = 3
    RETRY = 4
    TRIP_STEP = 5


@dataclass(order=True, frozen=True, slots=True)
class Event:
    """Something that happens at ``time`` (minutes from the start of the day)."""

    time: float
    priority: Priority
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


class SimClock:
    """Owns simulated time; the instant it maps to is ``day_start + minutes``."""

    def __init__(self, day_start: datetime) -> None:
        self.day_start = day_start
        self.minutes = 0.0
        self._heap: list[Event] = []
        self._seq = 0

    def schedule(self, time: float, priority: Priority, kind: str, payload: Any = None) -> None:
        """Add an event; never in the past."""
        self._seq += 1
        heapq.heappush(
            self._heap, Event(max(time, self.minutes), priority, self._seq, kind, payload)
        )

    def next_batch(self) -> list[Event]:
        """Every event due at the next instant, in order; advances the clock to it."""
        if not self._heap:
            return []
        self.minutes = self._heap[0].time
        batch = []
        while self._heap and self._heap[0].time == self.minutes:
            batch.append(heapq.heappop(self._heap))
        return batch

    def now(self) -> datetime:
        """The current simulated instant (a Clock for the services' code)."""
        return self.day_start + timedelta(minutes=self.minutes)

    def __len__(self) -> int:
        return len(self._heap)
