"""Helpers of the integration tests: brokers, service deployments, order load, waiting,
reading topics."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from swifteats.check_flow import sample_order
from swifteats.launcher import ServiceProcess
from swifteats.stack import free_port, start_tansu


@dataclass
class Broker:
    """A private Tansu broker on a free loopback port; start and stop it at will."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """``host:port`` for KAFKA_HOST."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it answers."""
        self.process = start_tansu(self.port, self.log_dir)

    def stop(self) -> None:
        """Stop the broker (Tansu keeps nothing in memory storage)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL the broker; it forgets every topic, offset and group."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Deployment:
    """Environment shared by the services of one test, and the services started."""

    env: dict[str, str]
    tmp: Path
    services: list[ServiceProcess] = field(default_factory=list)

    def start(self, command: str, *, wait_healthy: bool = True, **overrides: str) -> ServiceProcess:
        """Start ``swifteats <command>`` on a free port; wait for /health (200 if healthy)."""
        port = free_port()
        log = self.tmp / f"{command}-{port}.log"
        service = ServiceProcess.start(command, port=port, env={**self.env, **overrides}, log=log)
        self.services.append(service)
        service.wait_until_up(timeout_s=60, healthy=wait_healthy)
        return service

    def stop_all(self) -> None:
        """Stop every service of the test."""
        for service in self.services:
            service.stop()


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``condition`` every 50 ms until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for: {what}")
        time.sleep(0.05)


def read_topic(host: str, topic: str, *, count: int, timeout_s: float = 30) -> list[bytes]:
    """The first ``count`` message values of ``topic`` (all partitions), read without a group."""
    return [record.value for record in read_records(host, topic, count=count, timeout_s=timeout_s)]


def read_records(host: str, topic: str, *, count: int, timeout_s: float = 30) -> list[Any]:
    """The first ``count`` records (``ConsumerRecord``) of ``topic`` (all partitions, each
    in order), read without a group."""
    consumer = KafkaConsumer(bootstrap_servers=host, enable_auto_commit=False)
    try:
        found: list[Any] = []
        deadline = time.monotonic() + timeout_s
        partitions: list[TopicPartition] = []
        while len(found) < count and time.monotonic() < deadline:
            if not partitions:
                ids = consumer.partitions_for_topic(topic) or set()
                partitions = [TopicPartition(topic, p) for p in sorted(ids)]
                if partitions:
                    consumer.assign(partitions)
                    consumer.seek_to_beginning()
                else:
                    time.sleep(0.05)
                continue
            for records in consumer.poll(timeout_ms=200).values():
                found.extend(records)
        return found
    finally:
        consumer.close()


def order_near(
    order_id: str,
    place: tuple[float, float],
    rng: random.Random,
    *,
    spread: float = 0.02,
    radius_km: float = 20,
) -> dict[str, Any]:
    """An order of a restaurant up to ``spread`` degrees from ``place``, for a customer
    of its own living there too."""
    body = sample_order(f"customer-{order_id}")
    body["orderId"] = order_id
    for where in ("restaurantLocation", "customerLocation"):
        body[where] = {
            "latitude": place[0] + rng.uniform(-spread, spread),
            "longitude": place[1] + rng.uniform(-spread, spread),
        }
    body["radius"] = radius_km
    return body


@dataclass
class OrderLoad:
    """Orders posted at ``rate_per_s`` from a thread until stopped; a refused or failed
    post is tried again for 30 s (the Order Service answers 409 to an order it has)."""

    orders_url: str
    body: Callable[[int], dict[str, Any]]
    rate_per_s: float
    accepted: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start posting."""
        self._thread = threading.Thread(target=self._run, name="order-load", daemon=True)
        self._thread.start()

    def stop(self) -> list[str]:
        """Stop posting and wait for the posts under way; the accepted order ids."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
        return list(self.accepted)

    def _run(self) -> None:
        started = time.monotonic()
        with (
            httpx.Client(base_url=self.orders_url, timeout=30) as http,
            ThreadPoolExecutor(max_workers=4) as pool,
        ):
            for n in range(10**9):
                due = started + n / self.rate_per_s
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
                pool.submit(self._post, http, self.body(n))

    def _post(self, http: httpx.Client, body: dict[str, Any]) -> None:
        for _ in range(60):
            try:
                if http.post("/orders", json=body).status_code in (201, 409):
                    self.accepted.append(body["orderId"])
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.given_up.append(body["orderId"])
