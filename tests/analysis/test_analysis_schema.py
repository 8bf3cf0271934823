"""The run tables' schema: what the writer accepts, and the views the analyses read."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from swifteats.analysis.db import connect
from swifteats.run_schema import TABLES, frame, schema
from tests.analysis.helpers import Runs

SQL_TYPES = {pl.String: "VARCHAR", pl.Float64: "DOUBLE", pl.Int64: "BIGINT", pl.Boolean: "BOOLEAN"}


def test_a_frame_has_every_column_in_order_absent_ones_null() -> None:
    rows = [{"longitude": -74, "time": 3, "driver_id": "d1", "state": "moving"}]
    table = frame("drivers", rows)
    assert list(table.schema.items()) == list(schema("drivers").items())
    assert table.row(0) == (3.0, "d1", "moving", None, -74.0)


def test_a_frame_of_no_rows_still_has_the_columns() -> None:
    assert list(frame("decisions", []).schema.items()) == list(schema("decisions").items())


def test_instants_are_utc_datetimes() -> None:
    placed = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert frame("orders", [{"order_id": "o1", "placed_at": placed}])["placed_at"][0] == placed


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"order_id": "o1", "colour": "red"}, "orders: columns not in the schema: colour"),
        ({"order_id": "o1", "attempts": 1.5}, "orders.attempts: Float64 values in a Int64"),
        ({"order_id": "o1", "placed_min": "noon"}, "orders.placed_min: String values in a"),
    ],
)
def test_a_frame_refuses_unknown_columns_and_values_of_another_type(
    row: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        frame("orders", [row])


@pytest.mark.parametrize("table", TABLES)
def test_the_views_hold_the_schema_after_run_id_and_row_no(runs: Runs, table: str) -> None:
    with connect([runs.base]) as con:
        described = con.sql(f"DESCRIBE {table}").fetchall()
    expected = [
        (c.name, "TIMESTAMP WITH TIME ZONE" if c.dtype == pl.Datetime else SQL_TYPES[c.dtype])
        for c in TABLES[table]
    ]
    assert [(name, kind) for name, kind, *_ in described] == [
        ("run_id", "VARCHAR"),
        ("row_no", "BIGINT"),
        *expected,
    ]
