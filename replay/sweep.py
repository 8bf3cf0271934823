"""Running a sweep: every cell × input × seed replayed in process, in parallel, resumably.

The sweep directory holds ``sweep.json`` (the spec and its cells), one run directory per
task under ``cells/<cell_id>/<input>/s<seed>/``, the generated inputs under ``inputs/``,
``results.parquet`` (one row per run) and ``summary.parquet`` (one row per cell and
input, with 95 % confidence intervals over seeds). A run directory with a finished
manifest is not run again, so re-running a sweep continues it.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from replay.orderlog import write_drivers_csv, write_orders_csv
from replay.runner import LoadedInput, RunRequest, load_input, run_replay, with_scenario
from replay.sample import SampleSpec, generate_sample
from replay.scenario import Scenario
from replay.sweep_results import is_finished, run_row, summarise_cells
from replay.sweep_spec import (
    Cell,
    InputSpec,
    SweepSpec,
    SweepSpecError,
    expand_cells,
    spec_from_dict,
    spec_to_dict,
)

SPEC_FILE = "sweep.json"
Progress = Callable[[int, int], None]
"""Told ``(finished, total)`` runs as the sweep goes."""


@dataclass(frozen=True, slots=True)
class Task:
    """One replay of a sweep: a cell on an input with a seed."""

    cell: Cell
    source: InputSpec
    request: RunRequest
    seed: int
    """Which generated day, for a random input; one label for the others."""
    scenario: Scenario | None = None
    """The what-if applied to the input (``replay.scenario``)."""

    @property
    def input_seed(self) -> int | None:
        """The seed the input was generated with; None for recorded data."""
        return None if self.source.deterministic else self.seed

    def run_dir(self, sweep_dir: Path) -> Path:
        """``cells/<cell_id>/<input>/s<seed>`` under the sweep directory."""
        return sweep_dir / "cells" / self.cell.cell_id / self.source.name / f"s{self.seed}"

    def input_paths(self, sweep_dir: Path) -> tuple[Path | None, Path | None]:
        """The arguments of :func:`load_input` for this task's input."""
        if self.source.kind == "generated":
            return self.generated_paths(sweep_dir)
        padded = [*map(Path, self.source.paths), None, None]
        return padded[0], padded[1]

    def generated_paths(self, sweep_dir: Path) -> tuple[Path, Path]:
        """Where the generated day of this task's seed is written (orders, drivers)."""
        stem = sweep_dir / "inputs" / f"{self.source.name}-s{self.seed}"
        return Path(f"{stem}_orders.csv"), Path(f"{stem}_drivers.csv")


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """What a sweep did and what it found."""

    ran: int
    skipped: int
    """Runs already finished in the sweep directory, not run again."""
    failures: dict[str, str]
    """Run directory (relative to the sweep) → error, for runs that raised."""
    results: pl.DataFrame
    summary: pl.DataFrame
    wall_seconds: float


def plan_tasks(spec: SweepSpec) -> list[Task]:
    """Every run of the spec: each cell on each input with each of the input's seeds.

    Raises:
        SweepSpecError: a run the replay would refuse (an unknown policy, say).
    """
    try:
        return [
            Task(cell, source, _request(spec, cell, source), seed, spec.what_if)
            for cell in expand_cells(spec)
            for source in spec.inputs
            for seed in spec.seeds_for(source)
        ]
    except ValueError as error:
        raise SweepSpecError(str(error)) from None


def _request(spec: SweepSpec, cell: Cell, source: InputSpec) -> RunRequest:
    return RunRequest(
        backend="inprocess",
        policy=cell.policy,
        weights=cell.weights,
        params=dict(cell.params),
        radius_km=spec.radius_km,
        location_interval_min=spec.location_interval_min,
    )


def open_sweep(sweep_dir: Path, spec: SweepSpec | None) -> SweepSpec:
    """The sweep in ``sweep_dir``: ``spec`` recorded there, or (``None``) the recorded one.

    A directory that already records a different spec is refused, and so is a spec whose
    runs the replay would refuse.
    """
    if spec is not None:
        plan_tasks(spec)
    path = sweep_dir / SPEC_FILE
    recorded = json.loads(path.read_text())["spec"] if path.is_file() else None
    if spec is None:
        if recorded is None:
            raise SweepSpecError(f"no {SPEC_FILE} in {sweep_dir}: nothing to resume")
        return spec_from_dict(recorded)
    if recorded is not None and recorded != spec_to_dict(spec):
        raise SweepSpecError(
            f"{sweep_dir} holds another sweep ({SPEC_FILE}); resume it with --resume "
            f"{sweep_dir} or give another --out"
        )
    _write_spec(path, spec)
    return spec


