"""Orders with their chosen candidate, failures by reason, one order's decisions."""

from __future__ import annotations

import polars as pl
import pytest

from swifteats.analysis import (
    decision_breakdown,
    failures_by_reason,
    order_outcomes,
    run_kpis,
)
from tests.analysis.helpers import Runs


def test_order_outcomes_adds_the_chosen_candidate(runs: Runs) -> None:
    table = order_outcomes([runs.base, runs.far])
    orders = pl.read_parquet(runs.base / "orders.parquet")
    base = table.filter(pl.col("run_id") == "base")
    assert base.height == orders.height
    assert base.columns[0] == "run_id"
    assert set(orders.columns) < set(base.columns)
    assert base["order_id"].to_list() == orders["order_id"].to_list()
    delivered = pl.col("outcome") == "delivered"
    assert base.filter(delivered)["distance_km"].null_count() == 0
    assert (
        base.filter(~delivered)["distance_km"].null_count()
        == orders.height - (orders["outcome"] == "delivered").sum()
    )


def test_failures_add_up_to_never_assigned_and_failed_attempts(runs: Runs) -> None:
    table = failures_by_reason([runs.base])
    kpis = run_kpis([runs.base]).row(0, named=True)
    never = table.filter(pl.col("kind") == "never_assigned")
    failed = table.filter(pl.col("kind") == "failed_attempt")
    orders = pl.read_parquet(runs.base / "orders.parquet")
    reasons = orders.filter(pl.col("outcome") == "never_assigned")["last_error"]
    assert never["n"].sum() == kpis["never_assigned"]
    assert set(never["reason"]) == set(reasons)
    assert failed["n"].sum() == kpis["failed_attempts"]
    assert never["share"].sum() == pytest.approx(1.0)


def test_decision_breakdown_shows_every_attempt_and_candidate(runs: Runs) -> None:
    orders = pl.read_parquet(runs.base / "orders.parquet")
    retried = orders.filter((pl.col("outcome") == "delivered") & (pl.col("attempts") > 1)).row(
        0, named=True
    )
    table = decision_breakdown(runs.base, retried["order_id"])
    assert table["attempt"].unique().sort().to_list() == list(range(1, retried["attempts"] + 1))
    chosen = table.filter(pl.col("chosen"))
    assert chosen["driver_id"].to_list() == [retried["driver_id"]]
    assert chosen["attempt"].to_list() == [retried["attempts"]]
    assert table.filter(~pl.col("assigned"))["chosen"].fill_null(False).not_().all()
    terms = (
        100
        + pl.col("slack_term")
        + pl.col("distance_term")
        + pl.col("eta_term")
        + pl.col("wait_term")
    )
    assert (table.drop_nulls("score").select((terms - pl.col("score")).abs().max()).item()) < 0.01


def test_unknown_order_has_no_decisions(runs: Runs) -> None:
    assert decision_breakdown(runs.base, "no-such-order").is_empty()


def test_a_run_without_decisions_keeps_its_orders(runs: Runs) -> None:
    table = order_outcomes([runs.undecided])
    assert table.height == pl.read_parquet(runs.base / "orders.parquet").height
    assert table["distance_km"].null_count() == table.height
    first = table.row(0, named=True)
    attempts = decision_breakdown(runs.undecided, first["order_id"])
    assert attempts.height == first["attempts"]
    assert attempts["driver_id"].null_count() == attempts.height
