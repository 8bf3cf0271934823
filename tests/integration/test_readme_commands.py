"""Every command of the README's ``bash`` blocks runs and exits 0, in README order.

Each command is one test case, run as a user would type it (``swifteats …`` is this
checkout's ``python -m swifteats``) from a scratch folder holding a copy of ``data/`` and,
beside it, ``shared`` (the MDRP instances) when the machine has it. The stack lives on the
module's own broker port, state directory, database and Redis prefix. Installation
commands are skipped (the tests run installed); so is a command naming an MDRP instance
this machine lacks. Servers (``order-service``, ``assignment-service``, ``dashboard``) pass
when they listen, and run until the module ends, as in a second terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from swifteats.settings import Settings
from swifteats.stack import drop_database, free_port, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
SERVERS = {
    "order-service": "PORT",
    "assignment-service": "DRIVER_ASSIGNMENT_SERVICE_PORT",
    "dashboard": "SWIFTEATS_DASHBOARD_PORT",
}
"""Commands that serve until stopped, and the variable holding the port they listen on."""
COMMAND_TIMEOUT_S = 900


def readme_commands(text: str) -> list[list[str]]:
    """The commands of the ``bash`` blocks of ``text``: continuation lines joined, comments
    dropped, ``a && b`` split in two."""
    commands: list[list[str]] = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                commands.append(words[:end])
                words = words[end + 1 :]
    return commands


def _setup_step(argv: list[str]) -> bool:
    """Creating or activating the virtual environment, installing, or CI itself (which
    runs these tests)."""
    return (
        argv[:3] == ["python3", "-m", "venv"]
        or argv == [".", ".venv/bin/activate"]
        or (Path(argv[0]).name == "pip" and argv[1:2] == ["install"])
        or argv == ["bash", ".ci/run"]
    )


COMMANDS = readme_commands((REPO / "README.md").read_text())


@dataclass
class Workspace:
    """The scratch folder, the environment and the servers left running."""

    cwd: Path
    env: dict[str, str]
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    done: set[tuple[str, ...]] = field(default_factory=set)

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _python(argv),
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )

    def serve(self, argv: list[str], port_variable: str) -> None:
        log = self.cwd / f"{argv[1]}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our interpreter
                _python(argv),
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped with its children (the dashboard's Streamlit)
            )
        self.servers.append(process)
        try:
            wait_for_port("127.0.0.1", int(self.env[port_variable]), timeout_s=120)
        except TimeoutError:
            pytest.fail(f"{shlex.join(argv)} does not listen:\n{log.read_text()[-3000:]}")
        assert process.poll() is None, log.read_text()[-3000:]


def _python(argv: list[str]) -> list[str]:
    assert Path(argv[0]).name == "swifteats", f"not a swifteats command: {shlex.join(argv)}"
    return [sys.executable, "-m", "swifteats", *argv[1:]]


@pytest.fixture(scope="module")
def workspace(servers: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("readme")
    cwd = root / "swifteats"
    shutil.copytree(REPO / "data", cwd / "data")
    if (REPO.parent / "shared").is_dir():
        (root / "shared").symlink_to(REPO.parent / "shared")
    tag = uuid.uuid4().hex[:10]
    database_url = servers.database_url.get_secret_value().rsplit("/", 1)[0] + f"/readme_{tag}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "KAFKA_HOST": f"127.0.0.1:{free_port()}",
        "REDIS_HOST": servers.redis_host,
        "REDIS_PORT": str(servers.redis_port),
        "DATABASE_URL": database_url,
        "SWIFTEATS_REDIS_PREFIX": f"readme:{tag}",
        "SWIFTEATS_STATE_DIR": str(root / "state"),
        **{variable: str(free_port()) for variable in SERVERS.values()},
    }
    space = Workspace(cwd, env)
    yield space
    for process in space.servers:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    space.run(["swifteats", "stack", "down"])
    drop_database(database_url)
    with redis.Redis(servers.redis_host, servers.redis_port) as client:
        for key in client.scan_iter(f"readme:{tag}:*"):
            client.delete(key)


@pytest.mark.parametrize(
    "argv", COMMANDS, ids=[f"{n:02d} {shlex.join(c)[:70]}" for n, c in enumerate(COMMANDS)]
)
def test_the_readme_command_exits_0(workspace: Workspace, argv: list[str]) -> None:
    if _setup_step(argv):
        pytest.skip("installation: these tests run in the installed environment")
    absent = [a for a in argv if "data/mdrp" in a and not (workspace.cwd / a).exists()]
    if absent:
        pytest.skip(f"no MDRP instance at {absent[0]} on this machine")
    if tuple(argv[1:]) in workspace.done:
        pytest.skip("the same command ran above")
    workspace.done.add(tuple(argv[1:]))
    if argv[1] in SERVERS:
        workspace.serve(argv, SERVERS[argv[1]])
        return
    result = workspace.run(argv)
    assert result.returncode == 0, (
        f"{shlex.join(argv)} exited {result.returncode}\n{result.stdout[-3000:]}"
        f"\n{result.stderr[-3000:]}"
    )


def test_the_readme_has_the_commands_this_test_expects() -> None:
    names = {c[1] for c in COMMANDS if Path(c[0]).name == "swifteats"}
    assert {"replay", "report", "sweep", "stack", "drivers", "check-flow", "bench"} <= names
    assert ["swifteats", "drivers", "register", "d1", "40.713", "-74.006"] in COMMANDS
    assert sum(_setup_step(c) for c in COMMANDS) == 5  # venv, activate, two installs, .ci/run