def _write_spec(path: Path, spec: SweepSpec) -> None:
    cells = [
        {"cell_id": c.cell_id, "policy": c.policy, **asdict(c.weights), "params": dict(c.params)}
        for c in expand_cells(spec)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"spec": spec_to_dict(spec), "cells": cells}, indent=2))


def run_sweep(
    spec: SweepSpec, sweep_dir: Path, *, workers: int, progress: Progress | None = None
) -> SweepOutcome:
    """Run the spec's unfinished tasks on ``workers`` processes; write the result tables."""
    started = time.perf_counter()
    tasks = plan_tasks(spec)
    pending = [t for t in tasks if not is_finished(t.run_dir(sweep_dir))]
    _write_generated_inputs(pending, sweep_dir)
    report = progress or (lambda done, total: None)
    report(len(tasks) - len(pending), len(tasks))
    failures = _execute(pending, sweep_dir, workers, lambda done: report(done, len(tasks)))
    results = collect_results(tasks, sweep_dir)
    results.write_parquet(sweep_dir / "results.parquet")
    summary = summarise_cells(results) if results.height else pl.DataFrame()
    summary.write_parquet(sweep_dir / "summary.parquet")
    return SweepOutcome(
        ran=len(pending) - len(failures),
        skipped=len(tasks) - len(pending),
        failures={str(t.run_dir(sweep_dir).relative_to(sweep_dir)): e for t, e in failures.items()},
        results=results,
        summary=summary,
        wall_seconds=time.perf_counter() - started,
    )


def _write_generated_inputs(tasks: list[Task], sweep_dir: Path) -> None:
    """Write the generated day of each (input, seed) the tasks need, before any worker reads."""
    for task in {(t.source, t.seed): t for t in tasks if t.source.kind == "generated"}.values():
        orders_path, drivers_path = task.generated_paths(sweep_dir)
        orders, drivers = task.source.size
        logged, shifts = generate_sample(SampleSpec(orders=orders, drivers=drivers, seed=task.seed))
        orders_path.parent.mkdir(parents=True, exist_ok=True)
        write_orders_csv(orders_path, logged)
        write_drivers_csv(drivers_path, shifts)


def _execute(
    pending: list[Task], sweep_dir: Path, workers: int, progress: Callable[[int], None]
) -> dict[Task, str]:
    """Run ``pending`` in a process pool; the errors of the runs that raised."""
    failures: dict[Task, str] = {}
    if not pending:
        return failures
    done = 0
    context = multiprocessing.get_context("spawn")  # fork is unsafe with Polars' threads
    with ProcessPoolExecutor(min(workers, len(pending)), mp_context=context) as pool:
        futures = {pool.submit(run_task, t, sweep_dir): t for t in pending}
        for future in as_completed(futures):
            error = future.result()
            if error is not None:
                failures[futures[future]] = error
            done += 1
            progress(done)
    return failures


def run_task(task: Task, sweep_dir: Path) -> str | None:
    """Replay one task into its run directory (in a worker); its error, if it raised."""
    try:
        loaded = with_scenario(
            _load(*task.input_paths(sweep_dir), seed=task.input_seed), task.scenario
        )
        run_replay(loaded, task.request, task.run_dir(sweep_dir))
    except Exception as error:  # one failing run must not lose the others' results
        return f"{type(error).__name__}: {error}"
    return None


@functools.lru_cache(maxsize=4)
def _load(orders: Path | None, drivers: Path | None, *, seed: int | None) -> LoadedInput:
    """Inputs are loaded once per worker process; a generated one keeps its seed."""
    return replace(load_input(orders, drivers), seed=seed)


def collect_results(tasks: list[Task], sweep_dir: Path) -> pl.DataFrame:
    """One row per finished task: its cell, input, weights, seed and KPIs."""
    rows = [_row(t, sweep_dir) for t in tasks if is_finished(t.run_dir(sweep_dir))]
    return pl.DataFrame(rows, infer_schema_length=None)


def _row(task: Task, sweep_dir: Path) -> dict[str, Any]:
    run_dir = task.run_dir(sweep_dir)
    return {
        "cell_id": task.cell.cell_id,
        "input": task.source.name,
        "policy": task.cell.policy,
        **asdict(task.cell.weights),
        "params": task.cell.params_json,
        "seed": task.seed,
        "deterministic": task.source.deterministic,
        **run_row(run_dir),
        "run_dir": str(run_dir.relative_to(sweep_dir)),
    }
