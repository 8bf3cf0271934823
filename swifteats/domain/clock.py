"""Time is passed in: services read a Clock, the replay harness owns a simulated one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A function returning the current instant as an aware UTC datetime."""


def system_clock() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock someone else moves (a replay harness); it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def __call__(self) -> datetime:
        """The instant it was last set to."""
        return self._now

    def advance_to(self, instant: datetime) -> None:
        """Move to ``instant``; an earlier instant is ignored."""
        self._now = max(self._now, instant)
