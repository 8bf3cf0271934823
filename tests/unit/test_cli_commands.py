"""The ``swifteats`` command line: coordinates, choices, help, version, errors as messages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from replay.runner import BACKENDS, CLOCKS
from swifteats.analysis.report import FORMATS
from swifteats.cli import app, version
from swifteats.cli import drivers as drivers_cli
from swifteats.cli.errors import explain
from swifteats.cli.options import Backend, Clock, TableFormat
from swifteats.cli.replay import left_running
from swifteats.launcher import ServiceStartError
from swifteats.stack import Component, StackError, StackState
from swifteats.stack.errors import INSTALL_HINT

runner = CliRunner()


class RecordingClient:
    """Stands in for the HTTP client: records each call and answers ``{}``."""

    calls: list[tuple[str, tuple[Any, ...]]] = []

    def __enter__(self) -> RecordingClient:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args)) or {}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    RecordingClient.calls = []
    monkeypatch.setattr(drivers_cli, "service_client", lambda *args: RecordingClient())
    yield RecordingClient.calls


@pytest.mark.parametrize(
    ("argv", "call"),
    [
        (["register", "d1", "40.713", "-74.006"], ("register_driver", ("d1", 40.713, -74.006))),
        (["register", "d1", "-33.87", "151.21"], ("register_driver", ("d1", -33.87, 151.21))),
        (["move", "d1", "-33.87", "-70.6"], ("move_driver", ("d1", -33.87, -70.6))),
        (
            ["list", "40.7128", "-74.0060", "--radius", "5"],
            ("nearby_drivers", (40.7128, -74.006, 5.0)),
        ),
    ],
)
def test_negative_coordinates_are_numbers_not_options(
    recorded: list[tuple[str, tuple[Any, ...]]], argv: list[str], call: tuple[str, tuple[Any, ...]]
) -> None:
    result = runner.invoke(app, ["drivers", *argv])
    assert result.exit_code == 0, result.output
    name, args = recorded[0]
    assert (name, args[: len(call[1])]) == call


def test_a_mistyped_option_beside_coordinates_is_still_an_error(
    recorded: list[tuple[str, tuple[Any, ...]]],
) -> None:
    result = runner.invoke(app, ["drivers", "list", "40.7", "-74.0", "--radus", "5"])
    assert result.exit_code == 2 and "--radus" in result.output and not recorded


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"swifteats {version()}\n"
    assert version()[0].isdigit()


def test_the_choices_are_the_runners() -> None:
    assert set(Backend) == set(BACKENDS)
    assert set(Clock) == set(CLOCKS) and set(TableFormat) == set(FORMATS)


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        (["replay"], ["live|inprocess", "lockstep|paced"]),
        (["report"], ["csv|md"]),
        (["drivers", "register"], ["available|busy|offline"]),
    ],
)
def test_help_lists_the_choices(command: list[str], choices: list[str]) -> None:
    text = _help(command)
    assert all(choice in text for choice in choices)


def _commands(
    group: Any = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def _help(command: list[str] | tuple[str, ...]) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "2000"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_option_has_help_and_shows_its_default() -> None:
    missing = []
    for path, command in _commands():
        for param in command.params:
            if param.param_type_name != "option" or param.name == "help":
                continue
            flag = getattr(param, "is_flag", False)
            shown = param.show_default is not False and (
                param.default is not None or isinstance(param.show_default, str)
            )
            if not param.help or not (flag or shown):
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert missing == []


def test_help_shows_defaults_that_rich_markup_used_to_swallow() -> None:
    assert "[default: (http://127.0.0.1:$PORT)]" in _help(["check-flow"])
    url = "[default: (http://127.0.0.1:$DRIVER_ASSIGNMENT_SERVICE_PORT)]"
    assert url in _help(["drivers", "list"])
    assert "[default: (runs/<run_id>)]" in _help(["replay"])


def test_no_help_text_prints_rst_markup() -> None:
    for path, _ in _commands():
        assert "``" not in _help(path), path
    assert "``" not in _help([])


def test_install_hints_say_how_to_install_from_the_checkout() -> None:
    assert 'pip install -e ".[stack]"' in INSTALL_HINT


def test_the_dashboard_names_everything_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "duckdb" else real(name)
    )
    result = runner.invoke(app, ["dashboard"])
    assert result.exit_code == 1
    assert "duckdb" in result.stderr
    assert 'pip install -e ".[dashboard,research]"' in result.stderr
    assert "Traceback" not in result.output


# Errors as messages ------------------------------------------------------------------


def _fails_with(argv: list[str], *fragments: str, code: int = 1) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert all(fragment in result.stderr for fragment in fragments), result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    debug = runner.invoke(app, ["--debug", *argv])
    assert debug.exception is not None and not isinstance(debug.exception, SystemExit)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty state directory and free service ports: nothing found, nothing reused."""
    monkeypatch.setenv("SWIFTEATS_STATE_DIR", str(tmp_path / "state"))
    for variable in ("PORT", "DRIVER_ASSIGNMENT_SERVICE_PORT"):
        monkeypatch.setenv(variable, str(_free_port()))
    return tmp_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_the_stack_cannot_start_is_a_message(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import replay.runner

    def no_broker(*args: object, **kwargs: object) -> None:
        raise StackError(
            f"cannot reach Kafka at 127.0.0.1:9 and could not start one; {INSTALL_HINT}"
        )

    monkeypatch.setattr(replay.runner, "run_replay", no_broker)
    _fails_with(["replay", "--out", str(state / "run")], "cannot reach Kafka", INSTALL_HINT)


def test_a_service_that_cannot_start_is_a_message_naming_its_log(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import swifteats.demo
    import swifteats.stack

    def dies(settings: object) -> None:
        raise ServiceStartError("order-service exited with 1", state / "o.log", "boom\n" * 50)

    monkeypatch.setattr(swifteats.stack, "stack_up", lambda settings: None)
    monkeypatch.setattr(swifteats.demo, "run_demo", dies)
    _fails_with(["demo"], "order-service exited with 1", str(state / "o.log"))


def test_a_port_in_use_is_a_message(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        monkeypatch.setenv("PORT", str(port))
        _fails_with(["order-service"], f"port {port} (PORT)", "fix: ")
        _fails_with(["demo"], f"port {port} (PORT)")


def test_a_missing_service_is_a_message_with_the_command_that_starts_it(state: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    _fails_with(
        ["drivers", "list", "40.7", "-74.0", "--assignment-url", url],
        f"cannot reach {url}/drivers",
        "swifteats assignment-service",
    )


def test_a_bad_input_file_is_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("what,is,this\n1,2,3\n")
    argv = ["replay", str(bad), "--drivers", str(bad), "--backend", "inprocess"]
    _fails_with(argv, f"cannot read {bad}", "fix: ", code=2)
    _fails_with(
        ["replay", str(tmp_path / "none.csv"), "--drivers", str(bad)], "no such file", code=2
    )


@pytest.mark.parametrize("weights", ["{not json", '{"no_such_weight": 1}', "[1, 2]"])
def test_broken_weights_are_a_message_with_an_example(weights: str) -> None:
    result = runner.invoke(app, ["replay", "--backend", "inprocess", "--weights", weights])
    assert result.exit_code == 2
    assert "error: --weights" in result.stderr and "distance_penalty_per_km" in result.stderr
    assert "Traceback" not in result.output


def test_an_error_status_of_a_service_is_a_message(
    recorded: list[tuple[str, tuple[Any, ...]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from swifteats.client import ServiceError

    def not_found(*args: object) -> None:
        raise ServiceError('GET http://x/drivers/d9: 404 {"detail":"driver d9 not found"}')

    monkeypatch.setattr(RecordingClient, "get_driver", not_found, raising=False)
    _fails_with(["drivers", "get", "d9"], "404", "driver d9 not found")


def test_an_error_message_keeps_the_notes_that_say_where_to_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from swifteats.client import ServiceError

    def failed(*args: object) -> None:
        error = ServiceError("POST http://x/decisions: 500 Internal Server Error")
        error.add_note("the benchmark's service logs are kept in /state/logs/bench-failed-1")
        raise error

    monkeypatch.setattr(RecordingClient, "get_driver", failed, raising=False)
    monkeypatch.setattr(drivers_cli, "service_client", lambda *args: RecordingClient())
    _fails_with(["drivers", "get", "d9"], "500", "kept in /state/logs/bench-failed-1")


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, state: Path) -> None:
    import replay.runner

    def bug(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(replay.runner, "run_replay", bug)
    result = runner.invoke(app, ["replay", "--backend", "inprocess"])
    assert isinstance(result.exception, KeyError)


# What a live replay leaves running ------------------------------------------------------


def _state(*pids: int | None) -> StackState:
    kafka, redis, postgres = (
        Component(name, f"127.0.0.1:{n}", pid)
        for n, (name, pid) in enumerate(zip(("kafka", "redis", "postgres"), pids, strict=True))
    )
    return StackState(kafka, redis, postgres)


def test_a_replay_lists_the_servers_left_running_and_how_to_stop_them() -> None:
    lines = left_running(_state(11, None, None), _state(11, None, 33))
    assert lines[0].endswith("(stop them: swifteats stack down):")
    assert "kafka" in lines[1] and "pid 11, started earlier by the stack" in lines[1]
    assert "postgres" in lines[2] and "pid 33, started now" in lines[2]
    assert len(lines) == 3


def test_a_replay_on_servers_already_running_says_it_started_none() -> None:
    assert left_running(None, _state(None, None, None)) == [
        "servers: every one was already running; swifteats started none"
    ]


@pytest.mark.parametrize(
    ("error", "message", "fix"),
    [
        (
            ServiceStartError(
                "order-service exited with 1", Path("o.log"), "[Errno 98] address already in use"
            ),
            "order-service exited with 1: its port is in use",
            "PORT=3100",
        ),
        (OSError(98, "Address already in use"), "port in use", "another port"),
        (FileNotFoundError(2, "No such file", "x.csv"), "no such file or folder: x.csv", None),
    ],
)
def test_explain_says_what_went_wrong_and_the_fix(
    error: Exception, message: str, fix: str | None
) -> None:
    explained = explain(error)
    assert explained is not None and message in explained.message
    assert (explained.fix is None) if fix is None else (fix in (explained.fix or ""))


def test_explain_names_the_server_that_does_not_answer() -> None:
    import psycopg
    import redis

    for error, server in [
        (psycopg.OperationalError("connection refused\nIs the server running?"), "PostgreSQL"),
        (redis.ConnectionError("Error 111 connecting to 127.0.0.1:1"), "Redis"),
    ]:
        explained = explain(error)
        assert explained is not None and f"cannot reach {server}" in explained.message
        assert explained.fix == "swifteats stack up"
    assert explain(KeyError("a bug")) is None
