"""Starting the services as child processes and waiting until they are healthy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from swifteats.settings import Settings


def stack_env(settings: Settings) -> dict[str, str]:
    """The addresses a child service must use, whatever its own environment says."""
    return {
        "KAFKA_HOST": settings.kafka_host,
        "REDIS_HOST": settings.redis_host,
        "REDIS_PORT": str(settings.redis_port),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "SWIFTEATS_STATE_DIR": str(settings.state_dir),
    }


class ServiceStartError(RuntimeError):
    """A service exited or never became healthy; the message carries the end of its log.

    Attributes:
        summary: What happened, on one line (``order-service exited with 1``).
        log: The service's log file.
        tail: The end of that log.
    """

    def __init__(self, summary: str, log: Path, tail: str) -> None:
        super().__init__(f"{summary}; last log lines:\n{tail}")
        self.summary, self.log, self.tail = summary, log, tail


@dataclass
class ServiceProcess:
    """``swifteats <command>`` running as a child process, serving HTTP at ``url``."""

    command: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, command: str, *, port: int, env: dict[str, str], log: Path) -> ServiceProcess:
        """Start the service on ``port`` with ``env`` added to this process's environment."""
        child_env = {
            **os.environ,
            **env,
            "PORT": str(port),
            "DRIVER_ASSIGNMENT_SERVICE_PORT": str(port),
        }
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "swifteats", command],
                env=child_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(command, process, f"http://127.0.0.1:{port}", log)

    def wait_until_up(self, *, timeout_s: float, healthy: bool = True) -> None:
        """Wait until /health answers (200 when ``healthy``); raise ServiceStartError."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2) as client:  # one client: each new one costs ~15 ms CPU
            while not self._answers(client, healthy):
                if self.process.poll() is not None:
                    raise self._failure(f"exited with {self.process.returncode}")
                if time.monotonic() > deadline:
                    raise self._failure(f"not up after {timeout_s:.0f}s")
                time.sleep(0.05)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, wait, then SIGKILL."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _answers(self, client: httpx.Client, healthy: bool) -> bool:
        try:
            status = client.get(self.url + "/health").status_code
        except httpx.HTTPError:
            return False
        return status == 200 or not healthy

    def _failure(self, what: str) -> ServiceStartError:
        tail = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
        return ServiceStartError(f"{self.command} {what}", self.log, tail)
