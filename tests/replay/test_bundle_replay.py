"""Windowed policies in the in-process replay: bundles picked up together, dropped off in
sequence, written as the MDRP evaluator's files and passed by our checker."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from replay.mdrp.check import check_solution
from replay.mdrp.instance import read_instance
from replay.mdrp.solution import ASSIGNMENTS, COURIERS, ORDERS
from replay.policy_bench import bench_policies, format_table
from replay.runner import RunRequest, load_input, run_replay

PARAMETERS = (
    "meters_per_minute\tpickup service minutes\tdropoff service minutes\t"
    "target click-to-door\tmaximum click-to-door\tpay per order\tguaranteed pay per hour\n"
    "320\t4\t4\t40\t90\t10\t15\n"
)


def write_instance(folder: Path, orders: list[str], couriers: list[str]) -> Path:
    """A tiny instance: restaurant r1 at the origin, 320 m = one minute."""
    folder.mkdir(parents=True)
    (folder / "restaurants.txt").write_text("restaurant\tx\ty\nr1\t0\t0\nr2\t0\t9600\n")
    (folder / "orders.txt").write_text(
        "order\tx\ty\tplacement_time\trestaurant\tready_time\n" + "".join(orders)
    )
    (folder / "couriers.txt").write_text("courier\tx\ty\ton_time\toff_time\n" + "".join(couriers))
    (folder / "instance_parameters.txt").write_text(PARAMETERS)
    return folder


@pytest.fixture
def two_orders_one_courier(tmp_path: Path) -> Path:
    """Two orders of r1 placed together, doors 5 and 10 minutes east; one courier 5 minutes
    west. The courier takes both: pickup at 31, doors at 38 and 47 (+2 each)."""
    return write_instance(
        tmp_path / "bundle",
        ["o1\t1600\t0\t10\tr1\t30\n", "o2\t3200\t0\t10\tr1\t31\n"],
        ["c1\t-1600\t0\t0\t200\n"],
    )


@pytest.mark.parametrize("policy", ["bundling", "rolling-horizon"])
def test_a_bundle_is_picked_up_together_and_dropped_off_in_sequence(
    two_orders_one_courier: Path, tmp_path: Path, policy: str
) -> None:
    run_dir = tmp_path / "run"
    summary = run_replay(
        load_input(two_orders_one_courier, None), RunRequest(policy=policy), run_dir
    )
    assert summary.delivered == 2
    orders = pl.read_parquet(run_dir / "orders.parquet").sort("dropoff_min")
    assert orders["order_id"].to_list() == ["o1", "o2"]
    assert orders["driver_id"].to_list() == ["c1", "c1"]
    assert orders["pickup_min"].to_list() == [31.0, 31.0]
    assert orders["dropoff_min"].to_list() == [40.0, 49.0]
    assert orders["bundle_size"].to_list() == [2, 2]
    mdrp = run_dir / "mdrp"
    assert (mdrp / ASSIGNMENTS).read_text().splitlines()[1].split(" ")[1:] == [
        "31",
        "c1",
        "o1",
        "o2",
    ]
    assert (mdrp / ORDERS).read_text().splitlines()[1:] == [
        "o1 10 30 31 40 c1",
        "o2 10 31 31 49 c1",
    ]
    moves = (mdrp / COURIERS).read_text().splitlines()[1:]
    assert [m.split(" ", 2)[2] for m in moves] == ["0 r1", "r1 o1", "o1 o2"]
    report = check_solution(mdrp, read_instance(two_orders_one_courier))
    assert report.feasible, report.violations
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["mdrp_check"]["feasible"] and manifest["policy"] == policy


def test_an_order_nobody_can_take_yet_stays_open_until_a_courier_comes(tmp_path: Path) -> None:
    """The only courier starts two hours after the order: greedy with the design's five
    attempts gives up; by default on MDRP inputs it keeps the order open, as a windowed
    policy does, and delivers it."""
    instance = write_instance(
        tmp_path / "late",
        ["o1\t1600\t0\t10\tr1\t20\n"],
        ["c1\t-1600\t0\t130\t300\n"],
    )
    loaded = load_input(instance, None)
    greedy = run_replay(loaded, RunRequest(radius_km=50, max_attempts=5), tmp_path / "greedy")
    assert greedy.delivered == 0
    kept = run_replay(loaded, RunRequest(radius_km=50), tmp_path / "kept")
    assert kept.delivered == 1
    for policy in ("batch-matching", "bundling", "rolling-horizon"):
        held = run_replay(loaded, RunRequest(policy=policy), tmp_path / policy)
        assert held.delivered == 1, policy


def test_a_queued_route_starts_at_the_last_door(tmp_path: Path) -> None:
    """One courier, two orders of different restaurants: the second is queued while the
    courier is on the first, and it leaves the first door for the second restaurant."""
    instance = write_instance(
        tmp_path / "queue",
        ["o1\t1600\t0\t10\tr1\t12\n", "o2\t0\t9000\t12\tr2\t30\n"],
        ["c1\t-1600\t0\t0\t300\n"],
    )
    run_dir = tmp_path / "run"
    run_replay(load_input(instance, None), RunRequest(policy="bundling", radius_km=50), run_dir)
    moves = (run_dir / "mdrp" / COURIERS).read_text().splitlines()[1:]
    assert [m.split(" ")[2:] for m in moves] == [
        ["0", "r1"],
        ["r1", "o1"],
        ["o1", "r2"],
        ["r2", "o2"],
    ]
    assert check_solution(run_dir / "mdrp", read_instance(instance)).feasible


def test_the_policy_bench_judges_each_policy_by_the_checker(
    two_orders_one_courier: Path, tmp_path: Path
) -> None:
    outcome = bench_policies(
        [two_orders_one_courier], tmp_path / "bench", policies=["greedy-score", "bundling"]
    )
    assert outcome.failures == {}
    rows = {r["policy"]: r for r in outcome.summary.iter_rows(named=True)}
    assert rows["bundling"]["feasible"] == 1 and rows["bundling"]["undelivered_pct"] == 0.0
    assert rows["greedy-score"]["undelivered_pct"] == 0.0  # kept open until the courier frees
    design = bench_policies(
        [two_orders_one_courier], tmp_path / "bench5", policies=["greedy-score"], max_attempts=5
    )
    row = design.summary.row(0, named=True)
    assert row["policy"] == "greedy-score-max5"
    assert row["undelivered_pct"] == 50.0  # one courier, one order at a time, gives up
    assert row["click_to_door_all_mean"] > row["click_to_door_mean"]
    assert "| bundling | 1/1 | 0.00 % | 34.50 |" in format_table(outcome.summary)
    again = bench_policies(
        [two_orders_one_courier], tmp_path / "bench", policies=["greedy-score", "bundling"]
    )
    assert again.results.equals(outcome.results)  # nothing re-run


@pytest.mark.parametrize(
    "policy", ["greedy-score", "batch-matching", "bundling", "rolling-horizon"]
)
def test_a_courier_who_starts_at_the_restaurant_door_breaks_no_mdrp_rule(
    tmp_path: Path, policy: str
) -> None:
    """c1 starts at r2's door: the evaluator's move there has no length, so c1 cannot be
    sent from its start (it used to be, with a minute of travel from the driver index's
    rounding of its position); c2, ten minutes away, takes the order."""
    instance = write_instance(
        tmp_path / "door",
        ["o1\t1600\t9600\t10\tr2\t30\n"],
        ["c1\t0\t9600\t0\t200\n", "c2\t0\t6400\t0\t200\n"],
    )
    run_dir = tmp_path / "run"
    summary = run_replay(load_input(instance, None), RunRequest(policy=policy), run_dir)
    report = check_solution(run_dir / "mdrp", read_instance(instance))
    assert report.feasible, report.violations
    assert summary.delivered == 1
