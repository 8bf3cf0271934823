"""``swifteats stack up|down|status|env``."""

from __future__ import annotations

import typer

from swifteats.settings import load_settings
from swifteats.stack.servers import ServerUnavailableError
from swifteats.stack.stack import StackError, env_lines, stack_down, stack_status, stack_up

stack_app = typer.Typer(
    help="The local Kafka broker, Redis and PostgreSQL: reuse what runs, start what is missing.",
    no_args_is_help=True,
)


@stack_app.command()
def up() -> None:
    """Reuse the servers that answer, start the missing ones on loopback."""
    settings = load_settings()
    try:
        state = stack_up(settings)
    except (StackError, ServerUnavailableError) as error:
        typer.echo(f"stack up failed: {error}", err=True)
        raise typer.Exit(1) from None
    for component in state.components():
        how = "started by the stack" if component.started else "already running, reused"
        typer.echo(f"{component.name:9} {component.address:40} {how}")
    typer.echo(
        'Services find these addresses by themselves; for a shell: eval "$(swifteats stack env)"'
    )


@stack_app.command()
def down() -> None:
    """Stop what ``stack up`` started; servers it reused keep running."""
    stack_down(load_settings())
    typer.echo("stack stopped (reused servers left running)")


@stack_app.command()
def status() -> None:
    """Address, reachability and owner of each component."""
    for item in stack_status(load_settings()):
        owner = f"started by the stack (pid {item.pid})" if item.started_by_stack else "external"
        state = "up" if item.reachable else "DOWN"
        typer.echo(f"{item.name:9} {item.address:40} {state:5} {owner}")


@stack_app.command()
def env() -> None:
    """``export`` lines of the resolved addresses: ``eval "$(swifteats stack env)"``."""
    for line in env_lines(load_settings()):
        typer.echo(line)
