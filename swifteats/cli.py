"""The ``swifteats`` command: the stack, both services, drivers, check-flow and the demo."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from swifteats.bench.cli import bench_app
from swifteats.check_flow import FlowResult
from swifteats.client import SwiftEatsClient
from swifteats.dlq.cli import dlq_app
from swifteats.domain.policies.registry import DEFAULT_POLICY, POLICY_NAMES, REGISTRY
from swifteats.settings import Settings, load_settings
from swifteats.stack.cli import stack_app

app = typer.Typer(
    pretty_exceptions_enable=False,
    help="swifteats: order-to-driver assignment — services, replay, research.",
    no_args_is_help=True,
)
drivers_app = typer.Typer(
    help="Register, move and inspect drivers (through the assignment service).",
    no_args_is_help=True,
)
app.add_typer(drivers_app, name="drivers")
app.add_typer(stack_app, name="stack")

OrdersUrl = Annotated[str | None, typer.Option(help="Order Service URL [default: from PORT]")]
AssignmentUrl = Annotated[
    str | None,
    typer.Option(help="Assignment Service URL [default: from DRIVER_ASSIGNMENT_SERVICE_PORT]"),
]

PolicyName = StrEnum("PolicyName", {name: name for name in POLICY_NAMES})  # type: ignore[misc]
"""``--policy``'s choices, the registry's names (mypy cannot read an Enum built from them)."""
POLICIES_HELP = "; ".join(f"{spec.name}: {spec.description}" for spec in REGISTRY.values())
"""Every policy with its one-line description, for ``--policy``'s help."""


def _client(
    settings: Settings, orders_url: str | None, assignment_url: str | None
) -> SwiftEatsClient:
    return SwiftEatsClient(
        orders_url or f"http://127.0.0.1:{settings.port}",
        assignment_url or f"http://127.0.0.1:{settings.driver_assignment_service_port}",
        api_key=settings.client_api_key,
    )


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2))


@app.command("order-service")
def order_service() -> None:
    """Run the Order Service on PORT (3000)."""
    from swifteats.observability import configure_logging
    from swifteats.services.orders.app import build_order_service
    from swifteats.services.runner import serve

    settings = load_settings()
    configure_logging(settings.log_level)
    serve(build_order_service(settings), host=settings.host, port=settings.port)


@app.command("assignment-service")
def assignment_service() -> None:
    """Run the Driver Assignment Service on DRIVER_ASSIGNMENT_SERVICE_PORT (3004)."""
    from swifteats.observability import configure_logging
    from swifteats.services.assignment.app import build_assignment_service
    from swifteats.services.runner import serve

    settings = load_settings()
    configure_logging(settings.log_level)
    service = build_assignment_service(settings)
    serve(service, host=settings.host, port=settings.driver_assignment_service_port)


@app.command("check-flow")
def check_flow(orders_url: OrdersUrl = None, assignment_url: AssignmentUrl = None) -> None:
    """Register drivers, place an order and print its assignment (both services must run)."""
    from swifteats.check_flow import run_check_flow

    client = _client(load_settings(), orders_url, assignment_url)
    try:
        _report_flow(run_check_flow(client))
    finally:
        client.close()


def _report_flow(result: FlowResult) -> None:
    _print(result.order)
    status = result.order["status"]
    typer.echo(f"{status} in {result.placed_to_assigned_ms:.0f} ms (placed → {status})")
    if status != "assigned_driver":
        raise typer.Exit(1)


@app.command()
def demo() -> None:
    """Main job: start what the stack lacks, run both services and check-flow, stop them."""
    from swifteats.demo import run_demo
    from swifteats.stack import stack_up

    stack_up(load_settings())
    _report_flow(run_demo(load_settings()))


