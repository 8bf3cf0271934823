"""The ``swifteats`` command: the stack, both services, drivers, check-flow and the demo."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from swifteats.check_flow import FlowResult
from swifteats.client import SwiftEatsClient
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


def _client(
    settings: Settings, orders_url: str | None, assignment_url: str | None
) -> SwiftEatsClient:
    return SwiftEatsClient(
        orders_url or f"http://127.0.0.1:{settings.port}",
        assignment_url or f"http://127.0.0.1:{settings.driver_assignment_service_port}",
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
