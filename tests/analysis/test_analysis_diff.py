"""Two runs of one input, order by order; different inputs are refused."""

from __future__ import annotations

import polars as pl
import pytest

from swifteats.analysis import diff_summary, order_diff
from tests.analysis.helpers import Runs

COLUMNS = ["order_id", "driver_a", "driver_b", "click_to_door_a", "click_to_door_b", "delta"]


def test_a_run_against_itself_changes_nothing(runs: Runs) -> None:
    diff = order_diff(runs.base, runs.base)
    assert diff.columns[:7] == [*COLUMNS, "changed"]
    assert diff.height == pl.read_parquet(runs.base / "orders.parquet").height
    assert not diff["changed"].any()
    assert diff["delta"].drop_nulls().abs().max() == 0


def test_other_weights_change_drivers_and_deltas_are_the_difference(runs: Runs) -> None:
    diff = order_diff(runs.base, runs.far)
    a = pl.read_parquet(runs.base / "orders.parquet").select(
        "order_id", "driver_id", "click_to_door"
    )
    b = pl.read_parquet(runs.far / "orders.parquet").select(
        "order_id", "driver_id", "click_to_door"
    )
    expected = a.join(b, on="order_id", suffix="_b").with_columns(
        delta=pl.col("click_to_door_b") - pl.col("click_to_door"),
        changed=pl.col("driver_id").ne_missing(pl.col("driver_id_b")),
    )
    checked = diff.join(expected, on="order_id")
    assert checked.height == diff.height
    assert diff["changed"].sum() > 0
    assert (checked["changed"] == checked["changed_right"]).all()
    assert (checked["delta"] - checked["delta_right"]).abs().max() == pytest.approx(0)
    assert (checked["driver_b"].eq_missing(checked["driver_id_b"])).all()


def test_summary_counts_the_changes(runs: Runs) -> None:
    summary = diff_summary(runs.base, runs.far).row(0, named=True)
    diff = order_diff(runs.base, runs.far)
    assert summary["run_a"] == "base"
    assert summary["run_b"] == "far"
    assert summary["changed"] == diff["changed"].sum()
    assert summary["slower"] == (diff["delta"] > 0).sum()
    assert summary["delta_total"] == pytest.approx(diff["delta"].sum())


def test_runs_of_different_inputs_are_refused(runs: Runs) -> None:
    with pytest.raises(ValueError, match="different inputs"):
        order_diff(runs.base, runs.other)
    with pytest.raises(ValueError, match="different inputs"):
        diff_summary(runs.other, runs.base)