@app.command()
def replay(
    input_path: Annotated[
        Path | None,
        typer.Argument(
            help="Order log (CSV/Parquet) or MDRP instance folder; default: the bundled sample"
        ),
    ] = None,
    drivers: Annotated[Path | None, typer.Option(help="Driver schedule for an order log")] = None,
    backend: Annotated[str, typer.Option(help="live (the services) or inprocess")] = "live",
    clock: Annotated[
        str, typer.Option(help="lockstep (answer before moving on) or paced (--speed)")
    ] = "lockstep",
    speed: Annotated[float, typer.Option(help="paced: simulated minutes per wall minute")] = 60.0,
    policy: Annotated[
        PolicyName, typer.Option(help=f"the assignment policy. {POLICIES_HELP}")
    ] = PolicyName[DEFAULT_POLICY],
    weights: Annotated[str | None, typer.Option(help="ScoringWeights as JSON or a file")] = None,
    radius: Annotated[
        float | None, typer.Option(help="search radius, km (default: MDRP: the whole map; else 5)")
    ] = None,
    location_interval: Annotated[
        float, typer.Option(help="minutes between position reports of a moving driver")
    ] = 2.0,
    out: Annotated[Path | None, typer.Option(help="run directory [default: runs/<run_id>]")] = None,
) -> None:
    """Replay an order log on a simulated clock with a moving fleet; write a run directory."""
    from replay.runner import (
        RunRequest,
        describe,
        load_input,
        new_run_id,
        parse_weights,
        run_replay,
    )

    try:
        request = RunRequest(
            backend=backend,
            clock=clock,
            speed=speed,
            policy=str(policy),
            weights=parse_weights(weights),
            radius_km=radius,
            location_interval_min=location_interval,
        )
        loaded = load_input(input_path, drivers)
    except (ValueError, FileNotFoundError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    run_dir = out or Path("runs") / new_run_id(loaded.data.name, request)
    summary = run_replay(loaded, request, run_dir)
    typer.echo(f"run directory: {run_dir}")
    typer.echo(describe(summary))


@app.command("report")
def report_command(
    runs: Annotated[
        list[Path], typer.Argument(help="run directories, or folders holding them (e.g. runs/)")
    ],
    out: Annotated[Path | None, typer.Option(help="folder to write the tables into")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or md, for the files in --out")] = "csv",
) -> None:
    """Runs side by side: KPIs, latency by stage, failures; for two runs of one input, a diff."""
    from swifteats.analysis import resolve_runs
    from swifteats.analysis.report import report

    try:
        report(resolve_runs(runs), out=out, fmt=fmt)
    except (ValueError, FileNotFoundError) as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


@app.command()
def sweep(
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            help="sample, generated[:orders=N,drivers=M], an MDRP instance folder or"
            " ORDERS,DRIVERS; repeat (default: sample)",
        ),
    ] = None,
    policies: Annotated[
        list[PolicyName] | None,
        typer.Option(
            "--policy", help=f"a policy; repeat (default: {DEFAULT_POLICY}). {POLICIES_HELP}"
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(help="'field=v1,v2,...' over a ScoringWeights field; repeat"),
    ] = None,
    ranges: Annotated[
        list[str] | None,
        typer.Option("--range", help="'field=low:high' drawn uniformly by --random; repeat"),
    ] = None,
    random_cells: Annotated[
        int | None, typer.Option("--random", help="draw N random cells instead of a grid")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="seed of the draws; first seed of a generated input")
    ] = 7,
    seeds: Annotated[int, typer.Option(help="seeds per cell on a generated input")] = 3,
    radius: Annotated[
        float | None, typer.Option(help="search radius, km (default: MDRP: the whole map; else 5)")
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="a JSON or TOML spec file instead of the options above")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="sweep directory (default: sweeps/<UTC time>); the same --out continues"),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="continue the sweep recorded in DIR/sweep.json")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes (default: one per core)")
    ] = None,
    pareto: Annotated[
        str, typer.Option(help="two KPIs of the Pareto front, both minimised")
    ] = "click_to_door_mean,pickup_km_mean",
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
    )
    try:
        outcome = sweep_command(options, echo=typer.echo)
    except SweepSpecError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if outcome.failures:
        raise typer.Exit(1)


@app.command()
def dashboard(
    runs: Annotated[
        Path,
        typer.Option(envvar="SWIFTEATS_RUNS_DIR", help="folder of run directories and sweeps"),
    ] = Path("runs"),
    port: Annotated[int, typer.Option(help="port to serve on")] = 8501,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
) -> None:
    """Serve the Streamlit dashboard over the runs under RUNS (needs the dashboard extra)."""
    from swifteats.dashboard_launcher import DashboardUnavailable, run_dashboard

    try:
        code = run_dashboard(runs=runs, port=port, host=host)
    except DashboardUnavailable as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


app.add_typer(dlq_app, name="dlq")
app.add_typer(bench_app, name="bench")


