"""Servers the stack starts: detached processes with a log, recognised and stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from swifteats.stack.errors import StackError
from swifteats.stack.network import port_open

_CHILDREN: list[subprocess.Popen[bytes]] = []
"""Servers started by this process, kept so none is garbage-collected (and warned of) running."""

_HAS_PROC = Path("/proc/self/exe").exists()


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - binaries resolved by the stack
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN.append(process)
    return process


def wait_until_serving(
    what: str, process: subprocess.Popen[bytes], host: str, port: int, timeout_s: float, log: Path
) -> None:
    """Wait until ``process`` (``what`` in messages) accepts connections on ``host:port``.

    Raises:
        StackError: The process exited, or did not answer within ``timeout_s`` (it is
            then stopped); the message ends with the last lines of ``log``.
    """
    deadline = time.monotonic() + timeout_s
    while not port_open(host, port):
        if process.poll() is not None:
            raise StackError(f"{what} exited ({process.returncode}); {log_tail(log)}")
        if time.monotonic() > deadline:
            stop_process(process.pid)
            raise StackError(f"{what} did not answer in {timeout_s:.0f}s; {log_tail(log)}")
        time.sleep(0.05)


def log_tail(log: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a log file, introduced by its path."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return f"no log at {log}"
    return f"end of {log}:\n" + "\n".join(text)


def is_running(pid: int, executable: str | None = None) -> bool:
    """True when ``pid`` runs and, where ``/proc`` tells, runs ``executable``.

    The executable check keeps a pid recorded before a reboot, now reused by an
    unrelated process, from being taken for a server the stack started.
    """
    child = _child(pid)
    if child is not None:
        return child.poll() is None
    if executable is not None and _HAS_PROC:
        try:
            return Path(os.readlink(f"/proc/{pid}/exe")) == Path(executable).resolve()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_process(pid: int, executable: str | None = None, timeout_s: float = 10.0) -> None:
    """SIGTERM a server the stack started, wait up to ``timeout_s``, then SIGKILL it.

    Args:
        pid: Process id of the server.
        executable: Binary the server runs; a process running something else is left alone.
        timeout_s: Grace period between SIGTERM and SIGKILL.
    """
    child = _child(pid)
    if child is not None:
        _CHILDREN.remove(child)
        child.terminate()
        try:
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    if not is_running(pid, executable):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        if not _exited(pid, executable, timeout_s):
            os.kill(pid, signal.SIGKILL)
            _exited(pid, executable, timeout_s)


def _exited(pid: int, executable: str | None, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_running(pid, executable):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _child(pid: int) -> subprocess.Popen[bytes] | None:
    return next((process for process in _CHILDREN if process.pid == pid), None)


def executable_of(process: subprocess.Popen[bytes]) -> str:
    """The binary a process started by :func:`spawn` runs."""
    args = process.args
    return str(args[0] if isinstance(args, list) else args)
