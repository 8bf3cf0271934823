"""A 3-primary Redis Cluster on loopback for tests: Debian's ``redis-server`` with
``--cluster-enabled yes`` on three free ports, joined by ``redis-cli --cluster create``."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.cluster import RedisCluster

PRIMARIES = 3
BUS_OFFSET = 10_000
"""A cluster node also listens on its port + 10000 (the cluster bus)."""


@dataclass(frozen=True)
class ClusterNodes:
    """The cluster's node ports on 127.0.0.1 (any of them is a startup node)."""

    ports: tuple[int, ...]

    @property
    def port(self) -> int:
        return self.ports[0]


def missing_binaries() -> str | None:
    """Why a cluster cannot be started here, or None."""
    for binary in ("redis-server", "redis-cli"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (Debian: apt-get install redis-server)"
    return None


@contextmanager
def redis_cluster(workdir: Path) -> Iterator[ClusterNodes]:
    """Start the nodes in ``workdir``, create the cluster, yield it; stop every node."""
    ports = _cluster_ports(PRIMARIES)
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            node_dir = workdir / str(port)
            node_dir.mkdir()
            nodes.append(_start_node(node_dir, port))
        for node, port in zip(nodes, ports, strict=True):
            _wait_for_ping(node, port)
        create = ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports)]
        subprocess.run(
            [*create, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _wait_for_cluster_ok(ports)
        yield ClusterNodes(ports)
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()


def _start_node(node_dir: Path, port: int) -> subprocess.Popen[bytes]:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    args += ["--dir", str(node_dir), "--save", "", "--appendonly", "no"]
    args += ["--logfile", str(node_dir / "redis.log")]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _cluster_ports(count: int) -> tuple[int, ...]:
    """Free ports whose cluster bus port (+10000) is free too."""
    rng, ports = random.Random(), list[int]()
    while len(ports) < count:
        port = rng.randrange(20_000, 30_000)
        if port not in ports and _bindable(port) and _bindable(port + BUS_OFFSET):
            ports.append(port)
    return tuple(ports)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_ping(node: subprocess.Popen[bytes], port: int) -> None:
    """Block until the node answers PING (30 s at most); fail at once if it exited."""
    client = redis.Redis(port=port, socket_connect_timeout=1)
    for _ in range(300):
        if node.poll() is not None:
            raise RuntimeError(f"redis-server on port {port} exited ({node.returncode})")
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)  # polling a server we started
        finally:
            client.close()
    raise RuntimeError(f"redis-server on port {port} never answered PING")


def _wait_for_cluster_ok(ports: tuple[int, ...]) -> None:
    """Block until every node reports ``cluster_state:ok`` and a cluster client connects."""
    for port in ports:
        client = redis.Redis(port=port, decode_responses=True)
        try:
            for _ in range(300):
                if client.cluster("info")["cluster_state"] == "ok":
                    break
                time.sleep(0.1)  # polling
            else:
                raise RuntimeError(f"cluster node {port} never reached cluster_state:ok")
        finally:
            client.close()
    RedisCluster(host="127.0.0.1", port=ports[0]).close()
