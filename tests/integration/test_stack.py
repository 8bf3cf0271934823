"""``swifteats stack``: reuse what answers, start what is missing, stop only what it started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from kafka import KafkaProducer

from swifteats.settings import Settings, read_env_file, stack_env_path
from swifteats.stack import free_port, stack_down, stack_status, stack_up
from swifteats.stack.network import port_open

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def fresh_ports(tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at free loopback ports, so the stack has to start all three."""
    settings = Settings(
        kafka_host=f"127.0.0.1:{free_port()}",
        redis_host="127.0.0.1",
        redis_port=free_port(),
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/swift_eats",
        state_dir=tmp_path,
    )
    yield settings
    stack_down(settings)


def test_up_starts_what_is_missing_and_down_stops_it(fresh_ports: Settings) -> None:
    state = stack_up(fresh_ports)

    assert all(component.started for component in state.components())
    env = read_env_file(stack_env_path(fresh_ports.state_dir))
    assert env["KAFKA_HOST"] == fresh_ports.kafka_host
    assert env["REDIS_PORT"] == str(fresh_ports.redis_port)
    producer = KafkaProducer(bootstrap_servers=fresh_ports.kafka_host)
    producer.send("stack-check", b"hello").get(timeout=10)
    producer.close()
    with redis.Redis(port=fresh_ports.redis_port) as client:
        assert client.ping()
    with psycopg.connect(fresh_ports.database_url.get_secret_value()) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("swift_eats",)
    again = stack_up(fresh_ports)  # idempotent: nothing new is started
    assert again == state

    stack_down(fresh_ports)

    assert not any(item.reachable for item in stack_status(fresh_ports))
    assert not stack_env_path(fresh_ports.state_dir).exists()


def test_up_reuses_running_servers_and_down_leaves_them(servers: Settings, tmp_path: Path) -> None:
    settings = Settings(
        kafka_host=f"127.0.0.1:{free_port()}",
        redis_host=servers.redis_host,
        redis_port=servers.redis_port,
        database_url=servers.database_url.get_secret_value().rsplit("/", 1)[0]
        + "/swifteats_stack_check",
        state_dir=tmp_path,
    )
    state = stack_up(settings)
    assert state.kafka.started
    assert not state.redis.started
    assert not state.postgres.started

    stack_down(settings)

    kafka_host, kafka_port = settings.kafka_host.split(":")
    assert not port_open(kafka_host, int(kafka_port))
    with redis.Redis(host=servers.redis_host, port=servers.redis_port) as client:
        assert client.ping()
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
