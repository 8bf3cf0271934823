"""``swifteats report|sweep|dashboard``: comparing runs, searching weights, browsing results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swifteats.cli.errors import CliError
from swifteats.cli.options import POLICIES_HELP, PolicyName, Scenario, TableFormat
from swifteats.cli.progress import progress_reporter
from swifteats.domain.policies.registry import DEFAULT_POLICY


def report(
    runs: Annotated[
        list[Path], typer.Argument(help="run directories, or folders holding them (e.g. runs/)")
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="folder to write the tables into", show_default="none: print only"),
    ] = None,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="the format of the files in --out")
    ] = TableFormat.csv,
) -> None:
    """Runs side by side: KPIs, latency by stage, failures; for two runs of one input, a diff."""
    from swifteats.analysis import resolve_runs
    from swifteats.analysis.report import report

    try:
        report(resolve_runs(runs), out=out, fmt=fmt.value)
    except (ValueError, FileNotFoundError) as error:
        raise CliError(
            str(error), "swifteats replay writes run directories under runs/", code=2
        ) from None


def sweep(
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            help="sample, generated[:orders=N,drivers=M], an MDRP instance folder or"
            " ORDERS,DRIVERS; repeat",
            show_default="sample",
        ),
    ] = None,
    policies: Annotated[
        list[PolicyName] | None,
        typer.Option(
            "--policy", help=f"a policy; repeat. {POLICIES_HELP}", show_default=DEFAULT_POLICY
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="'field=v1,v2,...' over a ScoringWeights field; repeat", show_default="none"
        ),
    ] = None,
    ranges: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            help="'field=low:high' drawn uniformly by --random; repeat",
            show_default="none",
        ),
    ] = None,
    random_cells: Annotated[
        int | None,
        typer.Option("--random", help="draw N random cells instead of a grid", show_default="grid"),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="seed of the random draws, and first seed of a generated input")
    ] = 7,
    seeds: Annotated[int, typer.Option(help="seeds per cell on a generated input")] = 3,
    radius: Annotated[
        float | None,
        typer.Option(help="search radius, km", show_default="an MDRP input's whole map, else 5"),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            help="a JSON or TOML spec file instead of the options above", show_default="none"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="sweep directory; the same --out continues", show_default="sweeps/<UTC time>"
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(help="continue the sweep recorded in DIR/sweep.json", show_default="none"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes", show_default="one per core")
    ] = None,
    pareto: Annotated[
        str, typer.Option(help="two KPIs of the Pareto front, both minimised")
    ] = "click_to_door_mean,pickup_km_mean",
    scenario: Scenario = None,
) -> None:
    """Grid or random search over scoring weights and policies: in-process replays in parallel."""
    from replay.sweep_cli import SweepOptions, sweep_command
    from replay.sweep_spec import SweepSpecError

    options = SweepOptions(
        out=out,
        resume=resume,
        spec_file=spec,
        inputs=tuple(inputs or ()),
        policies=tuple(str(p) for p in policies or ()),
        grid=tuple(grid or ()),
        ranges=tuple(ranges or ()),
        random=random_cells,
        seed=seed,
        seeds=seeds,
        radius_km=radius,
        workers=workers,
        pareto=pareto,
        scenario=scenario,
    )
    try:
        with progress_reporter("sweep") as progress:
            outcome = sweep_command(options, echo=typer.echo, progress=progress)
    except SweepSpecError as error:
        raise CliError(str(error), "swifteats sweep --help", code=2) from None
    if outcome.failures:
        raise typer.Exit(1)


def dashboard(
    runs: Annotated[
        Path,
        typer.Option(envvar="SWIFTEATS_RUNS_DIR", help="folder of run directories and sweeps"),
    ] = Path("runs"),
    port: Annotated[
        int, typer.Option(envvar="SWIFTEATS_DASHBOARD_PORT", help="port to serve on")
    ] = 8501,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
) -> None:
    """Serve the Streamlit dashboard over the runs under RUNS (needs the dashboard extra)."""
    from swifteats.dashboard_launcher import run_dashboard

    raise typer.Exit(run_dashboard(runs=runs, port=port, host=host))
