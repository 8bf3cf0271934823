"""The ``swifteats`` command: one module per command group, assembled here.

``services`` (both services, check-flow, demo), ``drivers``, ``replay`` (and
generate-sample), ``research`` (report, sweep, dashboard), ``tune``, ``bench`` (bench
policies);
``swifteats.stack.cli``, ``swifteats.dlq.cli`` and ``swifteats.bench.cli`` hold the
stack, DLQ and benchmark groups. ``options`` holds what they share, ``errors`` turns the
errors a user can fix into messages, ``progress`` shows long work.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from swifteats import __version__
from swifteats.bench.cli import bench_app
from swifteats.cli import bench, research, services, tune
from swifteats.cli import replay as replay_commands
from swifteats.cli.drivers import drivers_app
from swifteats.cli.errors import CliGroup
from swifteats.dlq.cli import dlq_app
from swifteats.stack.cli import stack_app

app = typer.Typer(
    cls=CliGroup,
    pretty_exceptions_enable=False,
    help="swifteats: order-to-driver assignment — services, replay, research.",
    no_args_is_help=True,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"swifteats {version()}")
        raise typer.Exit()


def version() -> str:
    """The installed distribution's version, else the package's own."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("swifteats")
    except PackageNotFoundError:
        return __version__


@app.callback()
def main(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="SWIFTEATS_DEBUG", help="show the traceback of any error"),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """swifteats: order-to-driver assignment — services, replay, research."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: a live replay stops the services it started and drops
    its database instead of leaving them behind (the services install their own)."""
    raise SystemExit(128 + signum)


app.command("order-service")(services.order_service)
app.command("assignment-service")(services.assignment_service)
app.command("check-flow")(services.check_flow)
app.command("demo")(services.demo)
app.command("replay")(replay_commands.replay)
app.command("report")(research.report)
app.command("sweep")(research.sweep)
app.command("dashboard")(research.dashboard)
app.command("tune")(tune.tune)
app.command("generate-sample")(replay_commands.generate_sample)
bench_app.command("policies")(bench.bench_policies)
app.add_typer(drivers_app, name="drivers")
app.add_typer(stack_app, name="stack")
app.add_typer(dlq_app, name="dlq")
app.add_typer(bench_app, name="bench")

__all__ = ["app"]
