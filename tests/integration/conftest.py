"""Real servers for integration tests: a private Tansu broker per test, Redis and PostgreSQL.

Redis and PostgreSQL are reused where they answer (127.0.0.1:6379 and :5432 unless
``REDIS_HOST``/``REDIS_PORT``/``SWIFTEATS_TEST_DATABASE_URL`` say otherwise) and started
by the project's stack where they do not. Each test gets its own database, Redis key
prefix and broker, so nothing leaks between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from swifteats.adapters.redis_client import connect_redis
from swifteats.client import SwiftEatsClient
from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database, free_port, stack_down, stack_up
from tests.integration.helpers import Broker, Deployment


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Redis and PostgreSQL that answer: reused, or started by the stack for the session."""
    base_url = os.environ.get(
        "SWIFTEATS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    settings = Settings(
        kafka_host=f"127.0.0.1:{free_port()}",
        redis_host=os.environ.get("REDIS_HOST", "127.0.0.1"),
        redis_port=int(os.environ.get("REDIS_PORT", "6379")),
        database_url=base_url,
        state_dir=tmp_path_factory.mktemp("stack"),
    )
    stack_up(settings)
    yield settings
    stack_down(settings)


@pytest.fixture(scope="session")
def redis_client(servers: Settings) -> Iterator[redis.Redis]:
    """A client of the session's Redis; each test keeps to its own key prefix."""
    client = connect_redis(servers.redis_host, servers.redis_port)
    yield client
    client.close()


@pytest.fixture
def database_url(servers: Settings) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    base = servers.database_url.get_secret_value()
    name = f"swifteats_test_{uuid.uuid4().hex[:12]}"
    url = base.rsplit("/", 1)[0] + "/" + name
    ensure_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that is NOT started yet; most tests want ``kafka`` instead."""
    broker = Broker(tmp_path)
    yield broker
    broker.stop()


@pytest.fixture
def kafka(broker: Broker) -> Broker:
    """A running private broker."""
    broker.start()
    return broker


@pytest.fixture
def deployment(
    servers: Settings, database_url: str, broker: Broker, tmp_path: Path
) -> Iterator[Deployment]:
    """Services of one test: own database, Redis prefix and broker; fast retries."""
    env = {
        "KAFKA_HOST": broker.host,
        "REDIS_HOST": servers.redis_host,
        "REDIS_PORT": str(servers.redis_port),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": f"test:{uuid.uuid4().hex[:12]}",
        "SWIFTEATS_STATE_DIR": str(tmp_path / "state"),
        "SWIFTEATS_RETRY_BASE_S": "0.05",
        "SWIFTEATS_RETRY_CAP_S": "0.2",
        "SWIFTEATS_RETRY_MAX_ATTEMPTS": "3",
    }
    deployment = Deployment(env, tmp_path)
    yield deployment
    deployment.stop_all()


@pytest.fixture
def api_key() -> SecretStr:
    """A fresh API key, the one a ``secured_deployment`` requires."""
    return SecretStr(f"test-key-{uuid.uuid4().hex}")


@pytest.fixture
def secured_deployment(deployment: Deployment, api_key: SecretStr) -> Deployment:
    """``deployment`` whose services require ``api_key`` (``SWIFTEATS_API_KEYS``)."""
    deployment.env["SWIFTEATS_API_KEYS"] = api_key.get_secret_value()
    return deployment


MakeClient = Callable[[str, str], SwiftEatsClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Clients of services a test started itself, closed afterwards."""
    clients: list[SwiftEatsClient] = []

    def make(orders_url: str, assignment_url: str) -> SwiftEatsClient:
        clients.append(SwiftEatsClient(orders_url, assignment_url))
        return clients[-1]

    yield make
    for made in clients:
        made.close()


@pytest.fixture
def client(kafka: Broker, deployment: Deployment) -> Iterator[SwiftEatsClient]:
    """Both services running on the test's broker, and a client of them."""
    orders = deployment.start("order-service")
    assignment = deployment.start("assignment-service")
    client = SwiftEatsClient(orders.url, assignment.url)
    yield client
    client.close()
