"""Fixtures shared by every test tier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster

from tests.redis_cluster import ClusterNodes, missing_binaries, redis_cluster


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterNodes]:
    """A 3-primary Redis Cluster on loopback for the session; skipped when Debian's
    ``redis-server`` is not installed."""
    missing = missing_binaries()
    if missing is not None:
        pytest.skip(f"no Redis Cluster can be started: {missing}")
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as nodes:
        yield nodes


@pytest.fixture(scope="session")
def cluster_client(redis_cluster_nodes: ClusterNodes) -> Iterator[RedisCluster]:
    """A cluster client of ``redis_cluster_nodes`` that answers ``str``."""
    client = RedisCluster(host="127.0.0.1", port=redis_cluster_nodes.port, decode_responses=True)
    yield client
    client.close()
