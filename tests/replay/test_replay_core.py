"""The in-process replay: simulated clock, fleet timing, order logs, runs and their outputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.inprocess import InProcessEngine
from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from replay.orderlog import (
    OrderLogError,
    parse_drivers,
    parse_orders,
    write_drivers_csv,
    write_orders_csv,
)
from replay.runner import RunRequest, load_order_log, run_replay
from replay.sample import SampleSpec, generate_sample
from replay.scheduler import Priority, Scheduler
from replay.service_config import ServiceConfig
from replay.simulation import Replay, ReplayConfig, RunResult
from swifteats.cli import app
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.fleet import ServiceTimes, plan_trip
from swifteats.domain.geo import Point
from swifteats.domain.scoring import ScoringWeights

DAY = datetime(2026, 1, 1, tzinfo=UTC)
RESTAURANT = Point(40.7128, -74.0060)
DESIGN = ScoringWeights()


def _order(order_id: str, placed: float, ready: float) -> LoggedOrder:
    return LoggedOrder(order_id, placed, "r1", RESTAURANT, Point(40.7228, -74.0060), ready)


def _run(
    orders: list[LoggedOrder],
    drivers: list[DriverShift],
    weights: ScoringWeights = DESIGN,
) -> RunResult:
    data = ReplayInput("t", tuple(orders), tuple(drivers), ServiceTimes(), ConstantSpeedEta(), "")
    config = ServiceConfig("greedy-score", weights, data.eta, pickup_lead_minutes=2.0)
    engine = InProcessEngine(config.settings(), DAY)
    return Replay(data, engine, Scheduler(DAY), ReplayConfig()).run()


def test_events_run_instant_by_instant_by_priority_then_insertion() -> None:
    scheduler = Scheduler(DAY)
    seen: list[object] = []
    for minute, priority, name in [
        (5.0, Priority.ORDER, "b"),
        (5.0, Priority.DRIVER_FREE, "a"),
        (5.0, Priority.ORDER, "c"),
        (1.0, Priority.ORDER, "first"),
    ]:
        scheduler.at(minute, priority, seen.append, name)
    scheduler.run_until(after_instant=lambda: seen.append(scheduler.now()))
    assert seen == [
        "first",
        datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
        "a",
        "b",
        "c",
        datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
    ]


def test_a_trip_follows_the_mdrp_timing_convention() -> None:
    trip = plan_trip(
        driver_id="d",
        order_id="o",
        now=100.0,
        driver_at=Point(40.7128, -74.0160),
        restaurant=RESTAURANT,
        customer=Point(40.7228, -74.0060),
        ready_at=110.0,
        eta=ConstantSpeedEta(),
        service=ServiceTimes(4, 4),
    )
    assert trip.arrive_restaurant == 105.0  # 0.84 km at 30 km/h → 2 min, floored to 5
    assert trip.pickup == 110.0  # waits for the food
    assert trip.depart_restaurant == 112.0
    assert trip.arrive_customer == 117.0
    assert trip.dropoff == 119.0
    assert trip.free_at == 121.0


def test_one_driver_never_carries_two_orders_at_once_and_the_second_is_retried() -> None:
    result = _run(
        [_order("o1", 600, 610), _order("o2", 610, 615)],
        [DriverShift("d1", RESTAURANT, 0, 24 * 60)],
    )
    first, second = (result.outcomes[o].trip for o in ("o1", "o2"))
    assert first is not None and second is not None
    assert second.assigned_at >= first.free_at
    assert result.outcomes["o2"].attempts > 1


def test_drivers_are_idle_from_their_shift_start_for_the_idle_bonus() -> None:
    orders = [_order("o1", 600, 630)]
    drivers = [
        DriverShift("near", RESTAURANT, 590, 24 * 60),  # on shift 10 minutes
        DriverShift("far", Point(40.7228, -74.0060), 0, 24 * 60),  # 1.1 km, on shift 10 h
    ]
    fair = ScoringWeights(idle_bonus_per_minute=1.0)

    chosen = {
        name: outcome.trip.driver_id
        for name, weights in (("design", DESIGN), ("fair", fair))
        if (outcome := _run(orders, drivers, weights).outcomes["o1"]).trip is not None
    }

    assert chosen == {"design": "near", "fair": "far"}


def test_nobody_is_assigned_outside_a_shift() -> None:
    result = _run([_order("o1", 600, 610)], [DriverShift("d1", RESTAURANT, 700, 800)])
    outcome = result.outcomes["o1"]
    assert outcome.trip is None
    assert outcome.attempts == 5
    assert outcome.last_error == "No available drivers in area"


def test_the_same_input_replays_identically() -> None:
    orders, drivers = generate_sample(SampleSpec(orders=120, drivers=15))
    first, second = _run(orders, drivers), _run(orders, drivers)
    assert [t for t in first.trips] == [t for t in second.trips]


def test_the_sample_is_seeded() -> None:
    assert generate_sample(SampleSpec(seed=3)) == generate_sample(SampleSpec(seed=3))
    assert generate_sample(SampleSpec(seed=3)) != generate_sample(SampleSpec(seed=4))
    orders, drivers = generate_sample(SampleSpec())
    assert (len(orders), len(drivers)) == (500, 60)
    assert all(o.ready_at > o.placed_at for o in orders)


def test_order_logs_round_trip_through_csv(tmp_path: Path) -> None:
    orders, drivers = generate_sample(SampleSpec(orders=30, drivers=5))
    write_orders_csv(tmp_path / "o.csv", orders)
    write_drivers_csv(tmp_path / "d.csv", drivers)
    assert parse_orders(tmp_path / "o.csv", DAY) == orders
    assert parse_drivers(tmp_path / "d.csv", DAY) == drivers


def test_a_malformed_log_names_rows_and_columns(tmp_path: Path) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(
        "order_id,placed_at,restaurant_id,restaurant_lat,restaurant_lon,customer_lat,"
        "customer_lon,prep_minutes\n"
        "o1,600,r1,40.7,-74.0,40.71,-74.0,10\n"
        "o2,600,r1,95.0,-74.0,40.71,-74.0,10\n"
        "o3,soon,r1,40.7,-74.0,40.71,-74.0,10\n"
    )
    with pytest.raises(OrderLogError) as error:
        parse_orders(log, DAY)
    assert "row 3, column restaurant_lat: invalid coordinates" in str(error.value)
    assert "row 4, column placed_at: not a number: 'soon'" in str(error.value)


def test_iso_instants_are_minutes_from_midnight_utc(tmp_path: Path) -> None:
    log = tmp_path / "iso.csv"
    log.write_text(
        "order_id,placed_at,restaurant_id,restaurant_lat,restaurant_lon,customer_lat,"
        "customer_lon,ready_at\n"
        "o1,2026-03-02T12:30:00Z,r1,40.7,-74.0,40.71,-74.0,2026-03-02T12:45:00+00:00\n"
    )
    (order,) = parse_orders(log, datetime(2026, 3, 2, tzinfo=UTC))
    assert (order.placed_at, order.ready_at) == (750.0, 765.0)


def test_a_run_writes_its_tables_and_manifest(tmp_path: Path) -> None:
    orders, drivers = generate_sample(SampleSpec(orders=80, drivers=12))
    write_orders_csv(tmp_path / "o.csv", orders)
    write_drivers_csv(tmp_path / "d.csv", drivers)
    summary = run_replay(
        load_order_log(tmp_path / "o.csv", tmp_path / "d.csv"), RunRequest(), tmp_path / "run"
    )
    table = pl.read_parquet(tmp_path / "run" / "orders.parquet")
    assert table.height == 80 == summary.orders
    assert summary.delivered == table.filter(pl.col("outcome") == "delivered").height > 0
    delivered = table.filter(pl.col("outcome") == "delivered")
    assert (delivered["dropoff_min"] > delivered["pickup_min"]).all()
    assert (delivered["pickup_min"] >= delivered["ready_min"]).all()
    decisions = pl.read_parquet(tmp_path / "run" / "decisions.parquet")
    assert decisions.filter(pl.col("chosen")).height == summary.delivered
    latency = pl.read_parquet(tmp_path / "run" / "latency.parquet")
    assert latency.height == table["attempts"].sum()
    assert {"answer_ms", "search_ms", "scoring_ms", "claim_ms", "total_ms"} <= set(latency.columns)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["backend"] == "inprocess"
    assert manifest["weights"]["base"] == 100.0
    assert len(manifest["input_sha256"]) == 64


def test_swifteats_replay_without_input_replays_the_bundled_sample(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["replay", "--backend", "inprocess", "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.split("\n", 1)[1])  # stderr: progress
    assert summary["orders"] == 500
    assert summary["delivered"] > 400


def test_order_logs_read_the_same_from_parquet(tmp_path: Path) -> None:
    orders, _ = generate_sample(SampleSpec(orders=25, drivers=3))
    write_orders_csv(tmp_path / "o.csv", orders)
    pl.read_csv(tmp_path / "o.csv").write_parquet(tmp_path / "o.parquet")
    assert parse_orders(tmp_path / "o.parquet", DAY) == orders


def test_moving_drivers_report_their_position_along_the_way() -> None:
    result = _run([_order("o1", 600, 630)], [DriverShift("d1", Point(40.68, -74.0060), 0, 1440)])
    trip = result.outcomes["o1"].trip
    assert trip is not None
    moves = [r for r in result.timeline if r["state"] == "moving"]
    times = [r["time"] for r in moves]
    assert times and all(trip.assigned_at < t < trip.arrive_customer for t in times)
    assert all(b - a >= 2.0 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    latitudes = [r["latitude"] for r in moves if r["time"] < trip.arrive_restaurant]
    assert latitudes == sorted(latitudes)  # heading north to the restaurant


def test_run_until_stops_at_its_minute_and_paces_each_instant_first() -> None:
    scheduler = Scheduler(DAY)
    paced: list[float] = []
    for minute in (10.0, 20.0, 30.0):
        scheduler.at(minute, Priority.ORDER, lambda _: paced.append(scheduler.minutes))
    scheduler.run_until(20.0, pace=paced.append)
    assert paced == [10.0, 10.0, 20.0, 20.0]  # paced before each instant is played
    assert scheduler.minutes == 20.0 and scheduler.peek() == 30.0


def test_a_paced_in_process_run_assigns_as_lockstep_does(tmp_path: Path) -> None:
    orders, drivers = generate_sample(SampleSpec(orders=30, drivers=6))
    write_orders_csv(tmp_path / "o.csv", orders)
    write_drivers_csv(tmp_path / "d.csv", drivers)
    loaded = load_order_log(tmp_path / "o.csv", tmp_path / "d.csv")
    tables = {}
    for clock in ("lockstep", "paced"):
        run_replay(loaded, RunRequest(clock=clock, speed=20_000), tmp_path / clock)
        tables[clock] = pl.read_parquet(tmp_path / clock / "orders.parquet").sort("order_id")
    assert tables["paced"]["driver_id"].to_list() == tables["lockstep"]["driver_id"].to_list()
    manifest = json.loads((tmp_path / "paced" / "manifest.json").read_text())
    assert (manifest["mode"], manifest["speed"]) == ("paced", 20_000)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--policy", "cheapest"], "'cheapest' is not one of"),
        (["--clock", "fast"], "'fast' is not one of"),
        (["--clock", "paced", "--speed", "0"], "speed must be positive"),
        (["--backend", "cloud"], "'cloud' is not one of"),
    ],
)
def test_replay_options_are_checked_before_anything_runs(
    options: list[str], message: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["replay", *options, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "run").exists()
