"""Progress of long work: the port's ticks, the plain lines off a terminal, the callers."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.orderlog import write_drivers_csv, write_orders_csv
from replay.runner import RunRequest, load_order_log, run_replay
from replay.sample import SampleSpec, generate_sample
from replay.sweep_cli import SweepOptions, sweep_command
from swifteats.bench.replay_speed import ReplaySpeedOptions
from swifteats.bench.runner import BenchOptions, run_bench
from swifteats.cli import app
from swifteats.cli.progress import PlainLines, describe, progress_reporter
from swifteats.progress import Tick, counted


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_plain_line_says_count_share_in_flight_simulated_time_elapsed_and_eta() -> None:
    tick = Tick(120, 480, "orders", in_flight=3, simulated="2026-01-01 12:30")
    assert describe("replay", tick, elapsed_s=75, eta_s=225) == (
        "replay: 120/480 orders (25 %), 3 in flight, simulated 2026-01-01 12:30,"
        " elapsed 0:01:15, ETA 0:03:45"
    )
    assert describe("bench", Tick(0, None, "phases", note="end to end"), 3) == (
        "bench: 0 phases, end to end, elapsed 0:00:03"
    )


def test_off_a_terminal_one_line_every_interval_and_the_last_tick_at_the_end() -> None:
    out, clock = io.StringIO(), FakeClock()
    lines = PlainLines("sweep", out, interval_s=5.0, clock=clock)
    for done in range(1, 31):  # 30 ticks over 15 seconds
        clock.now += 0.5
        lines(Tick(done, 30, "runs"))
    lines.close()
    assert out.getvalue().splitlines() == [
        "sweep: 10/30 runs (33 %), elapsed 0:00:05, ETA 0:00:10",
        "sweep: 20/30 runs (67 %), elapsed 0:00:10, ETA 0:00:05",
        "sweep: 30/30 runs (100 %), elapsed 0:00:15, ETA 0:00:00",
    ]


def test_the_reporter_writes_plain_lines_when_the_stream_is_no_terminal() -> None:
    out = io.StringIO()
    with progress_reporter("replay", stream=out) as sink:
        sink(Tick(5, 10, "orders"))
        sink(Tick(10, 10, "orders"))
    assert out.getvalue().startswith("replay: 10/10 orders (100 %)")
    assert "\x1b[" not in out.getvalue()  # no terminal codes


def test_the_reporter_draws_a_rich_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    with progress_reporter("replay", stream=out) as sink:
        sink(Tick(7, 10, "orders", in_flight=2, simulated="2026-01-01 12:00"))
    text = out.getvalue()
    assert "orders, 2 in flight, simulated 2026-01-01 12:00" in text and "━" in text


def _sample(tmp_path: Path, orders: int = 40, drivers: int = 6) -> tuple[Path, Path]:
    logged, shifts = generate_sample(SampleSpec(orders=orders, drivers=drivers))
    write_orders_csv(tmp_path / "o.csv", logged)
    write_drivers_csv(tmp_path / "d.csv", shifts)
    return tmp_path / "o.csv", tmp_path / "d.csv"


def test_a_replay_reports_answered_orders_in_flight_and_simulated_time(tmp_path: Path) -> None:
    ticks: list[Tick] = []
    loaded = load_order_log(*_sample(tmp_path))
    summary = run_replay(loaded, RunRequest(), tmp_path / "run", progress=ticks.append)
    assert len(ticks) > 10
    assert all(t.total == 40 and t.unit == "orders" for t in ticks)
    assert [t.done for t in ticks] == sorted(t.done for t in ticks)
    assert max(t.in_flight or 0 for t in ticks) >= 1
    last = ticks[-1]
    assert last.done == summary.as_dict()["orders"] - _unanswered(tmp_path / "run")
    assert last.in_flight == 0 and last.simulated is not None
    assert last.simulated.startswith(loaded.day_start.strftime("%Y-%m-%d"))


def _unanswered(run_dir: Path) -> int:
    import polars as pl

    orders = pl.read_parquet(run_dir / "orders.parquet")
    return orders.filter(pl.col("attempts") == 0).height


def test_the_replay_command_prints_its_progress_on_stderr(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["replay", "--backend", "inprocess", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert "replay: " in result.stderr and " orders (" in result.stderr
    assert "replay: " not in result.stdout


def test_a_sweep_reports_its_runs(tmp_path: Path) -> None:
    ticks: list[Tick] = []
    options = SweepOptions(
        out=tmp_path / "sweep", inputs=("generated:orders=20,drivers=3",), seeds=2, workers=1
    )
    sweep_command(options, echo=lambda _: None, progress=ticks.append)
    assert ticks[0] == Tick(0, 2, "runs") and ticks[-1] == Tick(2, 2, "runs")


def test_counted_feeds_a_sink_or_nothing() -> None:
    ticks: list[Tick] = []
    counted(ticks.append, "runs")(3, 8)
    counted(None, "runs")(3, 8)
    assert ticks == [Tick(3, 8, "runs")]


def test_the_benchmark_reports_each_phase(tmp_path: Path) -> None:
    ticks: list[Tick] = []
    replay = ReplaySpeedOptions(in_process=(), repeats=1, lockstep=None)
    options = BenchOptions(sections=("replay",), replay=replay)
    run_bench(options, echo=lambda _: None, progress=ticks.append)
    assert ticks == [
        Tick(0, 1, "phases", note="replay, in process"),
        Tick(1, 1, "phases", note="done"),
    ]


def test_stdout_to_a_file_keeps_what_is_printed_beside_the_bar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar, stdout = Terminal(), io.StringIO()  # a terminal for progress, a file for stdout
    monkeypatch.setattr(sys, "stdout", stdout)
    with progress_reporter("sweep", stream=bar) as sink:
        sink(Tick(1, 2, "runs"))
        print("the report")
    assert stdout.getvalue() == "the report\n" and "the report" not in bar.getvalue()
