"""Progress of long work as a port: the work reports :class:`Tick` values to a callback.

Pure code (the replay, sweeps, benchmarks) takes an optional :data:`ProgressSink` and
calls it as it goes; it never renders anything. The command line passes a sink that
draws a rich bar on a terminal or prints a plain line every few seconds
(``swifteats.cli.progress``); tests pass ``list.append``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tick:
    """How far a piece of work has come.

    Attributes:
        done: Units finished (orders answered, runs done, phases done).
        total: Units in all; None when not known yet.
        unit: What is counted, for display (``orders``, ``runs``, ``phases``).
        in_flight: Units started but not finished (orders awaiting their answer).
        simulated: The simulated time reached, as text (replays).
        note: What is under way now (a benchmark's phase).
    """

    done: int
    total: int | None
    unit: str = ""
    in_flight: int | None = None
    simulated: str | None = None
    note: str = ""


ProgressSink = Callable[[Tick], None]
"""Told each :class:`Tick` as the work goes; must be cheap (called up to once per instant)."""


def counted(sink: ProgressSink | None, unit: str) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback (as sweeps and ``bench policies`` call) feeding ``sink``."""

    def report(done: int, total: int) -> None:
        if sink is not None:
            sink(Tick(done, total, unit))

    return report
