"""Errors as messages: what went wrong and the command that fixes it, no traceback.

:class:`CliGroup` is the root command's class. An exception a user can fix (a server that
is missing or cannot start, a port in use, a bad input file or option, a service answering
with an error) is printed as one or two lines on stderr and ends the command with its
exit status; ``swifteats --debug`` lets it through with its traceback. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from swifteats.launcher import ServiceStartError


class CliError(Exception):
    """A message for the user, the command that fixes it, and the exit status."""

    def __init__(self, message: str, fix: str | None = None, *, code: int = 1) -> None:
        super().__init__(message)
        self.message, self.fix, self.code = message, fix, code

    def __str__(self) -> str:
        return f"error: {self.message}" + (f"\n  fix: {self.fix}" if self.fix else "")


class CliGroup(TyperGroup):
    """The root group: turns the errors :func:`explain` knows into messages."""

    def invoke(self, ctx: Any) -> Any:  # Click's Context (typer vendors Click)
        try:
            return super().invoke(ctx)
        except Exception as error:  # usage errors and typer.Exit are no CliError: re-raised
            known = explain(error)
            if known is None or ctx.params.get("debug"):
                raise
            typer.echo(str(known), err=True)
            for note in getattr(error, "__notes__", ()):
                typer.echo(f"  {note}", err=True)
            raise typer.Exit(known.code) from None


SERVICES_FIX = (
    "start them: swifteats demo (both, briefly), or swifteats order-service and"
    " swifteats assignment-service after swifteats stack up; or pass --orders-url/--assignment-url"
)


def explain(error: Exception) -> CliError | None:
    """The message for an error the user can fix; None for a bug."""
    from replay.live import BrokerBusyError
    from swifteats.client import ServiceError
    from swifteats.dashboard_launcher import DashboardUnavailable
    from swifteats.launcher import ServiceStartError
    from swifteats.stack.errors import INSTALL_HINT, StackError

    if isinstance(error, CliError):
        return error
    if isinstance(error, BrokerBusyError):
        return CliError(str(error), "wait until it ends, or point KAFKA_HOST at another broker")
    if isinstance(error, StackError):
        fix = None if INSTALL_HINT in str(error) else "swifteats stack status shows each server"
        return CliError(str(error), fix)
    if isinstance(error, ServiceStartError):
        return _service_start(error)
    if isinstance(error, DashboardUnavailable | ServiceError):
        return CliError(str(error))
    if isinstance(error, OSError):
        return _os_error(error)
    return _unreachable(error)


def _service_start(error: ServiceStartError) -> CliError:
    if "address already in use" in error.tail.lower():
        return CliError(
            f"{error.summary}: its port is in use",
            "stop what listens there, or choose other ports (PORT=3100"
            " DRIVER_ASSIGNMENT_SERVICE_PORT=3104)",
        )
    return CliError(f"{error.summary}; its log: {error.log}", "read the end of that log")


def _os_error(error: OSError) -> CliError | None:
    if isinstance(error, FileNotFoundError):
        return CliError(f"no such file or folder: {error.filename}", code=2)
    if error.errno == errno.EADDRINUSE:
        return CliError(f"port in use: {error}", "stop what listens there or choose another port")
    return None


def _unreachable(error: Exception) -> CliError | None:
    """A server that does not answer: a service over HTTP, PostgreSQL, Redis or Kafka."""
    import httpx

    if isinstance(error, httpx.TransportError):
        try:
            where = str(error.request.url.copy_with(query=None))
        except RuntimeError:
            where = "a service"
        return CliError(f"cannot reach {where}: {error}", SERVICES_FIX)
    for server, module, names in _SERVERS:
        if _is_instance(error, module, names):
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
            return CliError(f"cannot reach {server}: {first}", "swifteats stack up")
    return None


_SERVERS = (
    ("PostgreSQL", "psycopg", ("OperationalError",)),
    ("Redis", "redis.exceptions", ("ConnectionError", "TimeoutError")),
    ("Kafka", "kafka.errors", ("KafkaConnectionError",)),
)


def _is_instance(error: Exception, module: str, names: tuple[str, ...]) -> bool:
    import importlib

    try:
        found = importlib.import_module(module)
    except ImportError:
        return False
    return any(isinstance(error, getattr(found, name, ())) for name in names)
