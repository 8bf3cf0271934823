"""Latency by pipeline stage: the in-process stages and, when filled, the wall-clock hops."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from swifteats.analysis import STAGES, latency_by_stage, latency_cdf, latency_samples
from tests.analysis.helpers import HOP_MS, WALL_CLOCK_MS, Runs, copy_run

IN_PROCESS = ["answer", "search", "scoring", "claim", "total"]
LIVE = ["publish", "request_queue", "decide", "response_queue", "end_to_end"]


def test_in_process_stages_match_the_latency_table(runs: Runs) -> None:
    table = latency_by_stage([runs.base])
    latency = pl.read_parquet(runs.base / "latency.parquet")
    assert table.columns == ["run_id", "stage", "n", "p50_ms", "p95_ms", "p99_ms"]
    assert table["stage"].to_list() == IN_PROCESS
    assert (table["n"] == latency.height).all()
    search = table.filter(pl.col("stage") == "search").row(0, named=True)
    assert search["p95_ms"] == pytest.approx(latency["search_ms"].quantile(0.95, "linear"))


def test_samples_carry_the_order_outcome(runs: Runs) -> None:
    samples = latency_samples([runs.base])
    orders = pl.read_parquet(runs.base / "orders.parquet").select("order_id", "outcome")
    assert samples.height == len(IN_PROCESS) * pl.read_parquet(runs.base / "latency.parquet").height
    joined = samples.join(orders, on="order_id", suffix="_order")
    assert (joined["outcome"] == joined["outcome_order"]).all()


def test_by_outcome_splits_each_stage(runs: Runs) -> None:
    split = latency_by_stage([runs.base], by_outcome=True)
    assert set(split["outcome"]) == {"delivered", "never_assigned"}
    totals = split.group_by("stage").agg(pl.col("n").sum())
    assert set(totals["n"]) == {pl.read_parquet(runs.base / "latency.parquet").height}


def test_attempt_hops_become_pipeline_stages(runs: Runs) -> None:
    table = latency_by_stage([runs.timed]).filter(pl.col("stage").is_in(LIVE))
    latency = pl.read_parquet(runs.timed / "latency.parquet")
    firsts = latency.filter(pl.col("attempt") == 1).height
    assert table["stage"].to_list() == LIVE
    assert table["p50_ms"].to_list() == pytest.approx([*HOP_MS.values(), sum(HOP_MS.values())])
    assert table["n"].to_list() == [firsts, *[latency.height] * 3, firsts]


def test_order_instants_are_the_stages_of_runs_without_hops(runs: Runs) -> None:
    table = latency_by_stage([runs.wall]).filter(pl.col("stage").is_in(LIVE))
    orders = pl.read_parquet(runs.wall / "orders.parquet")
    first = pl.col("attempts") == 1
    delivered = pl.col("outcome") == "delivered"
    expected_ms = [*WALL_CLOCK_MS.values(), sum(WALL_CLOCK_MS.values())]
    assert table["stage"].to_list() == LIVE
    assert table["p99_ms"].to_list() == pytest.approx(expected_ms)
    counts = [first, pl.lit(True), delivered, delivered, first & delivered]
    assert table["n"].to_list() == [orders.filter(c).height for c in counts]


def test_every_stage_is_named_in_pipeline_order(runs: Runs) -> None:
    assert latency_by_stage([runs.timed])["stage"].to_list() == list(STAGES)


def test_instants_written_as_iso_text_read_the_same(runs: Runs, tmp_path: Path) -> None:
    """Runs written before the typed schema hold the instants as ISO text."""
    legacy = copy_run(runs.wall, tmp_path / "legacy")
    orders = pl.read_parquet(legacy / "orders.parquet")
    instants = [n for n, dtype in orders.schema.items() if isinstance(dtype, pl.Datetime)]
    as_text = pl.col(instants).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    orders.with_columns(as_text).write_parquet(legacy / "orders.parquet")
    assert pl.read_parquet_schema(legacy / "orders.parquet")["accepted_at"] == pl.String
    typed, text = (latency_by_stage([run]).drop("run_id") for run in (runs.wall, legacy))
    assert text.equals(typed)


def test_the_cdf_is_each_stages_quantiles_at_few_points(runs: Runs) -> None:
    samples = latency_samples([runs.base, runs.far])

    cdf = latency_cdf([runs.base, runs.far], points=11)

    assert cdf.columns == ["run_id", "stage", "share", "ms"]
    assert cdf.height == 2 * len(IN_PROCESS) * 11 < samples.height
    search = cdf.filter((pl.col("run_id") == "far") & (pl.col("stage") == "search"))
    far = samples.filter((pl.col("run_id") == "far") & (pl.col("stage") == "search"))["ms"]
    assert search["share"].to_list() == pytest.approx([i / 10 for i in range(11)])
    assert search["ms"].to_list() == pytest.approx(
        [far.quantile(i / 10, "linear") for i in range(11)]
    )
    assert cdf["run_id"].unique(maintain_order=True).to_list() == ["base", "far"]
