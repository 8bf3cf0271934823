"""Showing :class:`~swifteats.progress.Tick` values: a rich bar on a terminal, else plain lines.

:func:`progress_reporter` gives the sink a long command hands to its work. On a terminal
(stderr by default) it draws a rich progress bar; anywhere else (a pipe, a CI log) it
prints one line every ``interval_s`` seconds and a last one when the work ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from swifteats.progress import ProgressSink, Tick

PLAIN_INTERVAL_S = 5.0
"""Seconds between two plain progress lines."""


@contextmanager
def progress_reporter(
    label: str,
    *,
    stream: TextIO | None = None,
    interval_s: float = PLAIN_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[ProgressSink]:
    """A sink showing the work's progress on ``stream`` (stderr) while the block runs."""
    out = stream if stream is not None else sys.stderr
    if out.isatty():
        with _rich_bar(label, out) as sink:
            yield sink
        return
    lines = PlainLines(label, out, interval_s=interval_s, clock=clock)
    try:
        yield lines
    finally:
        lines.close()


class PlainLines:
    """A sink printing one line per ``interval_s`` seconds at most, and the last tick on close."""

    def __init__(
        self, label: str, stream: TextIO, *, interval_s: float, clock: Callable[[], float]
    ) -> None:
        self._label, self._stream, self._interval_s, self._clock = label, stream, interval_s, clock
        self._started = self._printed = clock()
        self._first: tuple[float, int] | None = None
        """When the first tick came and its count: the ETA's rate runs from there, so the
        time a command spends starting servers does not count as slow work."""
        self._unprinted: Tick | None = None

    def __call__(self, tick: Tick) -> None:
        now = self._clock()
        if self._first is None:
            self._first = (now, tick.done)
        if now - self._printed >= self._interval_s:
            self._print(tick, now)
        else:
            self._unprinted = tick

    def close(self) -> None:
        """Print the last tick if it has not been printed."""
        if self._unprinted is not None:
            self._print(self._unprinted, self._clock())

    def _print(self, tick: Tick, now: float) -> None:
        eta = None
        if self._first is not None and tick.total and tick.done > self._first[1]:
            rate = (tick.done - self._first[1]) / (now - self._first[0])
            eta = (tick.total - tick.done) / rate
        self._stream.write(describe(self._label, tick, now - self._started, eta) + "\n")
        self._stream.flush()
        self._printed, self._unprinted = now, None


def describe(label: str, tick: Tick, elapsed_s: float, eta_s: float | None = None) -> str:
    """One line: ``replay: 120/500 orders (24 %), 3 in flight, …, elapsed 0:00:12, ETA …``."""
    count = f"{tick.done:,}" if tick.total is None else f"{tick.done:,}/{tick.total:,}"
    parts = [f"{label}: {count} {tick.unit}".rstrip()]
    if tick.total:
        parts[0] += f" ({100 * tick.done / tick.total:.0f} %)"
    parts += _details(tick)
    parts.append(f"elapsed {_duration(elapsed_s)}")
    if eta_s is not None:
        parts.append(f"ETA {_duration(eta_s)}")
    return ", ".join(parts)


def _details(tick: Tick) -> list[str]:
    details = [] if tick.in_flight is None else [f"{tick.in_flight:,} in flight"]
    if tick.simulated is not None:
        details.append(f"simulated {tick.simulated}")
    return [*details, tick.note] if tick.note else details


def _duration(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@contextmanager
def _rich_bar(label: str, stream: TextIO) -> Iterator[ProgressSink]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    # Lines printed meanwhile go above the bar when stdout shares the terminal; stdout
    # redirected to a file keeps them (rich would send them to the bar's stream).
    together = sys.stdout.isatty()
    with Progress(*columns, console=Console(file=stream), redirect_stdout=together) as bar:
        job = bar.add_task(label, total=None, detail="")

        def sink(tick: Tick) -> None:
            detail = (
                ", ".join([tick.unit, *_details(tick)]) if tick.unit else ", ".join(_details(tick))
            )
            bar.update(job, completed=tick.done, total=tick.total, detail=detail)

        yield sink
