"""The replay's scheduler: simulated time as an event heap keyed ``(time, priority, seq)``.

Ties resolve the same way every run. :meth:`Scheduler.run_until` plays every event up to a
minute, one instant at a time, calling ``before_instant`` once the clock shows the instant
and ``after_instant`` once its events are done (the harness's barrier with the services).
Wall-clock pacing is not its business: a paced run passes ``pace``, called with each
instant before it is played.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Order of events at the same minute: free drivers and shifts first, then new orders,
    then the fleet's moves, and last a service's own wake-up (a retry falls due, a window
    ends), which so sees every order and driver of that minute."""

    DRIVER_FREE = 0
    SHIFT_END = 1
    SHIFT_START = 2
    ORDER = 3
    TRIP_STEP = 4
    WAKE = 5


Handler = Callable[[Any], None]


def to_millisecond(minutes: float) -> float:
    """Event times on a millisecond grid: the instants services exchange carry milliseconds,
    so a time that went through a service compares equal to one computed here."""
    return round(minutes * 60_000) / 60_000


class Scheduler:
    """Owns simulated time; minute ``m`` stands for the instant ``day_start + m``."""

    def __init__(self, day_start: datetime) -> None:
        self.day_start = day_start
        self.minutes = 0.0
        self._heap: list[tuple[float, int, int, Handler, Any]] = []
        self._seq = 0

    def at(self, minute: float, priority: Priority, handler: Handler, payload: Any = None) -> None:
        """Call ``handler(payload)`` at ``minute`` (never in the past)."""
        self._seq += 1
        when = max(to_millisecond(minute), self.minutes)
        heapq.heappush(self._heap, (when, priority, self._seq, handler, payload))

    def peek(self) -> float | None:
        """The minute of the next event, None when nothing is left."""
        return self._heap[0][0] if self._heap else None

    def run_until(
        self,
        minute: float = float("inf"),
        *,
        before_instant: Callable[[], None] | None = None,
        after_instant: Callable[[], None] | None = None,
        pace: Callable[[float], None] | None = None,
    ) -> None:
        """Play every event due by ``minute``, instant by instant (see the module)."""
        while self._heap and self._heap[0][0] <= minute:
            instant = self._heap[0][0]
            if pace is not None:
                pace(instant)
            self.minutes = instant
            if before_instant is not None:
                before_instant()
            while self._heap and self._heap[0][0] == instant:
                _, _, _, handler, payload = heapq.heappop(self._heap)
                handler(payload)
            if after_instant is not None:
                after_instant()

    def instant(self, minute: float) -> datetime:
        """The instant minute ``minute`` stands for."""
        return self.day_start + timedelta(minutes=minute)

    def now(self) -> datetime:
        """The current simulated instant."""
        return self.instant(self.minutes)

    def minute_of(self, instant: datetime) -> float:
        """``instant`` as minutes of the day."""
        return (instant - self.day_start) / timedelta(minutes=1)

    def __len__(self) -> int:
        return len(self._heap)
