"""``swifteats dlq list|show|reprocess``: a thin typer layer over :mod:`swifteats.dlq`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from swifteats.dlq.queue import DlqError, find, read_dead_letters, reprocess
from swifteats.dlq.render import render_list, render_outcomes, render_show, summary
from swifteats.settings import load_settings

dlq_app = typer.Typer(
    help="The dead-letter queue (driver_assignment.dlq): list, show, reprocess.",
    no_args_is_help=True,
)

T = TypeVar("T")


def _or_exit(action: Callable[[], T]) -> T:
    """Run ``action``; a DlqError becomes its message on stderr and exit status 1."""
    try:
        return action()
    except DlqError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@dlq_app.command("list")
def list_letters(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON array")] = False,
) -> None:
    """Every dead letter, oldest first: id (partition:offset), status, source, reason."""
    letters = _or_exit(lambda: read_dead_letters(load_settings()))
    if as_json:
        typer.echo(json.dumps([summary(letter) for letter in letters], indent=2))
    else:
        typer.echo(render_list(letters))


@dlq_app.command()
def show(
    letter_id: Annotated[str, typer.Argument(help="partition:offset, as `dlq list` shows")],
) -> None:
    """The envelope, the original bytes decoded, and when it was reprocessed."""
    letter = _or_exit(lambda: find(read_dead_letters(load_settings()), letter_id))
    typer.echo(render_show(letter))


@dlq_app.command("reprocess")
def reprocess_letters(
    letter_id: Annotated[str | None, typer.Argument(help="partition:offset")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="every dead letter not reprocessed yet")
    ] = False,
    force: Annotated[bool, typer.Option(help="send again what was reprocessed already")] = False,
) -> None:
    """Publish the original bytes to their source topic again and mark them reprocessed."""
    if (letter_id is None) == (not every):
        typer.echo("error: give one dead letter id or --all", err=True)
        raise typer.Exit(2)
    ids = None if every else [letter_id or ""]
    outcomes = _or_exit(lambda: reprocess(load_settings(), ids, force=force))
    typer.echo(render_outcomes(outcomes))
