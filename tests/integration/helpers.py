"""Helpers of the integration tests: brokers, service deployments, waiting, reading topics."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

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
