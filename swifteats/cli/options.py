"""What several ``swifteats`` commands share: option types, fixed choices, the HTTP client."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from swifteats.client import SwiftEatsClient
from swifteats.domain.policies.registry import POLICY_NAMES, REGISTRY
from swifteats.settings import Settings

PolicyName = StrEnum("PolicyName", {name: name for name in POLICY_NAMES})  # type: ignore[misc]
"""``--policy``'s choices, the registry's names (mypy cannot read an Enum built from them)."""


class Backend(StrEnum):
    """``replay --backend``: ``replay.runner.BACKENDS`` (a test keeps them equal; importing
    the replay here would slow every command's start)."""

    live = "live"
    inprocess = "inprocess"


class Clock(StrEnum):
    """``replay --clock``: ``replay.runner.CLOCKS``."""

    lockstep = "lockstep"
    paced = "paced"


class TableFormat(StrEnum):
    """``report --format``: ``swifteats.analysis.report.FORMATS``."""

    csv = "csv"
    md = "md"


POLICIES_HELP = "; ".join(f"{spec.name}: {spec.description}" for spec in REGISTRY.values())
"""Every policy with its one-line description, for ``--policy``'s help."""

SCENARIO_HELP = (
    "a what-if on the input: 'drivers=0.9,prep=1.25,travel=0.75,demand=1.2,notice=10,seed=0'"
    " (courier hours, preparation, travel times, orders × factor; orders known NOTICE"
    " minutes early, inf: clairvoyant)"
)
Scenario = Annotated[str | None, typer.Option(help=SCENARIO_HELP, show_default="none")]
"""``--scenario`` of ``replay``, ``sweep`` and ``tune``."""

MaxAttempts = Annotated[
    int | None,
    typer.Option(
        help="assignment attempts per order of a one-at-a-time policy; 0: until served or"
        " the day ends",
        show_default="0 on MDRP inputs, the design's 5 otherwise",
    ),
]
"""``--max-attempts`` of ``replay`` and ``bench policies``."""

COORDINATES = {"ignore_unknown_options": True}
"""Context settings of a command taking a latitude and a longitude: ``-74.006`` is read as
a negative number (Click passes an unknown "option" such as ``-7`` on as an argument,
which is then parsed as a float; a mistyped option still fails, as an extra argument)."""

OrdersUrl = Annotated[
    str | None,
    typer.Option(help="Order Service URL (PORT: 3000)", show_default="http://127.0.0.1:$PORT"),
]
AssignmentUrl = Annotated[
    str | None,
    typer.Option(
        help="Driver Assignment Service URL (DRIVER_ASSIGNMENT_SERVICE_PORT: 3004)",
        show_default="http://127.0.0.1:$DRIVER_ASSIGNMENT_SERVICE_PORT",
    ),
]


def service_client(
    settings: Settings, orders_url: str | None, assignment_url: str | None
) -> SwiftEatsClient:
    """A client of both services, at the given URLs or the configured ports."""
    return SwiftEatsClient(
        orders_url or f"http://127.0.0.1:{settings.port}",
        assignment_url or f"http://127.0.0.1:{settings.driver_assignment_service_port}",
        api_key=settings.client_api_key,
    )


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout."""
    typer.echo(json.dumps(value, indent=2))
