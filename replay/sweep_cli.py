"""``swifteats sweep``: the command's logic (the typer wrapper in ``swifteats.cli`` is thin).

It opens or resumes a sweep directory, runs the sweep (telling a progress sink) and prints
what it found: which inputs are deterministic, the best cells and the Pareto front per input.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from replay.sweep import SweepOutcome, open_sweep, run_sweep
from replay.sweep_results import KPIS
from replay.sweep_spec import (
    WEIGHT_FIELDS,
    InputSpec,
    SweepSpec,
    SweepSpecError,
    load_spec_file,
    spec_from_options,
)
from swifteats.analysis.pareto import pareto_front
from swifteats.progress import ProgressSink, counted

RANKING = ("undelivered_share", "click_to_door_all_mean")
"""How the best cells are ordered: fewest undelivered orders, then click-to-door over all."""
_SHOWN = (
    "undelivered_share",
    "click_to_door_mean",
    "click_to_door_mean_ci95",
    "click_to_door_all_mean",
    "click_to_door_p90",
    "pickup_km_mean",
    "pickup_minutes_mean",
    "utilisation",
    "mdrp_feasible",
    "alike",
)
OUTCOME_KPIS = [k for k in KPIS if k != "wall_seconds"]
"""The figures a run's decisions make (two cells alike in these decided alike)."""


@dataclass(frozen=True, slots=True)
class SweepOptions:
    """The command line of ``swifteats sweep``."""

    out: Path | None = None
    resume: Path | None = None
    spec_file: Path | None = None
    inputs: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    grid: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    random: int | None = None
    seed: int = 7
    seeds: int = 3
    radius_km: float | None = None
    scenario: str | None = None
    workers: int | None = None
    pareto: str = "click_to_door_mean,pickup_km_mean"
    top: int = 5

    @property
    def spec_options(self) -> bool:
        """Whether an input, policy, grid, range or random option was given."""
        lists = (self.inputs, self.policies, self.grid, self.ranges)
        return any(lists) or self.random is not None or self.scenario is not None


def sweep_command(
    options: SweepOptions,
    echo: Callable[[str], None] = print,
    *,
    progress: ProgressSink | None = None,
) -> SweepOutcome:
    """Run (or continue) the sweep the options describe, telling ``progress`` the runs
    done; print the report.

    Raises:
        SweepSpecError: the options do not make a sweep (a message for the user).
    """
    pareto_axes = parse_pareto(options.pareto)
    sweep_dir, spec = _sweep_of(options)
    spec = open_sweep(sweep_dir, spec)
    workers = options.workers or os.cpu_count() or 1
    outcome = run_sweep(spec, sweep_dir, workers=workers, progress=counted(progress, "runs"))
    echo(report(outcome, spec, sweep_dir, pareto_axes=pareto_axes, top=options.top))
    return outcome


def parse_pareto(text: str) -> tuple[str, str]:
    """``--pareto 'x,y'``: two KPI names, both minimised."""
    axes = [a.strip() for a in text.split(",")]
    if len(axes) != 2 or not all(a in KPIS for a in axes):
        raise SweepSpecError(f"--pareto {text!r}: expected two of {', '.join(KPIS)}")
    return axes[0], axes[1]


def _sweep_of(options: SweepOptions) -> tuple[Path, SweepSpec | None]:
    """The sweep directory and the spec (``None``: the one recorded there)."""
    if options.resume is not None:
        given = options.spec_options or options.spec_file is not None
        if given or options.out not in (None, options.resume):
            raise SweepSpecError(
                "--resume DIR continues the sweep recorded in DIR/sweep.json;"
                " give no --out, --spec, --input, --policy, --grid, --range or --random"
            )
        return options.resume, None
    default = Path("sweeps") / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return options.out or default, _spec_of(options)


def _spec_of(options: SweepOptions) -> SweepSpec:
    if options.spec_file is None:
        return spec_from_options(
            inputs=list(options.inputs),
            policies=list(options.policies),
            grid=list(options.grid),
            ranges=list(options.ranges),
            random=options.random,
            seed=options.seed,
            seeds=options.seeds,
            radius_km=options.radius_km,
            scenario=options.scenario,
        )
    if options.spec_options:
        raise SweepSpecError("--spec FILE holds the whole spec; give no other spec options")
    return load_spec_file(options.spec_file)


def report(
    outcome: SweepOutcome,
    spec: SweepSpec,
    sweep_dir: Path,
    *,
    pareto_axes: tuple[str, str],
    top: int,
) -> str:
    """The sweep as text: counts, seeds per input, best cells and Pareto fronts."""
    runs = outcome.ran + outcome.skipped + len(outcome.failures)
    lines = [
        f"sweep directory: {sweep_dir}",
        f"{runs} runs: {outcome.ran} run, {outcome.skipped} already finished (skipped),"
        f" {len(outcome.failures)} failed; {outcome.wall_seconds:.1f} s",
        *(_seeds_note(spec, s) for s in spec.inputs),
        f"tables: {sweep_dir / 'results.parquet'} (per run), {sweep_dir / 'summary.parquet'}"
        " (per cell, mean and 95 % CI over seeds)",
    ]
    lines += [f"failed: {run}: {error}" for run, error in outcome.failures.items()]
    if outcome.summary.height:
        for source in spec.inputs:
            lines += _input_report(outcome.summary, spec, source.name, pareto_axes, top)
    return "\n".join(lines)


def _seeds_note(spec: SweepSpec, source: InputSpec) -> str:
    seeds = spec.seeds_for(source)
    if source.deterministic:
        return f"{source.name}: deterministic input: one seed per cell (s{seeds[0]}), no interval"
    return f"{source.name}: random input: {len(seeds)} seeds per cell (s{seeds[0]}-s{seeds[-1]})"


def _input_report(
    summary: pl.DataFrame, spec: SweepSpec, name: str, axes: tuple[str, str], top: int
) -> list[str]:
    cells = summary.filter(pl.col("input") == name)
    best = cells.sort(*RANKING, nulls_last=True).head(top)
    front = (
        pareto_front(cells, *axes)
        .group_by(*axes, maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("alike"))
    )
    lines = [
        f"\nbest cells on {name} (fewest undelivered, then click-to-door over all orders):",
        _table(best, spec),
        f"\nPareto front on {name}: {axes[0]} vs {axes[1]}, both minimised"
        " (alike: cells at the same point):",
        _table(front, spec),
    ]
    if cells.height > 1 and cells.select(OUTCOME_KPIS).unique().height == 1:
        lines.insert(
            0,
            f"\nall {cells.height} cells on {name} gave the same figures:"
            " the weights swept did not change a decision",
        )
    return lines


def _table(cells: pl.DataFrame, spec: SweepSpec) -> str:
    """The cells' varied weights and headline KPIs as a Markdown table."""
    varied = [*spec.grid, *spec.ranges]
    policy = ["policy"] if len(spec.policies) > 1 else []
    params = ["params"] if any(name not in WEIGHT_FIELDS for name in varied) else []
    wanted = ["cell_id", *policy, *varied, *params, *_SHOWN]
    shown = cells.select(
        c for c in wanted if c in cells.columns and cells[c].null_count() < cells.height
    )
    with pl.Config(
        tbl_formatting="ASCII_MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=250,
        float_precision=3,
    ):
        return str(shown)
