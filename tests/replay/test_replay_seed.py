"""A replay draws nothing at random; the only seed is the one that generated its input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import replay
from replay.orderlog import write_drivers_csv, write_orders_csv
from replay.runner import (
    SAMPLE_DRIVERS,
    SAMPLE_ORDERS,
    RunRequest,
    load_order_log,
    run_replay,
    sample_files,
)
from replay.sample import SampleSpec, generate_sample
from swifteats.cli import app

TABLES = ("orders", "decisions", "drivers", "latency")
REPLAY = """
import sys
from pathlib import Path
from replay.runner import (
    SAMPLE_DRIVERS,
    SAMPLE_ORDERS,
    RunRequest,
    load_order_log,
    run_replay,
    sample_files,
)
folder = Path(sys.argv[1])
loaded = load_order_log(folder / "o.csv", folder / "d.csv")
for policy in ("greedy-score", "bundling"):
    run_replay(loaded, RunRequest(policy=policy), folder / sys.argv[2] / policy)
"""


def _tables(run_dir: Path) -> list[pl.DataFrame]:
    """The run's tables without the wall-clock milliseconds, which vary run to run."""
    return [pl.read_parquet(run_dir / f"{t}.parquet").select(pl.exclude("^.*_ms$")) for t in TABLES]


def _write_day(folder: Path, seed: int) -> Path:
    orders, drivers = generate_sample(SampleSpec(orders=50, drivers=6, seed=seed))
    write_orders_csv(folder / "o.csv", orders)
    write_drivers_csv(folder / "d.csv", drivers)
    return folder


def test_the_same_input_replays_identically_in_processes_with_other_hash_seeds(
    tmp_path: Path,
) -> None:
    _write_day(tmp_path, seed=4)
    repo = Path(replay.__file__).parent.parent
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", REPLAY, str(tmp_path), f"h{hash_seed}"],
            check=True,
            cwd=repo,
            env=env,
        )
    for policy in ("greedy-score", "bundling"):
        first, second = _tables(tmp_path / "h1" / policy), _tables(tmp_path / "h2" / policy)
        assert all(a.equals(b) for a, b in zip(first, second, strict=True)), policy


def test_a_recorded_input_has_no_seed_in_the_manifest_and_replay_takes_none(
    tmp_path: Path,
) -> None:
    day = _write_day(tmp_path, seed=4)
    run_replay(load_order_log(day / "o.csv", day / "d.csv"), RunRequest(), tmp_path / "run")
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["seed"] is None
    result = CliRunner().invoke(
        app, ["replay", "--backend", "inprocess", "--seed", "3", "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 2 and "No such option: --seed" in result.output


def test_replay_reads_the_sample_generate_sample_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sample_files() == (SAMPLE_ORDERS, SAMPLE_DRIVERS)  # nothing generated: the bundled

    made = CliRunner().invoke(app, ["generate-sample", "--orders", "40", "--drivers", "8"])
    ran = CliRunner().invoke(app, ["replay", "--backend", "inprocess", "--out", "run"])

    assert made.exit_code == 0 and ran.exit_code == 0, made.output + ran.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert Path(manifest["input"]) == tmp_path / "data" / "sample_orders.csv"
    assert manifest["summary"]["orders"] == 40
