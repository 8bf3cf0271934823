"""Per-run KPIs, checked against the run's own tables with Polars."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from swifteats.analysis import compare_runs, driver_activity, run_kpis
from swifteats.analysis.latency import STAGES
from tests.analysis.helpers import Runs

BUSY = ("to_restaurant", "at_restaurant", "to_customer", "at_customer", "moving")


@pytest.fixture(scope="module")
def kpis(runs: Runs) -> dict[str, Any]:
    return run_kpis([runs.base]).row(0, named=True)


@pytest.fixture(scope="module")
def orders(runs: Runs) -> pl.DataFrame:
    return pl.read_parquet(runs.base / "orders.parquet")


def test_outcome_counts_match_the_orders_table(kpis: dict[str, Any], orders: pl.DataFrame) -> None:
    delivered = orders.filter(pl.col("outcome") == "delivered").height
    assert kpis["orders"] == orders.height
    assert kpis["delivered"] == delivered > 0
    assert kpis["never_assigned"] == orders.height - delivered
    assert kpis["delivered_share"] == pytest.approx(delivered / orders.height)


@pytest.mark.parametrize("column", ["click_to_door", "ready_to_pickup", "ready_to_door"])
def test_time_figures_match_polars(kpis: dict[str, Any], orders: pl.DataFrame, column: str) -> None:
    times = orders[column].drop_nulls()
    assert kpis[f"{column}_mean"] == pytest.approx(times.mean())
    assert kpis[f"{column}_p50"] == pytest.approx(times.quantile(0.5, interpolation="linear"))
    assert kpis[f"{column}_p90"] == pytest.approx(times.quantile(0.9, interpolation="linear"))
    assert kpis[f"{column}_max"] == times.max()


def test_distance_and_slack_are_those_of_the_chosen_candidates(
    runs: Runs, kpis: dict[str, Any]
) -> None:
    chosen = pl.read_parquet(runs.base / "decisions.parquet").filter("chosen")
    assert chosen.height == kpis["delivered"]
    assert kpis["distance_km_mean"] == pytest.approx(chosen["distance_km"].mean())
    assert kpis["slack_p10"] == pytest.approx(chosen["slack"].quantile(0.1, "linear"))
    assert kpis["negative_slack_share"] == pytest.approx((chosen["slack"] < 0).mean())


def test_utilisation_is_the_busy_share_of_on_shift_time(runs: Runs, kpis: dict[str, Any]) -> None:
    spans = (
        pl.read_parquet(runs.base / "drivers.parquet")
        .with_columns(minutes=pl.col("time").shift(-1).over("driver_id") - pl.col("time"))
        .fill_null(0.0)
    )
    on_shift = float(spans.filter(pl.col("state") != "offline")["minutes"].sum())
    busy = float(spans.filter(pl.col("state").is_in(BUSY))["minutes"].sum())
    assert 0 < kpis["utilisation"] < 1
    assert kpis["utilisation"] == pytest.approx(busy / on_shift)
    assert kpis["orders_per_driver_hour"] == pytest.approx(kpis["delivered"] / (on_shift / 60))


def test_per_driver_activity_adds_up_to_the_run(runs: Runs, kpis: dict[str, Any]) -> None:
    drivers = driver_activity([runs.base])
    assert drivers.height == kpis["drivers"]
    assert drivers["utilisation"].is_between(0, 1).all()
    assert drivers["deliveries"].sum() == kpis["delivered"]
    busy, on_shift = float(drivers["busy_min"].sum()), float(drivers["on_shift_min"].sum())
    assert busy / on_shift == pytest.approx(kpis["utilisation"])


def test_attempts_failures_and_retries(
    runs: Runs, kpis: dict[str, Any], orders: pl.DataFrame
) -> None:
    latency = pl.read_parquet(runs.base / "latency.parquet")
    assert kpis["attempts"] == orders["attempts"].sum() == latency.height
    assert kpis["failed_attempts"] == latency.filter(~pl.col("assigned")).height
    assert kpis["retries"] == (orders["attempts"] - 1).sum() > 0
    assert kpis["orders_retried"] == orders.filter(pl.col("attempts") > 1).height


def test_latency_stages_are_columns(kpis: dict[str, Any]) -> None:
    assert 0 < kpis["answer_ms_p50"] <= kpis["answer_ms_p95"] <= kpis["answer_ms_p99"]
    assert kpis["end_to_end_ms_p99"] is None  # in process: no wall-clock hops
    assert all(f"{stage}_ms_p95" in kpis for stage in STAGES)


def test_rewarding_distance_sends_farther_drivers(runs: Runs) -> None:
    table = run_kpis([runs.base, runs.far])
    base, far = table["distance_km_mean"].to_list()
    assert far > base


def test_compare_runs_puts_runs_side_by_side(runs: Runs) -> None:
    table = compare_runs([runs.base, runs.far])
    kpis = run_kpis([runs.base, runs.far])
    assert table.columns == ["metric", "base", "far"]
    row = table.filter(pl.col("metric") == "click_to_door_p90").row(0, named=True)
    assert [row["base"], row["far"]] == pytest.approx(kpis["click_to_door_p90"].to_list())
    assert "end_to_end_ms_p50" not in table["metric"].to_list()


def test_a_run_without_decisions_still_has_kpis(runs: Runs, kpis: dict[str, Any]) -> None:
    undecided = run_kpis([runs.undecided]).row(0, named=True)
    assert undecided["delivered"] == kpis["delivered"]
    assert undecided["distance_km_mean"] is None
    assert undecided["utilisation"] == pytest.approx(kpis["utilisation"])
