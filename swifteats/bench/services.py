"""What the live benchmarks run on: a private stack and both services on the wall clock.

:func:`private_stack` gives a benchmark its own Kafka broker (Tansu, memory storage) on a
free loopback port, reusing or starting Redis and PostgreSQL as ``swifteats stack up``
does, with a state directory of its own so the user's ``stack.env`` is left alone; what
it started is stopped at the end. :func:`bench_services` runs both services on a fresh
database and Redis prefix, on the wall clock (unlike a replay's simulated one), and
removes the database and the prefix's keys afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from swifteats.adapters.kafka.topics import create_topics
from swifteats.adapters.redis_client import connect_redis, forget_namespace
from swifteats.launcher import ServiceProcess, stack_env
from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database, free_port, stack_down, stack_up

_START_TIMEOUT_S = 90.0


@contextmanager
def private_stack(settings: Settings) -> Iterator[Settings]:
    """``settings`` with a fresh broker of their own; Redis and PostgreSQL reused or started.

    If the block fails, the logs of everything it ran are kept under ``settings``' state
    directory (``logs/bench-failed-<time>``), and the error says where."""
    with tempfile.TemporaryDirectory(prefix="swifteats-bench-") as tmp:
        own = settings.model_copy(
            update={"kafka_host": f"127.0.0.1:{free_port()}", "state_dir": Path(tmp)}
        )
        stack_up(own)
        try:
            yield own
        except BaseException as error:
            kept = _keep_logs(Path(tmp) / "logs", settings.state_dir)
            if kept is not None:
                error.add_note(f"the benchmark's service logs are kept in {kept}")
            raise
        finally:
            stack_down(own)


def _keep_logs(logs: Path, state_dir: Path) -> Path | None:
    """A copy of ``logs`` under ``state_dir``'s own logs, named by the time (None: no logs)."""
    if not logs.is_dir():
        return None
    kept = state_dir / "logs" / f"bench-failed-{time.strftime('%Y%m%d-%H%M%S')}"
    shutil.copytree(logs, kept, dirs_exist_ok=True)
    return kept


@dataclass(frozen=True, slots=True)
class BenchServices:
    """Where the services of one benchmark answer and keep their data."""

    orders_url: str
    assignment_url: str
    database_url: str
    redis_prefix: str
    assignment_log: Path
    pids: dict[str, int]
    """Process id of each service, by command (for CPU accounting)."""


@contextmanager
def bench_services(
    settings: Settings, *, topics: tuple[str, ...], env: dict[str, str] | None = None
) -> Iterator[BenchServices]:
    """Both services on a fresh database and Redis prefix, reading ``topics`` already.

    Args:
        settings: Where Kafka, Redis and PostgreSQL are (``state_dir`` gets the logs).
        topics: Request topics to create and wait for, so no order waits for a rebalance.
        env: More environment for both services (``SWIFTEATS_*`` settings).
    """
    tag = uuid.uuid4().hex[:10]
    database_url = f"{settings.database_url.get_secret_value().rsplit('/', 1)[0]}/bench_{tag}"
    prefix = f"bench:{tag}"
    common = {
        **stack_env(settings),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": prefix,
        **(env or {}),
    }
    logs = settings.state_dir / "logs" / f"bench-{tag}"
    ensure_database(database_url)
    services: list[ServiceProcess] = []
    try:
        for command in ("order-service", "assignment-service"):
            log = logs / f"{command}.log"
            services.append(ServiceProcess.start(command, port=free_port(), env=common, log=log))
        for service in services:
            service.wait_until_up(timeout_s=_START_TIMEOUT_S)
        orders, assignment = services
        _subscribe(settings, assignment.url, topics)
        pids = {s.command: s.process.pid for s in services}
        yield BenchServices(orders.url, assignment.url, database_url, prefix, assignment.log, pids)
    finally:
        for service in services:
            service.stop()
        drop_database(database_url)
        forget_namespace(settings, prefix)


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, every thread) a process has used; None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_redis(settings: Settings) -> redis.Redis:
    """A Redis client for the benchmark itself."""
    return connect_redis(settings.redis_host, settings.redis_port)


def _subscribe(settings: Settings, assignment_url: str, topics: tuple[str, ...]) -> None:
    """Create ``topics`` and wait until the assignment service owns partitions of each."""
    create_topics(settings, topics)
    deadline = time.monotonic() + _START_TIMEOUT_S
    headers = auth_headers(settings)
    while True:
        stats = httpx.get(f"{assignment_url}/stats", headers=headers, timeout=10).json()
        if set(topics) <= set(stats["assignedTopics"]):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the assignment service never read {sorted(topics)}")
        time.sleep(0.1)


def auth_headers(settings: Settings) -> dict[str, str]:
    """The bearer header the services want when API keys are configured."""
    key = settings.client_api_key
    return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
