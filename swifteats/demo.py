"""``swifteats demo``: the stack, both services and check-flow in one command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from swifteats.check_flow import FlowResult, run_check_flow
from swifteats.client import SwiftEatsClient
from swifteats.launcher import ServiceProcess, stack_env
from swifteats.settings import Settings


@contextmanager
def running_services(settings: Settings) -> Iterator[SwiftEatsClient]:
    """Both services as child processes on their configured ports, stopped on exit."""
    logs, env = settings.state_dir / "logs", stack_env(settings)
    services = [
        ServiceProcess.start(
            "order-service", port=settings.port, env=env, log=logs / "order-service.log"
        ),
        ServiceProcess.start(
            "assignment-service",
            port=settings.driver_assignment_service_port,
            env=env,
            log=logs / "assignment-service.log",
        ),
    ]
    try:
        for service in services:
            service.wait_until_up(timeout_s=90)
        client = SwiftEatsClient(services[0].url, services[1].url, api_key=settings.client_api_key)
        try:
            yield client
        finally:
            client.close()
    finally:
        for service in services:
            service.stop()


def run_demo(settings: Settings) -> FlowResult:
    """Start both services against the resolved stack, run check-flow, stop them."""
    with running_services(settings) as client:
        return run_check_flow(client)
