"""Real sweeps with the in-process backend: result tables, seeds, resuming, failures."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from replay.mdrp.instance import mdrp_root, read_instance
from replay.sweep import SweepOutcome, open_sweep
from replay.sweep_cli import SweepOptions, sweep_command
from replay.sweep_results import is_finished
from replay.sweep_spec import SweepSpecError

GRID = ("distance_penalty_per_km=2,8", "slack_bonus_per_minute=5,10")
GENERATED = "generated:orders=60,drivers=8"


@dataclass(frozen=True)
class Swept:
    """A sweep directory, its outcome and the report printed."""

    sweep_dir: Path
    outcome: SweepOutcome
    report: str


def _sweep(sweep_dir: Path, **options: object) -> Swept:
    lines: list[str] = []
    outcome = sweep_command(
        SweepOptions(out=sweep_dir, workers=2, **options),  # type: ignore[arg-type]
        echo=lines.append,
    )
    return Swept(sweep_dir, outcome, "\n".join(lines))


def _manifest_times(sweep_dir: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in sweep_dir.glob("cells/*/*/*/manifest.json")}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """A 2 × 2 grid on the bundled sample and on a generated day (3 seeds), 2 workers."""
    return _sweep(tmp_path_factory.mktemp("sweep"), inputs=("sample", GENERATED), grid=GRID)


def test_one_row_per_cell_input_and_seed(swept: Swept) -> None:
    results = pl.read_parquet(swept.sweep_dir / "results.parquet")
    assert (swept.outcome.ran, swept.outcome.skipped, swept.outcome.failures) == (16, 0, {})
    sample = results.filter(pl.col("input") == "sample")
    assert sample.height == 4 == sample["cell_id"].n_unique()
    weights = sample.select("distance_penalty_per_km", "slack_bonus_per_minute").rows()
    assert sorted(weights) == [(2, 5), (2, 10), (8, 5), (8, 10)]
    assert sample["seed"].to_list() == [7] * 4
    generated = results.filter(pl.col("input") == "generated-o60-d8")
    assert (
        generated.group_by("cell_id").agg(pl.col("seed").sort())["seed"].to_list()
        == [[7, 8, 9]] * 4
    )
    assert results["orders"].to_list() == [500 if i == "sample" else 60 for i in results["input"]]
    assert results["delivered"].min() > 0  # type: ignore[operator]
    pickup = pl.col("pickup_km_mean", "pickup_minutes_mean", "utilisation")
    assert results.select(pickup.is_null().any()).row(0) == (False, False, False)


def test_each_run_directory_holds_its_cells_manifest(swept: Swept) -> None:
    for row in swept.outcome.results.iter_rows(named=True):
        manifest = json.loads((swept.sweep_dir / row["run_dir"] / "manifest.json").read_text())
        assert manifest["weights"]["distance_penalty_per_km"] == row["distance_penalty_per_km"]
        seed = None if row["deterministic"] else row["seed"]  # the generated day's
        assert (manifest["seed"], manifest["backend"]) == (seed, "inprocess")
        assert manifest["summary"]["delivered"] == row["delivered"]
    assert swept.outcome.results["run_dir"][0].startswith("cells/greedy-score-")


def test_a_random_input_gets_a_t_interval_and_a_deterministic_one_a_note(swept: Swept) -> None:
    summary = pl.read_parquet(swept.sweep_dir / "summary.parquet")
    generated = summary.filter(pl.col("input") == "generated-o60-d8").row(0, named=True)
    seeds = swept.outcome.results.filter(
        (pl.col("cell_id") == generated["cell_id"]) & (pl.col("input") == "generated-o60-d8")
    )["click_to_door_mean"].to_list()
    assert generated["n_seeds"] == 3 and len(set(seeds)) > 1
    half = 4.302653 * statistics.stdev(seeds) / math.sqrt(3)  # Student's t, 2 df, 97.5 %
    assert generated["click_to_door_mean_ci95"] == pytest.approx(half)
    sample = summary.filter(pl.col("input") == "sample")
    assert sample["n_seeds"].to_list() == [1] * 4
    assert sample["click_to_door_mean_ci95"].null_count() == 4
    assert "sample: deterministic input: one seed per cell (s7), no interval" in swept.report
    assert "generated-o60-d8: random input: 3 seeds per cell (s7-s9)" in swept.report
    assert "all 4 cells on sample gave the same figures" in swept.report
    assert "Pareto front on sample" in swept.report


def _tables(run_dir: Path) -> list[pl.DataFrame]:
    """The run's tables without the wall-clock milliseconds, which vary run to run."""
    tables = ("orders", "decisions", "drivers", "latency")
    return [pl.read_parquet(run_dir / f"{t}.parquet").select(pl.exclude("^.*_ms$")) for t in tables]


