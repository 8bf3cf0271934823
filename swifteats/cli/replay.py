"""``swifteats replay`` and ``swifteats generate-sample``: the main job and its input."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from swifteats.cli.errors import CliError
from swifteats.cli.options import (
    POLICIES_HELP,
    Backend,
    Clock,
    MaxAttempts,
    PolicyName,
    Scenario,
)
from swifteats.cli.progress import progress_reporter
from swifteats.domain.policies.registry import DEFAULT_POLICY

if TYPE_CHECKING:
    from replay.runner import LoadedInput, RunRequest
    from swifteats.settings import Settings
    from swifteats.stack import StackState

WEIGHTS_EXAMPLE = """--weights '{"distance_penalty_per_km": 8}' (or a file holding that JSON)"""


def replay(
    input_path: Annotated[
        Path | None,
        typer.Argument(
            help="Order log (CSV/Parquet) or MDRP instance folder",
            show_default="the bundled sample day",
        ),
    ] = None,
    drivers: Annotated[
        Path | None,
        typer.Option(help="Driver schedule for an order log", show_default="none"),
    ] = None,
    backend: Annotated[
        Backend, typer.Option(help="live (the services, Kafka between them) or inprocess")
    ] = Backend.live,
    clock: Annotated[
        Clock, typer.Option(help="lockstep (answer before moving on) or paced (--speed)")
    ] = Clock.lockstep,
    speed: Annotated[float, typer.Option(help="paced: simulated minutes per wall minute")] = 60.0,
    policy: Annotated[
        PolicyName, typer.Option(help=f"the assignment policy. {POLICIES_HELP}")
    ] = PolicyName[DEFAULT_POLICY],
    weights: Annotated[
        str | None,
        typer.Option(help="ScoringWeights as JSON or a file", show_default="the design's"),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(help="the policy's parameters as JSON or a file", show_default="none"),
    ] = None,
    max_attempts: MaxAttempts = None,
    radius: Annotated[
        float | None,
        typer.Option(help="search radius, km", show_default="an MDRP input's whole map, else 5"),
    ] = None,
    location_interval: Annotated[
        float, typer.Option(help="minutes between position reports of a moving driver")
    ] = 2.0,
    out: Annotated[
        Path | None, typer.Option(help="run directory", show_default="runs/<run_id>")
    ] = None,
    scenario: Scenario = None,
) -> None:
    """Replay an order log on a simulated clock with a moving fleet; write a run directory.

    A live replay starts the servers the stack lacks and leaves them running for the next
    one; at its end it lists them: swifteats stack down stops them.
    """
    from replay.runner import describe, new_run_id, run_replay
    from swifteats.settings import load_settings

    request = _request(
        backend, clock, speed, policy, weights, radius, location_interval, params, max_attempts
    )
    loaded = _with_scenario(_load(input_path, drivers), scenario)
    run_dir = out or Path("runs") / new_run_id(loaded.data.name, request)
    settings = load_settings() if backend == Backend.live else None
    before = _stack_state(settings)
    with progress_reporter("replay") as progress:
        summary = run_replay(loaded, request, run_dir, settings, progress=progress)
    typer.echo(f"run directory: {run_dir}")
    typer.echo(describe(summary))
    if settings is not None:
        typer.echo("\n".join(left_running(before, _stack_state(settings))), err=True)


def _request(
    backend: Backend,
    clock: Clock,
    speed: float,
    policy: PolicyName,
    weights: str | None,
    radius: float | None,
    location_interval: float,
    params: str | None,
    max_attempts: int | None,
) -> RunRequest:
    from replay.runner import RunRequest, parse_policy_params, parse_weights

    try:
        parsed = parse_weights(weights)
    except (ValueError, TypeError, OSError) as error:
        raise CliError(f"--weights {weights}: {error}", f"e.g. {WEIGHTS_EXAMPLE}", code=2) from None
    try:
        policy_params = parse_policy_params(params)
    except (ValueError, TypeError, OSError) as error:
        raise CliError(
            f"--params {params}: {error}",
            "give a JSON object of the policy's registry parameters",
            code=2,
        ) from None
    try:
        return RunRequest(
            backend=str(backend),
            clock=str(clock),
            speed=speed,
            policy=str(policy),
            weights=parsed,
            params=policy_params,
            max_attempts=max_attempts,
            radius_km=radius,
            location_interval_min=location_interval,
        )
    except ValueError as error:
        raise CliError(str(error), "swifteats replay --help", code=2) from None


def _with_scenario(loaded: LoadedInput, scenario: str | None) -> LoadedInput:
    """``loaded`` under ``--scenario``, or a :class:`CliError` saying what is wrong with it."""
    from replay.runner import with_scenario
    from replay.scenario import parse_scenario

    if not scenario:
        return loaded
    try:
        return with_scenario(loaded, parse_scenario(scenario))
    except ValueError as error:
        raise CliError(
            f"--scenario {scenario}: {error}", "e.g. --scenario 'drivers=0.9,prep=1.25'", code=2
        ) from None


def _load(input_path: Path | None, drivers: Path | None) -> LoadedInput:
    """The input, or a :class:`CliError` saying why it cannot be read."""
    from replay.runner import load_input

    try:
        return load_input(input_path, drivers)
    except FileNotFoundError as error:
        raise CliError(
            f"no such file or folder: {error.filename or error}",
            "give an order log with --drivers, an MDRP instance folder, or nothing for the"
            " bundled sample (swifteats generate-sample rewrites it)",
            code=2,
        ) from None
    except Exception as error:  # any parse error of a file we did not write
        raise CliError(
            f"cannot read {input_path}: {error}",
            "an order log and driver schedule as swifteats generate-sample writes them"
            " (see data/sample_*.csv), or an MDRP instance folder",
            code=2,
        ) from None


def _stack_state(settings: Settings | None) -> StackState | None:
    from swifteats.stack.records import load_state

    return load_state(settings.state_dir) if settings is not None else None


def left_running(before: StackState | None, after: StackState | None) -> list[str]:
    """What a live replay leaves running: each server the stack started, whether this
    replay started it, and the command that stops them all."""
    earlier = {c.pid for c in before.recorded()} if before is not None else set()
    started = [c for c in after.recorded() if c.started] if after is not None else []
    if not started:
        return ["servers: every one was already running; swifteats started none"]
    lines = ["left running for the next replay (stop them: swifteats stack down):"]
    for component in started:
        who = "started earlier by the stack" if component.pid in earlier else "started now"
        lines.append(f"  {component.name:9} {component.address} (pid {component.pid}, {who})")
    return lines


def generate_sample(
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
