"""``swifteats order-service|assignment-service|check-flow|demo``: the two services and the
design's end-to-end check."""

from __future__ import annotations

import typer

from swifteats.check_flow import FlowResult
from swifteats.cli.errors import CliError
from swifteats.cli.options import AssignmentUrl, OrdersUrl, print_json, service_client
from swifteats.settings import Settings, load_settings


def order_service() -> None:
    """Run the Order Service on PORT (3000)."""
    from swifteats.observability import configure_logging
    from swifteats.services.orders.app import build_order_service
    from swifteats.services.runner import serve

    settings = load_settings()
    require_free_port(settings.host, settings.port, "PORT")
    configure_logging(settings.log_level)
    serve(build_order_service(settings), host=settings.host, port=settings.port)


def assignment_service() -> None:
    """Run the Driver Assignment Service on DRIVER_ASSIGNMENT_SERVICE_PORT (3004)."""
    from swifteats.observability import configure_logging
    from swifteats.services.assignment.app import build_assignment_service
    from swifteats.services.runner import serve

    settings = load_settings()
    port = settings.driver_assignment_service_port
    require_free_port(settings.host, port, "DRIVER_ASSIGNMENT_SERVICE_PORT")
    configure_logging(settings.log_level)
    serve(build_assignment_service(settings), host=settings.host, port=port)


def require_free_port(host: str, port: int, variable: str) -> None:
    """Raise a :class:`CliError` naming ``variable`` when something listens on ``port``."""
    from swifteats.stack.network import port_open

    if port_open(host, port):
        raise CliError(
            f"port {port} ({variable}) on {host} is in use",
            f"stop what listens there, or choose another port: {variable}={port + 100} swifteats …",
        )


def check_flow(orders_url: OrdersUrl = None, assignment_url: AssignmentUrl = None) -> None:
    """Register drivers, place an order and print its assignment (both services must run)."""
    from swifteats.check_flow import run_check_flow

    with service_client(load_settings(), orders_url, assignment_url) as client:
        report_flow(run_check_flow(client))


def demo() -> None:
    """Start what the stack lacks, both services and check-flow; stop the services.

    The stack's servers keep running for the next command: swifteats stack down stops them.
    """
    from swifteats.demo import run_demo
    from swifteats.stack import stack_up

    settings = load_settings()
    _require_service_ports(settings)
    stack_up(settings)
    report_flow(run_demo(load_settings()))


def _require_service_ports(settings: Settings) -> None:
    require_free_port("127.0.0.1", settings.port, "PORT")
    port = settings.driver_assignment_service_port
    require_free_port("127.0.0.1", port, "DRIVER_ASSIGNMENT_SERVICE_PORT")


def report_flow(result: FlowResult) -> None:
    """The order as JSON and how long it took to be assigned; exit 1 when it was not."""
    print_json(result.order)
    status = result.order["status"]
    typer.echo(f"{status} in {result.placed_to_assigned_ms:.0f} ms (placed → {status})")
    if status != "assigned_driver":
        raise typer.Exit(1)