@bench_app.command("policies")
def bench_policies(
    instances: Annotated[
        list[str] | None,
        typer.Option(
            "--instance", help="glob over instance names under --root; repeat (default: all)"
        ),
    ] = None,
    policies: Annotated[
        list[PolicyName] | None,
        typer.Option("--policy", help=f"a policy; repeat (default: all). {POLICIES_HELP}"),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(help="folder of MDRP instances (default: ../shared/data/mdrp)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="bench directory; the same --out continues")] = Path(
        "runs/bench"
    ),
    workers: Annotated[
        int | None, typer.Option(help="worker processes (default: one per core)")
    ] = None,
    radius: Annotated[
        float | None, typer.Option(help="search radius, km (default: each instance's whole map)")
    ] = None,
) -> None:
    """Replay every policy over MDRP instances in process; judge each by the MDRP checker."""
    import os

    from replay.policy_bench import BenchOptions, bench_command

    options = BenchOptions(
        out=out,
        root=root,
        instances=tuple(instances or ("*",)),
        policies=tuple(str(p) for p in policies) if policies else POLICY_NAMES,
        workers=workers or os.cpu_count() or 1,
        radius_km=radius,
    )
    try:
        outcome = bench_command(options, echo=typer.echo)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if outcome.failures:
        raise typer.Exit(1)


@app.command("generate-sample")
def generate_sample_command(
    out: Annotated[Path, typer.Option(help="folder for the two CSV files")] = Path("data"),
    orders: Annotated[int, typer.Option(help="orders placed over the day")] = 500,
    drivers: Annotated[int, typer.Option(help="drivers, each with one shift")] = 60,
    seed: Annotated[
        int, typer.Option(help="seed of every random draw: the same seed writes the same day")
    ] = 7,
) -> None:
    """Write the seeded sample day (orders and driver shifts) as CSV."""
    from replay.orderlog import write_drivers_csv, write_orders_csv
    from replay.sample import SampleSpec, generate_sample

    logged, shifts = generate_sample(SampleSpec(orders=orders, drivers=drivers, seed=seed))
    out.mkdir(parents=True, exist_ok=True)
    write_orders_csv(out / "sample_orders.csv", logged)
    write_drivers_csv(out / "sample_drivers.csv", shifts)
    typer.echo(f"{len(logged)} orders and {len(shifts)} drivers written to {out}")


@drivers_app.command("register")
def drivers_register(
    driver_id: str,
    latitude: float,
    longitude: float,
    status: Annotated[str, typer.Option(help="available | busy | offline")] = "available",
    assignment_url: AssignmentUrl = None,
) -> None:
    """Register (or re-register) a driver at a position."""
    _print(
        _client(load_settings(), None, assignment_url).register_driver(
            driver_id, latitude, longitude, status
        )
    )


@drivers_app.command("move")
def drivers_move(
    driver_id: str, latitude: float, longitude: float, assignment_url: AssignmentUrl = None
) -> None:
    """Update a driver's position."""
    _print(
        _client(load_settings(), None, assignment_url).move_driver(driver_id, latitude, longitude)
    )


@drivers_app.command("status")
def drivers_status(driver_id: str, status: str, assignment_url: AssignmentUrl = None) -> None:
    """Set a driver's status: available, busy or offline."""
    _print(_client(load_settings(), None, assignment_url).set_driver_status(driver_id, status))


@drivers_app.command("release")
def drivers_release(driver_id: str, order_id: str, assignment_url: AssignmentUrl = None) -> None:
    """Free a driver of ORDER_ID, only if it holds that order (audited by the service)."""
    _print(_client(load_settings(), None, assignment_url).release_driver(driver_id, order_id))


@drivers_app.command("get")
def drivers_get(driver_id: str, assignment_url: AssignmentUrl = None) -> None:
    """Show one driver."""
    _print(_client(load_settings(), None, assignment_url).get_driver(driver_id))


@drivers_app.command("list")
def drivers_list(
    latitude: float,
    longitude: float,
    radius: Annotated[float, typer.Option(help="km")] = 5.0,
    assignment_url: AssignmentUrl = None,
) -> None:
    """List the drivers within RADIUS km of a point."""
    _print(
        _client(load_settings(), None, assignment_url).nearby_drivers(latitude, longitude, radius)
    )
