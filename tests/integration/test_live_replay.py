"""The live replay: the real services, in lockstep, assign exactly as the in-process backend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from replay.mdrp import mdrp_root
from replay.runner import LoadedInput, RunRequest, load_input, run_replay
from swifteats.settings import Settings
from tests.integration.helpers import Broker

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def _both(loaded: LoadedInput, settings: Settings, tmp_path: Path) -> tuple[pl.DataFrame, ...]:
    tables = []
    for backend in ("inprocess", "live"):
        run_dir = tmp_path / backend
        run_replay(loaded, RunRequest(backend=backend, radius_km=50), run_dir, settings)
        tables.append(pl.read_parquet(run_dir / "orders.parquet").sort("order_id"))
    return tuple(tables)


def _live_settings(servers: Settings, broker: Broker, tmp_path: Path) -> Settings:
    return servers.model_copy(update={"kafka_host": broker.host, "state_dir": tmp_path / "state"})


@pytest.mark.skipif(mdrp_root() is None, reason="MDRP instances not found (../shared/data/mdrp)")
def test_live_and_in_process_make_identical_assignments_on_an_mdrp_instance(
    servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    root = mdrp_root()
    assert root is not None
    loaded = load_input(root / "0o100t100s1p100", None)
    loaded = replace(loaded, data=replace(loaded.data, orders=loaded.data.orders[:80]))

    in_process, live = _both(loaded, _live_settings(servers, kafka, tmp_path), tmp_path)

    assert live["order_id"].to_list() == in_process["order_id"].to_list()
    assert live["driver_id"].to_list() == in_process["driver_id"].to_list()
    assert live["attempts"].to_list() == in_process["attempts"].to_list()
    assert live["pickup_min"].to_list() == in_process["pickup_min"].to_list()
    assert live.filter(pl.col("outcome") == "delivered").height > 60


def test_the_bundled_sample_format_replays_live(
    servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    from replay.orderlog import write_drivers_csv, write_orders_csv
    from replay.runner import load_order_log
    from replay.sample import SampleSpec, generate_sample

    orders, drivers = generate_sample(SampleSpec(orders=40, drivers=8))
    write_orders_csv(tmp_path / "o.csv", orders)
    write_drivers_csv(tmp_path / "d.csv", drivers)
    loaded = load_order_log(tmp_path / "o.csv", tmp_path / "d.csv")

    in_process, live = _both(loaded, _live_settings(servers, kafka, tmp_path), tmp_path)

    assert live["driver_id"].to_list() == in_process["driver_id"].to_list()
    assert live["attempts"].to_list() == in_process["attempts"].to_list()
