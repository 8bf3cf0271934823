"""``swifteats drivers …``: register, move and inspect drivers through the assignment service.

Latitudes and longitudes are positional and may be negative (``-74.006``): the commands
taking them read ``-7…`` as a number, not an option (:data:`COORDINATES`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from swifteats.cli.options import COORDINATES, AssignmentUrl, print_json, service_client
from swifteats.client import SwiftEatsClient
from swifteats.domain.drivers import DriverStatus
from swifteats.settings import load_settings

drivers_app = typer.Typer(
    help="Register, move and inspect drivers (through the assignment service).",
    no_args_is_help=True,
)

DriverId = Annotated[str, typer.Argument(help="the driver's id")]
Latitude = Annotated[float, typer.Argument(help="degrees north (negative: south)")]
Longitude = Annotated[float, typer.Argument(help="degrees east (negative: west)")]


def _client(assignment_url: str | None) -> SwiftEatsClient:
    return service_client(load_settings(), None, assignment_url)


@drivers_app.command("register", context_settings=COORDINATES)
def drivers_register(
    driver_id: DriverId,
    latitude: Latitude,
    longitude: Longitude,
    status: Annotated[DriverStatus, typer.Option(help="the driver's status")] = (
        DriverStatus.AVAILABLE
    ),
    assignment_url: AssignmentUrl = None,
) -> None:
    """Register (or re-register) a driver at a position."""
    with _client(assignment_url) as client:
        print_json(client.register_driver(driver_id, latitude, longitude, str(status)))


@drivers_app.command("move", context_settings=COORDINATES)
def drivers_move(
    driver_id: DriverId,
    latitude: Latitude,
    longitude: Longitude,
    assignment_url: AssignmentUrl = None,
) -> None:
    """Update a driver's position."""
    with _client(assignment_url) as client:
        print_json(client.move_driver(driver_id, latitude, longitude))


@drivers_app.command("status")
def drivers_status(
    driver_id: DriverId,
    status: Annotated[DriverStatus, typer.Argument(help="the new status")],
    assignment_url: AssignmentUrl = None,
) -> None:
    """Set a driver's status: available, busy or offline."""
    with _client(assignment_url) as client:
        print_json(client.set_driver_status(driver_id, str(status)))


@drivers_app.command("release")
def drivers_release(
    driver_id: DriverId,
    order_id: Annotated[str, typer.Argument(help="the order the driver holds")],
    assignment_url: AssignmentUrl = None,
) -> None:
    """Free a driver of ORDER_ID, only if it holds that order (audited by the service)."""
    with _client(assignment_url) as client:
        print_json(client.release_driver(driver_id, order_id))


@drivers_app.command("get")
def drivers_get(driver_id: DriverId, assignment_url: AssignmentUrl = None) -> None:
    """Show one driver."""
    with _client(assignment_url) as client:
        print_json(client.get_driver(driver_id))


@drivers_app.command("list", context_settings=COORDINATES)
def drivers_list(
    latitude: Latitude,
    longitude: Longitude,
    radius: Annotated[float, typer.Option(help="search radius, km")] = 5.0,
    assignment_url: AssignmentUrl = None,
) -> None:
    """List the drivers within RADIUS km of a point."""
    with _client(assignment_url) as client:
        print_json(client.nearby_drivers(latitude, longitude, radius))
