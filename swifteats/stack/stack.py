"""``stack up/down/status``: which server is reused, which one the stack started, and where."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from swifteats.settings import Settings, stack_env_path
from swifteats.stack.network import is_loopback, port_open, split_host_port
from swifteats.stack.servers import (
    ensure_database,
    postgres_answers,
    redis_answers,
    start_postgres,
    start_redis,
    start_tansu,
    stop_postgres,
    stop_process,
)


class StackError(RuntimeError):
    """A component can be neither reached nor started."""


@dataclass(frozen=True)
class Component:
    """One server of the stack: its address and, when the stack started it, how to stop it."""

    name: str
    address: str
    pid: int | None = None
    data_dir: str | None = None

    @property
    def started(self) -> bool:
        """True when the stack started this server."""
        return self.pid is not None or self.data_dir is not None


@dataclass(frozen=True)
class StackState:
    """The three components as ``stack up`` left them."""

    kafka: Component
    redis: Component
    postgres: Component

    def components(self) -> tuple[Component, Component, Component]:
        """Kafka, Redis and PostgreSQL."""
        return self.kafka, self.redis, self.postgres


@dataclass(frozen=True)
class ComponentStatus:
    """What ``stack status`` shows of one component."""

    name: str
    address: str
    reachable: bool
    started_by_stack: bool
    pid: int | None


def stack_up(settings: Settings) -> StackState:
    """Reuse what answers, start on loopback what does not; write the addresses to stack.env."""
    previous = _load(settings.state_dir)
    stack_dir = settings.state_dir / "stack"
    state = StackState(
        kafka=_kafka(settings, stack_dir, previous.kafka if previous else None),
        redis=_redis(settings, stack_dir, previous.redis if previous else None),
        postgres=_postgres(settings, stack_dir, previous.postgres if previous else None),
    )
    ensure_database(settings.database_url.get_secret_value())
    _save(settings, state)
    return state


def stack_down(settings: Settings) -> None:
    """Stop only what ``stack up`` started; forget the addresses."""
    state = _load(settings.state_dir)
    if state is not None:
        for component in state.components():
            if component.data_dir is not None:
                stop_postgres(Path(component.data_dir))
            elif component.pid is not None:
                stop_process(component.pid)
    for path in (_state_file(settings.state_dir), stack_env_path(settings.state_dir)):
        path.unlink(missing_ok=True)


def stack_status(settings: Settings) -> list[ComponentStatus]:
    """Each component: address, whether it answers, whether the stack started it."""
    state = _load(settings.state_dir)
    started = {c.name: c for c in state.components()} if state else {}
    redis_address = f"{settings.redis_host}:{settings.redis_port}"
    database_url = settings.database_url.get_secret_value()
    probes = {
        "kafka": (settings.kafka_host, port_open(*split_host_port(settings.kafka_host, 9092))),
        "redis": (redis_address, redis_answers(settings.redis_host, settings.redis_port)),
        "postgres": (_pg_address(database_url), postgres_answers(database_url)),
    }
    return [
        ComponentStatus(
            name,
            address,
            reachable,
            name in started and started[name].started,
            started[name].pid if name in started else None,
        )
        for name, (address, reachable) in probes.items()
    ]


def env_lines(settings: Settings) -> list[str]:
    """``export`` lines of the four addresses, for ``eval``."""
    return [
        f"export KAFKA_HOST={settings.kafka_host}",
        f"export REDIS_HOST={settings.redis_host}",
        f"export REDIS_PORT={settings.redis_port}",
        f"export DATABASE_URL={settings.database_url.get_secret_value()}",
    ]


def _kafka(settings: Settings, stack_dir: Path, previous: Component | None) -> Component:
    host, port = split_host_port(settings.kafka_host, 9092)
    if port_open(host, port):
        return _still(previous, settings.kafka_host, "kafka")
    _require_loopback("Kafka", host, port)
    process = start_tansu(port, stack_dir / "logs")
    return Component("kafka", settings.kafka_host, pid=process.pid)


def _redis(settings: Settings, stack_dir: Path, previous: Component | None) -> Component:
    address = f"{settings.redis_host}:{settings.redis_port}"
    if redis_answers(settings.redis_host, settings.redis_port):
        return _still(previous, address, "redis")
    _require_loopback("Redis", settings.redis_host, settings.redis_port)
    process = start_redis(settings.redis_port, stack_dir / "redis")
    return Component("redis", address, pid=process.pid)


def _postgres(settings: Settings, stack_dir: Path, previous: Component | None) -> Component:
    url = settings.database_url.get_secret_value()
    address = _pg_address(url)
    if postgres_answers(url):
        return _still(previous, address, "postgres")
    parts = urlsplit(url)
    _require_loopback("PostgreSQL", parts.hostname or "localhost", parts.port or 5432)
    data = start_postgres(parts.port or 5432, stack_dir)
    return Component("postgres", address, data_dir=str(data))


def _still(previous: Component | None, address: str, name: str) -> Component:
    """A server that answers: ours if a previous ``up`` started it there, else external."""
    if previous is not None and previous.address == address and previous.started:
        return previous
    return Component(name, address)


def _require_loopback(what: str, host: str, port: int) -> None:
    if not is_loopback(host):
        raise StackError(
            f"cannot reach {what} at {host}:{port} and it is not a local address, "
            "so the stack will not start one"
        )


def _pg_address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def _state_file(state_dir: Path) -> Path:
    return state_dir / "stack" / "stack.json"


def _load(state_dir: Path) -> StackState | None:
    path = _state_file(state_dir)
    if not path.is_file():
        return None
    raw = json.loads(path.read_text())
    return StackState(**{name: Component(**raw[name]) for name in ("kafka", "redis", "postgres")})


def _save(settings: Settings, state: StackState) -> None:
    path = _state_file(settings.state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state), indent=2))
    lines = [line.removeprefix("export ") for line in env_lines(settings)]
    stack_env_path(settings.state_dir).write_text("\n".join(lines) + "\n")
