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
    """A clock someone else moves (a replay harness); once set, it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._set = False

    def __call__(self) -> datetime:
        """The instant it was last set to (``start`` until then)."""
        return self._now

    def advance_to(self, instant: datetime) -> None:
        """Move to ``instant``; the first call may go anywhere, later ones only forward."""
        self._now = max(self._now, instant) if self._set else instant
        self._set = True
