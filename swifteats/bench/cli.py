"""``swifteats bench``: a typer sub-app; with no command it runs every benchmark (``all``).

More benchmarks join as commands of :data:`bench_app` (``swifteats bench policies``);
``swifteats bench`` alone stays the full run.
"""

from __future__ import annotations

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
JsonFile = Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")]


@bench_app.callback()
def bench(ctx: typer.Context, quick: Quick = False, json_file: JsonFile = None) -> None:
    """With no command: every benchmark, as ``swifteats bench all``."""
    if ctx.invoked_subcommand is None:
        _run_all(quick=quick, json_file=json_file)


@bench_app.command("all")
def all_benchmarks(quick: Quick = False, json_file: JsonFile = None) -> None:
    """End to end, the assignment step alone and replay speed; a table, and JSON on request."""
    _run_all(quick=quick, json_file=json_file)


def _run_all(*, quick: bool, json_file: Path | None) -> None:
    from swifteats.bench.report import render
    from swifteats.bench.runner import BenchOptions, run_bench

    results = run_bench(BenchOptions.preset(quick=quick, json_path=json_file), echo=typer.echo)
    typer.echo(render(results))
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
