"""``swifteats stack up|down|status|env`` (command docstrings are help text: no RST)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from swifteats.settings import load_settings
from swifteats.stack.errors import StackError
from swifteats.stack.records import env_lines
from swifteats.stack.stack import stack_down, stack_status, stack_up

stack_app = typer.Typer(
    help="The local Kafka broker, Redis and PostgreSQL: reuse what runs, start what is missing.",
    no_args_is_help=True,
)

T = TypeVar("T")


def _or_exit(action: Callable[[], T]) -> T:
    """Run ``action``; a StackError becomes its message on stderr and exit status 1."""
    try:
        return action()
    except StackError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@stack_app.command()
def up() -> None:
    """Reuse the servers that answer, start the missing ones on loopback."""
    settings = load_settings()
    state = _or_exit(lambda: stack_up(settings))
    for component in state.components():
        how = f"started (pid {component.pid})" if component.started else "already running, reused"
        typer.echo(f"{component.name:9} {component.address:40} {how}")
    for component in state.retained:
        typer.echo(
            f"{component.name:9} {component.address:40} started earlier (pid {component.pid}),"
            " no longer configured: kept running until `swifteats stack down`"
        )
    typer.echo(
        'Services find these addresses themselves; for a shell: eval "$(swifteats stack env)"'
    )


@stack_app.command()
def down() -> None:
    """Stop what `stack up` started; servers it reused keep running."""
    settings = load_settings()
    _or_exit(lambda: stack_down(settings))
    typer.echo("stopped what the stack started; reused servers left running")


@stack_app.command()
def status() -> None:
    """Address, reachability and owner of each component."""
    settings = load_settings()
    for item in _or_exit(lambda: stack_status(settings)):
        owner = f"started by the stack (pid {item.pid})" if item.started_by_stack else "external"
        reachable = "reachable" if item.reachable else "UNREACHABLE"
        typer.echo(f"{item.name:9} {item.address:40} {reachable:11} {owner}")


@stack_app.command()
def env() -> None:
    """`export` lines of the resolved addresses, for: eval "$(swifteats stack env)"."""
    for line in env_lines(load_settings()):
        typer.echo(line)