def test_a_generated_day_replays_the_same_for_its_seed_and_differs_across_seeds(
    swept: Swept, tmp_path: Path
) -> None:
    one_cell = ("distance_penalty_per_km=2", "slack_bonus_per_minute=10")  # one of swept's
    again = _sweep(tmp_path, inputs=(GENERATED,), grid=one_cell, seeds=2)
    row7, row8 = again.outcome.results.sort("seed").rows(named=True)
    assert (row7["seed"], row8["seed"]) == (7, 8)
    first = _tables(swept.sweep_dir / row7["run_dir"])
    assert all(a.equals(b) for a, b in zip(first, _tables(tmp_path / row7["run_dir"]), strict=True))
    other = _tables(tmp_path / row8["run_dir"])
    assert not first[0].equals(other[0])
    manifest = json.loads((tmp_path / row8["run_dir"] / "manifest.json").read_text())
    assert manifest["seed"] == 8


def test_resuming_a_finished_sweep_runs_nothing(swept: Swept) -> None:
    before = _manifest_times(swept.sweep_dir)
    lines: list[str] = []
    options = SweepOptions(resume=swept.sweep_dir)
    outcome = sweep_command(options, echo=lines.append)
    assert (outcome.ran, outcome.skipped) == (0, 16)
    assert _manifest_times(swept.sweep_dir) == before and len(before) == 16
    assert outcome.results.drop("wall_seconds").equals(swept.outcome.results.drop("wall_seconds"))


def test_an_unfinished_run_is_the_only_one_run_again(swept: Swept) -> None:
    before = _manifest_times(swept.sweep_dir)
    unfinished = next(iter(before))
    unfinished.unlink()
    again = _sweep(swept.sweep_dir, inputs=("sample", GENERATED), grid=GRID).outcome
    assert (again.ran, again.skipped) == (1, 15)
    after = _manifest_times(swept.sweep_dir)
    assert {p: t for p, t in after.items() if p != unfinished} == {
        p: t for p, t in before.items() if p != unfinished
    }
    assert again.results.height == 16


def test_a_different_spec_in_the_same_directory_is_refused(swept: Swept) -> None:
    with pytest.raises(SweepSpecError, match="holds another sweep"):
        _sweep(swept.sweep_dir, inputs=("sample",), grid=GRID)
    with pytest.raises(SweepSpecError, match="--resume DIR continues"):
        _sweep(swept.sweep_dir, resume=swept.sweep_dir, grid=GRID)


def test_a_spec_the_replay_refuses_is_not_recorded(tmp_path: Path) -> None:
    with pytest.raises(SweepSpecError, match="unknown policy 'fastest'"):
        _sweep(tmp_path, policies=("fastest",))
    assert not (tmp_path / "sweep.json").exists()
    with pytest.raises(SweepSpecError, match="nothing to resume"):
        open_sweep(tmp_path, None)


def test_a_failing_run_is_reported_and_left_unfinished(tmp_path: Path) -> None:
    orders, drivers = tmp_path / "bad_orders.csv", tmp_path / "bad_drivers.csv"
    orders.write_text("order_id,placed_at\no1,12\n")
    drivers.write_text("driver_id,start_lat,start_lon,shift_start,shift_end\n")
    sweep = _sweep(tmp_path / "sweep", inputs=(f"{orders},{drivers}",))
    (run_dir, error), *_ = sweep.outcome.failures.items()
    assert "OrderLogError" in error and "missing column" in error
    assert not is_finished(sweep.sweep_dir / run_dir)
    assert sweep.outcome.results.height == 0 and "failed: cells/" in sweep.report


ROOT = mdrp_root()


@pytest.mark.skipif(ROOT is None, reason="MDRP instances not found (SWIFTEATS_MDRP_DIR)")
def test_an_mdrp_cell_runs_once_with_a_wide_radius_and_is_checked(tmp_path: Path) -> None:
    assert ROOT is not None
    outcome = _sweep(tmp_path, inputs=(str(ROOT / "0o100t100s1p100"),), seeds=3).outcome
    (row,) = outcome.results.to_dicts()
    assert row["mdrp_feasible"] is True and row["seed"] == 7
    assert row["delivered"] > 0.9 * row["orders"]
    manifest = json.loads((tmp_path / row["run_dir"] / "manifest.json").read_text())
    assert manifest["radius_km"] == read_instance(ROOT / "0o100t100s1p100").covering_radius_km


def test_option_conflicts_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(SweepSpecError, match="--spec FILE holds the whole spec"):
        _sweep(tmp_path, spec_file=tmp_path / "spec.json", grid=GRID)
    with pytest.raises(SweepSpecError, match="--pareto 'ctd': expected two of orders"):
        _sweep(tmp_path, pareto="ctd")
    assert list(tmp_path.iterdir()) == []
