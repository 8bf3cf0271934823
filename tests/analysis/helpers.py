"""Real run directories for the analyses: in-process replays and copies standing for others.

``base`` is the bundled sample with the design's weights; ``far`` the same input with a
distance *reward* (the score otherwise always prefers the nearest driver, so only a
negative penalty changes who is chosen); ``other`` a smaller generated day (another
input). Copies of ``base`` stand for live runs and odd ones: ``wall`` has the orders'
wall-clock instants, ``timed`` those and each attempt's hops in milliseconds, and
``undecided`` made no decision (an empty decisions file).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

import polars as pl

from replay.orderlog import write_drivers_csv, write_orders_csv
from replay.runner import LoadedInput, RunRequest, load_input, load_order_log, run_replay
from replay.sample import SampleSpec, generate_sample
from swifteats.domain.scoring import ScoringWeights

WALL_CLOCK_MS = {"publish": 4.0, "request_queue": 6.0, "decide": 3.0, "response_queue": 8.0}
"""The hops written into ``wall`` as instants: each order takes exactly these milliseconds."""
HOP_MS = {"publish": 5.0, "request_queue": 7.0, "decide": 1.5, "response_queue": 9.0}
"""The hops written into ``timed`` per attempt (``publish`` on first attempts only)."""
HOP_COLUMNS = (
    "accepted_to_request_published_ms",
    "request_published_to_request_consumed_ms",
    "request_consumed_to_decided_ms",
    "decided_to_response_consumed_ms",
)
WALL_START = datetime(2026, 1, 1, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Runs:
    """The session's run directories."""

    root: Path
    base: Path
    far: Path
    other: Path
    wall: Path
    timed: Path
    undecided: Path


def make_runs(root: Path, inputs: Path) -> Runs:
    """Three replays under ``root`` (the generated day's CSVs go to ``inputs``), and the
    copies of the first."""
    sample = load_input(None, None)
    run_replay(sample, RunRequest(backend="inprocess"), root / "base")
    far = RunRequest(backend="inprocess", weights=ScoringWeights(distance_penalty_per_km=-60.0))
    run_replay(sample, far, root / "far")
    run_replay(_small_day(inputs), RunRequest(backend="inprocess"), root / "other")
    wall = copy_run(root / "base", root / "wall")
    _add_wall_clock(wall / "orders.parquet")
    timed = copy_run(wall, root / "timed")
    _add_hops(timed / "latency.parquet")
    undecided = copy_run(root / "base", root / "undecided")
    pl.DataFrame([]).write_parquet(undecided / "decisions.parquet")
    return Runs(root, root / "base", root / "far", root / "other", wall, timed, undecided)


def copy_run(source: Path, target: Path) -> Path:
    """A copy of a run directory with its own ``run_id`` (the target folder's name)."""
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["run_id"] = target.name
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def _small_day(folder: Path) -> LoadedInput:
    orders, drivers = generate_sample(SampleSpec(orders=60, drivers=12, seed=3))
    write_orders_csv(folder / "orders.csv", orders)
    write_drivers_csv(folder / "drivers.csv", drivers)
    return load_order_log(folder / "orders.csv", folder / "drivers.csv")


def _add_wall_clock(orders_file: Path) -> None:
    """Instants as the live backend writes them; an order never assigned was never
    decided, so its last two are null."""
    names = ("accepted_at", "request_published_at", "request_consumed_at", "decided_at")
    elapsed = accumulate(WALL_CLOCK_MS.values(), initial=0.0)
    delivered = pl.col("outcome") == "delivered"
    columns = {}
    for name, ms in zip((*names, "response_consumed_at"), elapsed, strict=True):
        instant = pl.lit(WALL_START + timedelta(milliseconds=ms), dtype=pl.Datetime("us", "UTC"))
        columns[name] = instant if name in names[:3] else pl.when(delivered).then(instant)
    pl.read_parquet(orders_file).with_columns(**columns).write_parquet(orders_file)


def _add_hops(latency_file: Path) -> None:
    """Each attempt's wall-clock hops, as the live backend writes them."""
    first = pl.col("attempt") == 1
    hops = [pl.lit(ms) for ms in HOP_MS.values()]
    hops[0] = pl.when(first).then(hops[0])
    columns = dict(zip(HOP_COLUMNS, hops, strict=True))
    pl.read_parquet(latency_file).with_columns(**columns).write_parquet(latency_file)
