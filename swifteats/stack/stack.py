"""``stack up/down/status``: reuse the servers that answer, start the rest, stop only those."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from swifteats.settings import Settings
from swifteats.stack.errors import StackError
from swifteats.stack.kafka_broker import start_tansu
from swifteats.stack.network import is_loopback, listen_host, port_open, split_host_port, url_host
from swifteats.stack.postgres_server import (
    PostgresServer,
    ensure_database,
    postgres_answers,
    start_postgres,
    stop_postgres,
)
from swifteats.stack.processes import executable_of, is_running, stop_process
from swifteats.stack.records import Component, StackState, forget, load_state, save_state
from swifteats.stack.redis_server import redis_answers, start_redis

KAFKA_DEFAULT_PORT = 9092
POSTGRES_DEFAULT_PORT = 5432


@dataclass(frozen=True)
class ComponentStatus:
    """What ``stack status`` shows of one component."""

    name: str
    address: str
    reachable: bool
    started_by_stack: bool
    """True when a process the stack started is running for this address."""
    pid: int | None


@dataclass(frozen=True)
class _Target:
    """Where one component is configured to be, and how to tell it answers."""

    name: str
    what: str
    address: str
    host: str
    port: int
    answers: Callable[[], bool]

    @property
    def where(self) -> str:
        """``host:port`` for messages."""
        return f"{url_host(self.host)}:{self.port}"


def stack_up(settings: Settings) -> StackState:
    """Reuse the servers that answer, start the missing ones on loopback, record them.

    Idempotent: a server a previous ``stack_up`` started and that still answers is
    kept. One it started at an address no longer configured keeps running and stays
    recorded (``StackState.retained``) until ``stack_down``. Writes ``stack.env`` so
    that ``load_settings()`` finds the addresses.

    Args:
        settings: Addresses of the three servers and the state directory.

    Returns:
        Each component with its address and, if the stack started it, its pid.

    Raises:
        StackError: A component can be neither reached nor started; whatever this
            call started is stopped again.
    """
    previous = load_state(settings.state_dir)
    recorded = previous.recorded() if previous else ()
    stack_dir = settings.state_dir / "stack"
    starters: dict[str, Callable[[_Target], Component]] = {
        "kafka": lambda target: _start_kafka(target, stack_dir),
        "redis": lambda target: _start_redis(target, stack_dir),
        "postgres": lambda target: _start_postgres(target, settings, stack_dir),
    }
    components: list[Component] = []
    targets = _targets(settings)
    try:
        for target in targets:
            ours = [c for c in recorded if c.name == target.name]
            components.append(_bring_up(target, ours, starters[target.name]))
        _ensure_database(settings.database_url.get_secret_value(), targets[-1])  # PostgreSQL
    except BaseException:
        for component in components:
            if component not in recorded:
                stop_component(component)
        raise
    retained = tuple(c for c in recorded if c not in components and _is_ours(c))
    kafka, redis, postgres = components
    state = StackState(kafka, redis, postgres, retained)
    save_state(settings, state)
    return state


def stack_down(settings: Settings) -> None:
    """Stop the servers ``stack_up`` started (retained ones too), then forget the record
    and ``stack.env``.

    Servers that were already running when ``stack_up`` found them are left alone.
    """
    state = load_state(settings.state_dir)
    if state is not None:
        for component in state.recorded():
            stop_component(component)
    forget(settings.state_dir)


def stack_status(settings: Settings) -> list[ComponentStatus]:
    """Each component: address, whether it answers, whether the stack started it."""
    state = load_state(settings.state_dir)
    statuses = []
    for target in _targets(settings):
        record = state.get(target.name) if state else None
        ours = record if record and record.address == target.address and _is_ours(record) else None
        statuses.append(
            ComponentStatus(
                target.name,
                target.address,
                target.answers(),
                started_by_stack=ours is not None,
                pid=ours.pid if ours else None,
            )
        )
    return statuses


def stop_component(component: Component) -> None:
    """Stop ``component`` if the stack started it and it still runs; otherwise nothing."""
    if component.pid is None or not _is_ours(component):
        return
    if component.data_dir and component.executable:
        stop_postgres(PostgresServer(component.pid, Path(component.data_dir), component.executable))
    else:
        stop_process(component.pid, component.executable)


def _targets(settings: Settings) -> list[_Target]:
    kafka_host, kafka_port = split_host_port(settings.kafka_host, KAFKA_DEFAULT_PORT)
    redis_host, redis_port = settings.redis_host, settings.redis_port
    url = settings.database_url.get_secret_value()
    parts = urlsplit(url)
    pg_host, pg_port = parts.hostname or "localhost", parts.port or POSTGRES_DEFAULT_PORT
    return [
        _Target(
            "kafka",
            "Kafka",
            settings.kafka_host,
            kafka_host,
            kafka_port,
            lambda: port_open(kafka_host, kafka_port),
        ),
        _Target(
            "redis",
            "Redis",
            f"{url_host(redis_host)}:{redis_port}",
            redis_host,
            redis_port,
            lambda: redis_answers(redis_host, redis_port),
        ),
        _Target(
            "postgres",
            "PostgreSQL",
            f"{url_host(pg_host)}:{pg_port}{parts.path}",
            pg_host,
            pg_port,
            lambda: postgres_answers(url),
        ),
    ]


def _bring_up(
    target: _Target, ours: list[Component], start: Callable[[_Target], Component]
) -> Component:
    """Reuse what answers at ``target`` (one of ``ours``, the servers the stack recorded
    for this component, if it is there), else start one there; ours at that address but
    not answering is stopped first. Ours at other addresses are left running."""
    here = [component for component in ours if component.address == target.address]
    if target.answers():
        return next((c for c in here if _is_ours(c)), Component(target.name, target.address))
    for stale in here:
        stop_component(stale)
    if target.name != "kafka" and port_open(target.host, target.port):
        raise StackError(
            f"{target.what} at {target.where} accepts connections but refuses ours; "
            "check the configured address and credentials"
        )
    if not is_loopback(target.host):
        raise StackError(
            f"cannot reach {target.what} at {target.where} and it is not a local address, "
            "so the stack will not start one"
        )
    try:
        return start(target)
    except StackError as error:
        raise StackError(
            f"cannot reach {target.what} at {target.where} and could not start one: {error}"
        ) from None


def _start_kafka(target: _Target, stack_dir: Path) -> Component:
    process = start_tansu(target.port, stack_dir / "logs", host=listen_host(target.host))
    return Component(target.name, target.address, process.pid, executable_of(process))


def _start_redis(target: _Target, stack_dir: Path) -> Component:
    host = listen_host(target.host)
    process = start_redis(host, target.port, stack_dir / "redis", stack_dir / "logs" / "redis.log")
    return Component(target.name, target.address, process.pid, executable_of(process))


def _start_postgres(target: _Target, settings: Settings, stack_dir: Path) -> Component:
    user = urlsplit(settings.database_url.get_secret_value()).username or getpass.getuser()
    server = start_postgres(listen_host(target.host), target.port, user, stack_dir)
    return Component(
        target.name, target.address, server.pid, server.executable, str(server.data_dir)
    )


def _ensure_database(url: str, target: _Target) -> None:
    try:
        ensure_database(url)
    except psycopg.Error as error:
        name = urlsplit(url).path.lstrip("/")
        raise StackError(
            f"cannot create database {name} in {target.what} at {target.where}: {error}"
        ) from None


def _is_ours(component: Component) -> bool:
    return component.pid is not None and is_running(component.pid, component.executable)
