"""``swifteats bench``: a typer sub-app; with no command it runs every benchmark (``all``).

More benchmarks join as commands of :data:`bench_app` (``swifteats bench policies``);
``swifteats bench`` alone stays the full run.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

bench_app = typer.Typer(
    help="Benchmarks on this machine: end to end, assignment step, replay speed.",
    invoke_without_command=True,
)

Quick = Annotated[
    bool,
    typer.Option("--quick", help="load steps up to 200/s, fewer samples, no live 7o100 replay"),
]
JsonFile = Annotated[
    Path | None,
    typer.Option("--json", help="write the results as JSON here", show_default="none"),
]
Plot = Annotated[
    bool,
    typer.Option("--plot", help="also run the goodput curve and write docs/bench/goodput.png"),
]


class Section(StrEnum):
    """The parts of the benchmark (``swifteats.bench.runner.SECTIONS``)."""

    replay = "replay"
    assign_step = "assign_step"
    e2e = "e2e"
    lockstep = "lockstep"


Only = Annotated[
    list[Section] | None,
    typer.Option("--only", help="run only this part; repeat", show_default="every part"),
]


@bench_app.callback()
def bench(
    ctx: typer.Context,
    quick: Quick = False,
    json_file: JsonFile = None,
    plot: Plot = False,
    only: Only = None,
) -> None:
    """With no command: every benchmark, as `swifteats bench all`."""
    if ctx.invoked_subcommand is None:
        _run_all(quick=quick, json_file=json_file, plot=plot, only=only)


@bench_app.command("all")
def all_benchmarks(
    quick: Quick = False, json_file: JsonFile = None, plot: Plot = False, only: Only = None
) -> None:
    """End to end, overload, the assignment step alone and replay speed; a table, and JSON
    on request."""
    _run_all(quick=quick, json_file=json_file, plot=plot, only=only)


def _run_all(
    *, quick: bool, json_file: Path | None, plot: bool, only: list[Section] | None = None
) -> None:
    from swifteats.bench.plot import DEFAULT_PLOT
    from swifteats.bench.report import render
    from swifteats.bench.runner import BenchOptions, run_bench
    from swifteats.cli.progress import progress_reporter

    options = BenchOptions.preset(
        quick=quick, json_path=json_file, plot=DEFAULT_PLOT if plot else None
    )
    if only:
        options = replace(options, sections=tuple(s for s in options.sections if s in only))
    with progress_reporter("bench") as progress:
        results = run_bench(options, echo=typer.echo, progress=progress)
    typer.echo(render(results))
    if plot:
        typer.echo(f"\ngoodput curve written to {DEFAULT_PLOT}")
    if json_file is not None:
        typer.echo(f"\nresults written to {json_file}")


Layouts = Annotated[
    str, typer.Option("--layouts", help="order×assignment instances, e.g. '1x1,2x3'")
]


@bench_app.command("scaling")
def scaling(
    layouts: Layouts = "1x1,1x2,1x3,2x1,2x2,2x3",
    rate: Annotated[float, typer.Option(help="orders offered per second in total")] = 400.0,
    batch: Annotated[int, typer.Option(help="orders offered per layout")] = 2_000,
    json_file: JsonFile = None,
) -> None:
    """Assigned orders per second with 1–2 Order Service and 1–3 Assignment Service
    instances, on a private broker; the ratio to the first layout."""
    import json

    from swifteats.bench.scaling import ScalingOptions, run_scaling
    from swifteats.bench.services import private_stack
    from swifteats.settings import load_settings

    pairs = tuple((int(o), int(a)) for o, a in (part.split("x") for part in layouts.split(",")))
    options = ScalingOptions(layouts=pairs, rate=rate, batch=batch)
    with private_stack(load_settings()) as own:
        results = run_scaling(own, options, echo=typer.echo)
    for run in results["runs"]:
        typer.echo(
            f"{run['order_services']}×{run['assignment_services']}: "
            f"{run['assigned_per_s']}/s, ratio {run['ratio']}"
        )
    if json_file is not None:
        json_file.write_text(json.dumps(results, indent=2))
