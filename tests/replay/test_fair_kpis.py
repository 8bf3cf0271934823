"""Fair KPIs: orders kept open until served or the day ends, the undelivered share and
click-to-door over all orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from replay.outputs import click_to_door_all
from replay.runner import LoadedInput, RunRequest, run_replay
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.retry import RetryPolicy

DAY = datetime(2026, 1, 1, tzinfo=UTC)
RESTAURANT = Point(40.7128, -74.0060)
FAR = Point(40.8028, -74.0060)  # 10 km north: the one driver is away for half an hour
NEAR = Point(40.7228, -74.0060)
SHIFT_END = 100.0


def _loaded() -> LoadedInput:
    orders = (
        LoggedOrder("far", 1.0, "r1", RESTAURANT, FAR, 5.0),
        LoggedOrder("waits", 2.0, "r1", RESTAURANT, NEAR, 6.0),
        LoggedOrder("late", 95.0, "r1", RESTAURANT, NEAR, 130.0),  # ready after the shift
    )
    drivers = (DriverShift("d1", RESTAURANT, 0.0, SHIFT_END),)
    data = ReplayInput("t", orders, drivers, ServiceTimes(), ConstantSpeedEta(), "h")
    return LoadedInput(data, DAY, "test")


def _orders(tmp_path: Path, max_attempts: int) -> tuple[pl.DataFrame, dict[str, object]]:
    run_dir = tmp_path / str(max_attempts)
    request = RunRequest(backend="inprocess", max_attempts=max_attempts, radius_km=50.0)
    run_replay(_loaded(), request, run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return pl.read_parquet(run_dir / "orders.parquet").sort("order_id"), manifest


def test_unlimited_attempts_keep_an_order_open_until_a_driver_frees(tmp_path: Path) -> None:
    design, _ = _orders(tmp_path, 5)
    kept, manifest = _orders(tmp_path, 0)
    outcome = dict(zip(kept["order_id"], kept["outcome"], strict=True))
    assert dict(zip(design["order_id"], design["outcome"], strict=True))["waits"] == (
        "never_assigned"
    )
    assert outcome == {"far": "delivered", "waits": "delivered", "late": "never_assigned"}
    assert manifest["max_attempts"] == 0 and manifest["day_end_min"] == SHIFT_END


def test_click_to_door_over_all_orders_counts_undelivered_to_the_day_end(
    tmp_path: Path,
) -> None:
    orders, manifest = _orders(tmp_path, 0)
    late = orders.filter(pl.col("order_id") == "late").row(0, named=True)
    assert late["click_to_door"] is None and late["click_to_door_all"] == SHIFT_END - 95.0
    summary = manifest["summary"]
    assert isinstance(summary, dict)
    assert summary["undelivered_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert summary["click_to_door_all_mean"] == pytest.approx(
        orders["click_to_door_all"].mean(), abs=0.01
    )
    assert summary["click_to_door_all_mean"] != summary["click_to_door_mean"]


def test_the_convention_and_the_retry_rule() -> None:
    assert click_to_door_all(10.0, 40.0, 100.0) == 30.0
    assert click_to_door_all(10.0, None, 100.0) == 90.0
    assert click_to_door_all(120.0, None, 100.0) == 0.0
    assert RetryPolicy(max_attempts=0).delay_after(1000) == 30.0
    assert RetryPolicy(max_attempts=5).delay_after(5) is None


def test_mdrp_inputs_default_to_no_limit_and_others_to_the_designs_five() -> None:
    loaded = _loaded()
    assert RunRequest().attempts_for(loaded) == 5
    assert RunRequest(max_attempts=3).attempts_for(loaded) == 3
    with pytest.raises(ValueError, match="max attempts"):
        RunRequest(max_attempts=-1)
