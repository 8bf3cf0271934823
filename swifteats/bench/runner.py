"""``run_bench``: every benchmark in turn, on servers it starts or reuses; one results dict.

Order: the in-process replays (no servers), then, on a private stack (own Kafka broker,
Redis and PostgreSQL reused or started), the assignment step and the end-to-end load
steps, then the live lockstep replay on a second private stack (a fresh broker, so no
topic or consumer group of the load steps is left in its way). Given ``settings``, every
phase runs on those servers instead (the caller owns them; the tests' fixtures do).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kafka
import redis.utils

from swifteats.bench.assign_step import AssignStepOptions, run_assign_step
from swifteats.bench.e2e import E2eOptions, run_e2e
from swifteats.bench.overload import OverloadOptions
from swifteats.bench.replay_speed import ReplaySpeedOptions, run_in_process, run_live_lockstep
from swifteats.bench.report import finish, write_json
from swifteats.bench.services import bench_redis, private_stack
from swifteats.progress import ProgressSink, Tick
from swifteats.settings import Settings, load_settings

Echo = Callable[[str], None]
SECTIONS = ("replay", "assign_step", "e2e", "lockstep")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to run; :meth:`preset` gives the full and the ``--quick`` benchmark."""

    sections: tuple[str, ...] = SECTIONS
    e2e: E2eOptions = field(default_factory=E2eOptions)
    assign: AssignStepOptions = field(default_factory=AssignStepOptions)
    replay: ReplaySpeedOptions = field(default_factory=ReplaySpeedOptions)
    json_path: Path | None = None
    quick: bool = False

    @classmethod
    def preset(
        cls, *, quick: bool = False, json_path: Path | None = None, plot: Path | None = None
    ) -> BenchOptions:
        """The full benchmark, or the quick one: load steps up to 200/s, 20 s overload
        steps, fewer samples and repeats, no live lockstep replay. ``plot``: where the
        goodput curve goes (None: no curve)."""
        full = cls(json_path=json_path, e2e=E2eOptions(plot=plot))
        if not quick:
            return full
        return replace(
            full,
            quick=True,
            e2e=replace(
                full.e2e,
                rates=(50.0, 100.0, 200.0),
                overload=OverloadOptions(step_s=20.0),
            ),
            assign=replace(full.assign, samples=500),
            replay=replace(full.replay, repeats=2, lockstep=None),
        )


def run_bench(
    options: BenchOptions,
    *,
    settings: Settings | None = None,
    echo: Echo = print,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """Run the chosen benchmarks, telling ``progress`` each phase as it starts; return the
    results (see ``swifteats.bench.report``)."""
    started, load_before = time.monotonic(), os.getloadavg()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": _describe(options),
        "replay": {},
    }
    phases = _Phases(_planned(options), progress)
    if "replay" in options.sections:
        phases.start("replay, in process")
        echo("replay, in process …")
        results["replay"].update(run_in_process(options.replay, echo=echo))
    if {"assign_step", "e2e"} & set(options.sections):
        with _servers(settings) as live:
            if "assign_step" in options.sections:
                phases.start("assignment step")
                echo("assignment step against Redis …")
                client = bench_redis(live)
                try:
                    results["assign_step"] = run_assign_step(client, options.assign)
                finally:
                    client.close()
            if "e2e" in options.sections:
                phases.start("end to end")
                echo("end to end, live services …")
                results["e2e"] = run_e2e(live, options.e2e, echo=echo)
                results["overload"] = results["e2e"].pop("overload", None)
    if "lockstep" in options.sections and options.replay.lockstep:
        phases.start("live lockstep replay")
        echo(f"replay {options.replay.lockstep}, live lockstep (minutes) …")
        with _servers(settings) as live:
            results["replay"].update(run_live_lockstep(live, options.replay.lockstep, echo=echo))
    phases.start("done")
    results["machine"] = _machine(load_before)
    results["wall_s"] = round(time.monotonic() - started, 1)
    finished = finish(results)
    if options.json_path is not None:
        write_json(finished, options.json_path)
    return finished


def _planned(options: BenchOptions) -> int:
    """How many phases ``options`` run."""
    lockstep = "lockstep" in options.sections and options.replay.lockstep is not None
    return sum(s in options.sections for s in SECTIONS[:3]) + lockstep


class _Phases:
    """Tells a progress sink which phase runs, and how many are done."""

    def __init__(self, total: int, sink: ProgressSink | None) -> None:
        self._total, self._sink, self._done = total, sink, -1

    def start(self, name: str) -> None:
        self._done += 1
        if self._sink is not None:
            self._sink(Tick(self._done, self._total, "phases", note=name))


@contextmanager
def _servers(settings: Settings | None) -> Iterator[Settings]:
    """The caller's servers as they are, or a private stack for this phase."""
    if settings is not None:
        yield settings
        return
    with private_stack(load_settings()) as own:
        yield own


def _machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "load_average_1m_start": round(load_before[0], 2),
        "load_average_1m_end": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "kafka_python": kafka.__version__,
        "hiredis": redis.utils.HIREDIS_AVAILABLE,
    }


def _describe(options: BenchOptions) -> dict[str, Any]:
    return {
        "quick": options.quick,
        "sections": list(options.sections),
        "rates": list(options.e2e.rates),
        "step_s": options.e2e.step_s,
        "generator": options.e2e.generator,
        "overload": None if options.e2e.overload is None else list(options.e2e.overload.factors),
        "overload_step_s": None if options.e2e.overload is None else options.e2e.overload.step_s,
        "e2e_drivers": options.e2e.drivers,
        "assign_sizes": list(options.assign.sizes),
        "assign_samples": options.assign.samples,
        "replay_inputs": list(options.replay.in_process),
        "lockstep": options.replay.lockstep,
    }
