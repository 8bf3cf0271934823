"""The live replay: the real services, instant by instant, assign exactly as the in-process
engine for every policy; paced, each instant waits for its wall time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import redis

from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from replay.mdrp.instance import mdrp_root
from replay.runner import LoadedInput, RunRequest, load_input, run_replay
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies.registry import POLICY_NAMES
from swifteats.settings import Settings
from tests.integration.helpers import Broker

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


PIPELINE = [
    "accepted_at",
    "request_published_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
]


SAME = ["order_id", "driver_id", "attempts", "bundle_size", "pickup_min", "dropoff_min"]
"""What live and in-process runs of one input must agree on, order by order."""


def _both(
    loaded: LoadedInput, settings: Settings, tmp_path: Path, *, policy: str = "greedy-score"
) -> tuple[pl.DataFrame, ...]:
    tables = []
    for backend in ("inprocess", "live"):
        run_dir = tmp_path / backend
        request = RunRequest(backend=backend, radius_km=50, policy=policy)
        run_replay(loaded, request, run_dir, settings)
        tables.append(pl.read_parquet(run_dir / "orders.parquet").sort("order_id"))
    return tuple(tables)


def _live_settings(servers: Settings, broker: Broker, tmp_path: Path) -> Settings:
    return servers.model_copy(update={"kafka_host": broker.host, "state_dir": tmp_path / "state"})


@pytest.mark.skipif(mdrp_root() is None, reason="MDRP instances not found (../shared/data/mdrp)")
@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_live_and_in_process_make_identical_assignments_for_every_policy(
    policy: str, servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    root = mdrp_root()
    assert root is not None
    loaded = load_input(root / "0r50t100s1p100", None)

    in_process, live = _both(
        loaded, _live_settings(servers, kafka, tmp_path), tmp_path, policy=policy
    )

    assert live.height == len(loaded.data.orders)
    assert live.select(SAME).equals(in_process.select(SAME))
    assert live.filter(pl.col("outcome") == "delivered").height > live.height * 0.8
    decisions = [
        pl.read_parquet(tmp_path / backend / "decisions.parquet")
        .select("order_id", "attempt", "rank", "driver_id", "score", "chosen")
        .sort("order_id", "attempt", "rank")
        for backend in ("inprocess", "live")
    ]
    assert decisions[1].height > live.height / 3  # queued routes start without a new one
    assert decisions[1].equals(decisions[0])  # the service's decision log, read back
    delivered = live.filter(pl.col("outcome") == "delivered")
    stamps = delivered.select(pl.col(PIPELINE))
    for earlier, later in zip(PIPELINE[1:], PIPELINE[2:], strict=False):
        assert (stamps[later] >= stamps[earlier]).all(), (earlier, later)


def test_the_bundled_sample_format_replays_live_and_leaves_no_keys_in_redis(
    servers: Settings, kafka: Broker, tmp_path: Path, redis_client: redis.Redis
) -> None:
    from replay.orderlog import write_drivers_csv, write_orders_csv
    from replay.runner import load_order_log
    from replay.sample import SampleSpec, generate_sample

    orders, drivers = generate_sample(SampleSpec(orders=40, drivers=8))
    write_orders_csv(tmp_path / "o.csv", orders)
    write_drivers_csv(tmp_path / "d.csv", drivers)
    loaded = load_order_log(tmp_path / "o.csv", tmp_path / "d.csv")

    before = set(redis_client.scan_iter(match="replay:*"))
    in_process, live = _both(loaded, _live_settings(servers, kafka, tmp_path), tmp_path)

    assert live["driver_id"].to_list() == in_process["driver_id"].to_list()
    assert live["attempts"].to_list() == in_process["attempts"].to_list()
    assert set(redis_client.scan_iter(match="replay:*")) <= before


def _lunch_rush() -> LoadedInput:
    """Twenty orders in twenty minutes at four restaurants, six drivers."""
    restaurants = [Point(40.70 + 0.01 * i, -74.00) for i in range(4)]
    orders = tuple(
        LoggedOrder(
            f"o{i:02d}",
            600.0 + i,
            f"r{i % 4}",
            restaurants[i % 4],
            Point(40.72, -73.99),
            610.0 + i,
        )
        for i in range(20)
    )
    drivers = tuple(DriverShift(f"d{i}", Point(40.71, -74.0), 590.0, 720.0) for i in range(6))
    data = ReplayInput("lunch-rush", orders, drivers, ServiceTimes(), ConstantSpeedEta(), "")
    return LoadedInput(data, datetime(2026, 1, 1, tzinfo=UTC), "lunch-rush")


def test_a_paced_live_replay_accounts_for_every_order(
    servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    request = RunRequest(backend="live", clock="paced", speed=600)

    run_replay(_lunch_rush(), request, tmp_path / "run", _live_settings(servers, kafka, tmp_path))

    table = pl.read_parquet(tmp_path / "run" / "orders.parquet")
    assert table.height == 20
    delivered = table.filter(pl.col("outcome") == "delivered")
    assert delivered.height > 0
    assert table.filter(pl.col("outcome") != "delivered")["last_error"].null_count() == 0
    assert delivered["response_consumed_at"].null_count() == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (manifest["mode"], manifest["backend"]) == ("paced", "live")
