"""A run directory's tables hold exactly the columns of ``swifteats.run_schema``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from replay.orderlog import write_drivers_csv, write_orders_csv
from replay.runner import LoadedInput, RunRequest, load_order_log, run_replay
from replay.sample import SampleSpec, generate_sample
from swifteats.domain.policies.registry import POLICY_NAMES
from swifteats.run_schema import TABLES, schema


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> LoadedInput:
    """A small generated day (fractional minutes, some orders never assigned)."""
    folder = tmp_path_factory.mktemp("day")
    orders, drivers = generate_sample(SampleSpec(orders=60, drivers=6, seed=5))
    write_orders_csv(folder / "o.csv", orders)
    write_drivers_csv(folder / "d.csv", drivers)
    return load_order_log(folder / "o.csv", folder / "d.csv")


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_every_table_has_the_schema_names_order_and_types(
    day: LoadedInput, policy: str, tmp_path: Path
) -> None:
    run_replay(day, RunRequest(policy=policy), tmp_path)
    for table in TABLES:
        written = pl.read_parquet_schema(tmp_path / f"{table}.parquet")
        assert list(written.items()) == list(schema(table).items()), table
    orders = pl.read_parquet(tmp_path / "orders.parquet")
    assert orders.height == 60 and orders["placed_at"].null_count() == 0
