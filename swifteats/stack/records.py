"""What ``stack up`` leaves behind: ``stack/stack.json`` (who started what) and ``stack.env``."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from swifteats.settings import Settings, stack_env_path
from swifteats.stack.errors import StackError


@dataclass(frozen=True)
class Component:
    """One server of the stack: its address and, when the stack started it, its process."""

    name: str
    address: str
    pid: int | None = None
    executable: str | None = None
    data_dir: str | None = None
    """PostgreSQL only: the data directory pg_ctl stops the server by."""

    @property
    def started(self) -> bool:
        """True when the stack started this server (False: it was already running)."""
        return self.pid is not None


@dataclass(frozen=True)
class StackState:
    """The three components as ``stack up`` left them, and the servers it started before."""

    kafka: Component
    redis: Component
    postgres: Component
    retained: tuple[Component, ...] = ()
    """Servers the stack started for an earlier configuration (another address) that still
    ran when the configuration changed: services may still use them, so they keep running,
    recorded, until ``stack down`` stops them."""

    def components(self) -> tuple[Component, Component, Component]:
        """Kafka, Redis and PostgreSQL."""
        return self.kafka, self.redis, self.postgres

    def recorded(self) -> tuple[Component, ...]:
        """The three components and the retained servers: everything ``stack down`` stops."""
        return (*self.components(), *self.retained)

    def get(self, name: str) -> Component:
        """The component called ``name`` (``kafka``, ``redis`` or ``postgres``)."""
        component: Component = getattr(self, name)
        return component


def state_file(state_dir: Path) -> Path:
    """Where ``stack up`` records what it started: ``<state_dir>/stack/stack.json``."""
    return state_dir / "stack" / "stack.json"


def load_state(state_dir: Path) -> StackState | None:
    """The recorded state, or None when the stack is not up.

    Raises:
        StackError: The record exists but cannot be read.
    """
    path = state_file(state_dir)
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        kafka, redis, postgres = (_component(raw[name]) for name in ("kafka", "redis", "postgres"))
        retained = tuple(_component(item) for item in raw.get("retained", []))
        return StackState(kafka, redis, postgres, retained)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StackError(
            f"unreadable stack record {path} ({error!r}); stop its servers by hand, delete it"
        ) from None


def _component(raw: dict[str, Any]) -> Component:
    """A recorded component; fields of other versions are ignored."""
    known = {field.name for field in fields(Component)}
    return Component(**{k: v for k, v in raw.items() if k in known})


def save_state(settings: Settings, state: StackState) -> None:
    """Record ``state`` and write ``stack.env`` with the addresses of ``settings``."""
    path = state_file(settings.state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state), indent=2) + "\n")
    lines = [f"{key}={value}" for key, value in env_values(settings).items()]
    _write_private(stack_env_path(settings.state_dir), "\n".join(lines) + "\n")


def forget(state_dir: Path) -> None:
    """Remove the record and ``stack.env``."""
    for path in (state_file(state_dir), stack_env_path(state_dir)):
        path.unlink(missing_ok=True)


def env_values(settings: Settings) -> dict[str, str]:
    """The four addresses services read: KAFKA_HOST, REDIS_HOST, REDIS_PORT, DATABASE_URL."""
    return {
        "KAFKA_HOST": settings.kafka_host,
        "REDIS_HOST": settings.redis_host,
        "REDIS_PORT": str(settings.redis_port),
        "DATABASE_URL": settings.database_url.get_secret_value(),
    }


def env_lines(settings: Settings) -> list[str]:
    """``export KEY=value`` lines of the four addresses, quoted for ``eval``."""
    return [f"export {key}={shlex.quote(value)}" for key, value in env_values(settings).items()]


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only (DATABASE_URL may hold a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
