"""The benchmark's pure parts: percentiles, the backlog, "sustained", step figures, layout."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from swifteats.bench.assign_step import size_label
from swifteats.bench.cli import bench_app
from swifteats.bench.e2e_figures import step_figures
from swifteats.bench.fleet import Area
from swifteats.bench.loadgen import Offer, Sent
from swifteats.bench.overload import overload_figures
from swifteats.bench.plot import curve_rates, write_png
from swifteats.bench.report import HEADLINE_KEYS, TARGETS, finish, lookup, render, write_json
from swifteats.bench.runner import BenchOptions
from swifteats.bench.stats import (
    StepLoad,
    backlog_series,
    growth_per_s,
    limited_by,
    slope,
    summarise,
    sustained,
)


def test_summarise_uses_nearest_rank_like_the_services() -> None:
    figures = summarise(float(v) for v in range(1, 101))
    assert figures == {"p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0, "count": 100}
    assert summarise([]) == {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    assert summarise([7.0])["p99"] == 7.0


def test_backlog_counts_arrived_minus_done_at_each_instant() -> None:
    arrived = [0.1, 0.2, 0.6, 0.7, 1.2]
    done = [0.3, 0.9, 1.4]
    series = backlog_series(arrived, done, start=0.0, end=1.5, every_s=0.5)
    assert series == [(0.5, 1), (1.0, 2), (1.5, 2)]


def test_slope_and_growth() -> None:
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(1, 4)]) == 0.0
    assert slope([(1, 4), (1, 5)]) == 0.0
    flat_then_rising = [(t / 2, 0 if t < 10 else 10 * (t - 10)) for t in range(20)]
    assert growth_per_s(flat_then_rising) == pytest.approx(20.0)


def _step(offered: float, sent: float, done: float, growth: float) -> StepLoad:
    return StepLoad(offered, sent, done, growth)


@pytest.mark.parametrize(
    ("step", "verdict"),
    [
        (_step(100, 100, 99, 0.5), None),
        (_step(100, 100, 91, 2.0), None),  # the last orders finish just after the step
        (_step(100, 80, 80, 0.0), "generator"),  # the offer was never made
        (_step(100, 100, 85, 0.0), "system"),  # completions fall short
        (_step(100, 100, 95, 12.0), "system"),  # the backlog keeps growing
    ],
)
def test_limited_by(step: StepLoad, verdict: str | None) -> None:
    assert limited_by(step) == verdict


def test_sustained_is_the_most_assignments_per_second_achieved_over_a_sustained_step() -> None:
    steps = [
        _step(800, 800, 300, 60.0),  # the backlog of accepted orders grows
        _step(50, 50, 30, 8.0),  # disturbed by something else on the machine …
        _step(200, 200, 191, 0.5),  # … for 191/s were assigned over a whole step at 200/s
        _step(100, 100, 99, 0.0),
        _step(400, 300, 290, 0.0),  # the generator fell short: the offer was not made
    ]
    assert sustained(steps) == 191  # achieved, not offered
    assert sustained([_step(400, 400, 180, 0.0)]) == 180  # the rest was shed at the door
    assert sustained([_step(50, 50, 10, 10.0)]) == 0
    assert sustained([]) == 0


def _stamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_step_figures_from_what_was_sent_stored_and_logged() -> None:
    start = 1_000.0
    sent = tuple(
        Sent(i, start + i * 0.1, start + i * 0.1, start + i * 0.1 + 0.02, 201) for i in range(10)
    )
    sent += (Sent(10, start + 1, start + 1, start + 1.001, 503),)
    rows: list[dict[str, Any]] = [
        {
            "id": f"r10-{i}",
            "status": "assigned_driver",
            "attempts": 1,
            "last_error": None,
            "failed_at": None,
            "accepted_at": _stamp(start + i * 0.1 + 0.005),
            "request_published_at": _stamp(start + i * 0.1 + 0.010),
            "request_consumed_at": _stamp(start + i * 0.1 + 0.015),
            "decided_at": _stamp(start + i * 0.1 + 0.020),
            "response_consumed_at": _stamp(start + i * 0.1 + 0.050),
        }
        for i in range(9)
    ]
    rows[8] = {**rows[8], "attempts": 2}  # retried: out of the stages, in the p99 of all
    rows.append({**rows[0], "id": "r10-9", "status": "new_order", "response_consumed_at": None})
    decisions = [
        {"orderId": f"r10-{i}", "driversInArea": 12, "timingsMs": {"search": 1.5, "total": 3.0}}
        for i in range(9)
    ]

    offer = Offer(10.0, 1.0, start, sent).offered()
    figures = step_figures(offer, rows, decisions, deadline=start + 61)

    assert figures["accepted"] == 10 and figures["shed"] == 1 and figures["errors"] == {"503": 1}
    assert figures["assigned"] == 9 and figures["undecided"] == 1 and figures["retried"] == 1
    assert figures["achieved_per_s"] == pytest.approx(11.0, abs=0.1)
    assert figures["completed_per_s"] == 9.0
    assert figures["backlog_end"] == 1
    assert figures["drivers_found"]["p50"] == 12.0
    latency = figures["latency_ms"]
    assert latency["placed_to_assigned"]["p99"] == pytest.approx(45.0, abs=0.01)
    assert latency["outbox_to_kafka"]["count"] == 8  # first attempts only
    every = latency["placed_to_assigned_all"]  # the undecided one counts at the deadline
    assert every["count"] == 10 and every["max"] == pytest.approx(60_995.0, abs=0.01)
    assert latency["http_post"]["p50"] == pytest.approx(20.0, abs=0.01)
    assert latency["search"]["p50"] == 1.5 and latency["claim"]["count"] == 0


def test_the_fleet_square_puts_the_wanted_number_in_a_search() -> None:
    area = Area.for_fleet(10_000, found=150, radius_km=5)
    assert 10_000 * math.pi * 25 / area.side_km**2 == pytest.approx(150)
    assert Area.for_fleet(100, found=150, radius_km=5).side_km == pytest.approx(
        math.sqrt(math.pi * 25)
    )  # a fleet smaller than the wanted count fits in one search circle
    assert [size_label(n) for n in (1_000, 10_000, 100_000, 500, 1_500)] == [
        "1k",
        "10k",
        "100k",
        "500",
        "1500",
    ]


def _results() -> dict[str, Any]:
    latency = {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0, "count": 5}
    step = {
        "offered_per_s": 200.0,
        "achieved_per_s": 199.0,
        "completed_per_s": 198.0,
        "backlog_end": 3,
        "backlog_growth_per_s": 0.1,
        "limited_by": None,
        "latency_ms": {"http_post": latency, "placed_to_assigned_all": latency},
    }
    return {
        "e2e": {
            "max_sustained_orders_per_s": 200.0,
            "p99_placed_to_assigned_ms_at_200": 30.0,
            "steps": [step],
        },
        "overload": {
            "capacity_orders_per_s": 200.0,
            "goodput_ratio_2x": 0.95,
            "steps_2x": {
                "offered_per_s": 400.0,
                "goodput_per_s": 190.0,
                "goodput_ratio": 0.95,
                "accepted": 4000,
                "shed": 4000,
                "failed": 0,
                "undecided": 0,
                "p99_placed_to_assigned_ms": 900.0,
            },
        },
        "assign_step": {
            "p99_ms_10k": 2.5,
            "sizes": {
                "10k": {
                    "found_per_search": latency,
                    "latency_ms": dict.fromkeys(("search", "scoring", "claim", "total"), latency),
                }
            },
        },
        "replay": {"inprocess_orders_per_s": 2_100.0, "inprocess": {}},
    }


def test_the_json_layout_nests_every_headline_key_and_repeats_it_flat(tmp_path: Path) -> None:
    finished = finish(_results())
    assert list(finished["headline"]) == list(HEADLINE_KEYS) == [t.key for t in TARGETS]
    assert finished["headline"]["e2e.max_sustained_orders_per_s"] == 200.0
    assert finished["headline"]["assign_step.p99_ms_100k"] is None
    verdicts = {row["key"]: row["met"] for row in finished["targets"]}
    assert verdicts == {
        "e2e.max_sustained_orders_per_s": False,
        "e2e.p99_placed_to_assigned_ms_at_100": None,
        "e2e.p99_placed_to_assigned_ms_at_200": True,
        "overload.goodput_ratio_2x": True,
        "overload.goodput_ratio_4x": None,
        "assign_step.p99_ms_10k": False,
        "assign_step.p99_ms_100k": None,
        "replay.inprocess_orders_per_s": False,
        "replay.live_lockstep_7o100_s": None,
        "replay.live_lockstep_7o100_windowed_s": None,
    }
    write_json(finished, tmp_path / "out" / "bench.json")
    again = json.loads((tmp_path / "out" / "bench.json").read_text())
    for key in HEADLINE_KEYS:
        assert lookup(again, key) == again["headline"][key]
    assert lookup(again, "e2e.steps") == finished["e2e"]["steps"]
    assert lookup(again, "e2e.nothing.here") is None


def test_the_table_shows_every_target_and_verdict() -> None:
    table = render(finish(_results()))
    assert table.count("NOT met") == 3 and table.count("not measured") == 5
    assert "kept up" in table and "10k" in table
    assert "overload (capacity 200/s)" in table and "0.95" in table


def test_quick_runs_fewer_rates_and_no_lockstep() -> None:
    quick, full = BenchOptions.preset(quick=True), BenchOptions.preset()
    assert max(quick.e2e.rates) == 200 and quick.replay.lockstep is None
    assert quick.e2e.overload is not None and quick.e2e.overload.step_s == 20
    assert full.e2e.overload is not None and full.e2e.overload.factors == (2.0, 4.0)
    assert full.e2e.overload.step_s == 60 and full.e2e.plot is None
    assert max(full.e2e.rates) == 1200 and full.replay.lockstep == "7o100t100s1p100"
    assert quick.assign.sizes == full.assign.sizes == (1_000, 10_000, 100_000)


def test_the_cli_runs_everything_by_default_or_as_all(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    import swifteats.bench.cli as cli

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "_run_all", lambda **kwargs: calls.append(kwargs))
    app = typer.Typer()
    app.add_typer(bench_app, name="bench")  # as swifteats/cli.py mounts it
    runner = CliRunner()
    assert runner.invoke(app, ["bench", "--quick", "--json", "out.json"]).exit_code == 0
    assert runner.invoke(app, ["bench", "all", "--plot"]).exit_code == 0
    assert runner.invoke(app, ["bench", "--only", "replay", "--only", "e2e"]).exit_code == 0
    assert calls == [
        {"quick": True, "json_file": Path("out.json"), "plot": False, "only": None},
        {"quick": False, "json_file": None, "plot": True, "only": None},
        {"quick": False, "json_file": None, "plot": False, "only": ["replay", "e2e"]},
    ]
    help_text = runner.invoke(app, ["bench", "--help"], env={"COLUMNS": "2000"}).output
    assert "--quick" in help_text and "--json" in help_text and "all" in help_text
    assert "replay|assign_step|e2e|lockstep" in help_text


def test_the_goodput_curve_runs_from_25_per_s_to_four_times_capacity(tmp_path: Path) -> None:
    assert curve_rates(400) == [25.0 * k for k in range(1, 17)]
    many = curve_rates(4000)
    assert many[0] == 25 and many[-1] == 4000 and len(many) == 16
    points = [
        {"offered_per_s": r, "accepted_per_s": min(r, 100.0), "assigned_per_s": min(r, 95.0)}
        for r in curve_rates(400)
    ]
    write_png(points, 100.0, tmp_path / "docs" / "goodput.png", generator="wrk")
    assert (tmp_path / "docs" / "goodput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overload_figures_divide_goodput_by_capacity() -> None:
    step = {
        "offered_per_s": 400.0,
        "completed_per_s": 92.0,
        "sent": 4000,
        "accepted": 1000,
        "shed": 3000,
        "assigned": 1000,
        "failed": 0,
        "failed_reasons": {},
        "undecided": 0,
        "latency_ms": {"placed_to_assigned_all": {"p99": 850.0}},
    }
    figures = overload_figures(step, capacity=100.0)
    assert figures["goodput_ratio"] == 0.92 and figures["shed_share"] == 0.75
    assert figures["p99_placed_to_assigned_ms"] == 850.0
