"""The four Parquet tables of a run directory as DuckDB views with one fixed schema.

Each view holds the rows of every run with ``run_id`` and ``row_no`` (the row's place in its
file) in front, then the columns below in that order, cast to their type, NULL where a run's
file lacks them (older runs, or the wall-clock columns only the live backend fills), then
any further columns the files hold. A missing file, or one written without columns (a run
that made no decision), counts as a table with no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from swifteats.analysis.runs import RunInfo

_DOUBLE, _BIGINT, _TEXT, _BOOL, _INSTANT = "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMPTZ"
_POINTS = ("restaurant_lat", "restaurant_lon", "customer_lat", "customer_lon")
_TRIP = ("assigned_at_min", "arrive_restaurant_min", "pickup_min", "arrive_customer_min")
_WAITS = ("click_to_door", "ready_to_pickup", "ready_to_door")
_WALL_CLOCK = (
    "accepted_at",
    "request_published_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
)
"""Live runs: the instants of each order's last attempt through the pipeline."""
_HOPS = (
    "accepted_to_request_published_ms",
    "request_published_to_request_consumed_ms",
    "request_consumed_to_decided_ms",
    "decided_to_response_consumed_ms",
)
"""Live runs: the wall-clock milliseconds of each attempt between those instants."""

TABLES: dict[str, dict[str, str]] = {
    "orders": {
        "order_id": _TEXT,
        "restaurant_id": _TEXT,
        "placed_min": _DOUBLE,
        "ready_min": _DOUBLE,
        "placed_at": _TEXT,
        "attempts": _BIGINT,
        "last_error": _TEXT,
        "outcome": _TEXT,
        "driver_id": _TEXT,
        "eta": _BIGINT,
        **dict.fromkeys(_POINTS, _DOUBLE),
        **dict.fromkeys((*_TRIP, "dropoff_min"), _DOUBLE),
        **dict.fromkeys(_WALL_CLOCK, _INSTANT),
        **dict.fromkeys(_WAITS, _DOUBLE),
    },
    "decisions": {
        "order_id": _TEXT,
        "attempt": _BIGINT,
        "time_min": _DOUBLE,
        "rank": _BIGINT,
        "chosen": _BOOL,
        "drivers_in_area": _BIGINT,
        "driver_id": _TEXT,
        **dict.fromkeys(("score", "distance_km", "slack"), _DOUBLE),
        **dict.fromkeys(("eta_to_restaurant", "total_eta"), _BIGINT),
        **dict.fromkeys(("slack_term", "distance_term", "eta_term", "wait_term"), _DOUBLE),
    },
    "drivers": {
        "time": _DOUBLE,
        "driver_id": _TEXT,
        "state": _TEXT,
        "latitude": _DOUBLE,
        "longitude": _DOUBLE,
    },
    "latency": {
        "order_id": _TEXT,
        "attempt": _BIGINT,
        "time_min": _DOUBLE,
        "assigned": _BOOL,
        "answer_ms": _DOUBLE,
        "in_flight": _BIGINT,
        **dict.fromkeys(_HOPS, _DOUBLE),
        **dict.fromkeys(("search_ms", "scoring_ms", "claim_ms", "total_ms"), _DOUBLE),
        "error": _TEXT,
    },
}
"""Per table, the columns the analyses rely on and their DuckDB types."""

_EMPTY = "SELECT CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS BIGINT) AS file_row_number LIMIT 0"
_ADDED = frozenset({"run_id", "filename", "file_row_number"})


def register_tables(con: duckdb.DuckDBPyConnection, runs: Sequence[RunInfo]) -> None:
    """Create the views ``orders``, ``decisions``, ``drivers`` and ``latency`` over ``runs``."""
    files = {str(_file(run, table)): run.run_id for run in runs for table in TABLES}
    run_files = pl.DataFrame({"filename": list(files), "run_id": list(files.values())})
    con.register("run_files", run_files)
    for table, columns in TABLES.items():
        rows = _rows(con, [_file(run, table) for run in runs])
        rows.project(", ".join(_select(columns, rows.columns))).create_view(table)


def _file(run: RunInfo, table: str) -> Path:
    return run.path / f"{table}.parquet"


def _rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> duckdb.DuckDBPyRelation:
    """The rows of the files that hold any, with the ``run_id`` of each row."""
    files = [str(path) for path in paths if path.is_file() and pl.read_parquet_schema(path)]
    if not files:
        return con.sql(_EMPTY)
    rows = con.read_parquet(files, filename=True, file_row_number=True, union_by_name=True)
    return rows.join(con.table("run_files"), "filename")


def _select(columns: dict[str, str], present: list[str]) -> list[str]:
    """``run_id``, ``row_no``, the expected columns (NULL when absent), then the others."""
    expected = [_column(name, kind, present=name in present) for name, kind in columns.items()]
    others = [_quote(name) for name in present if name not in columns and name not in _ADDED]
    return ["run_id", "file_row_number AS row_no", *expected, *others]


def _column(name: str, kind: str, *, present: bool) -> str:
    quoted = _quote(name)
    if not present:
        return f"CAST(NULL AS {kind}) AS {quoted}"
    if kind == _INSTANT:  # ISO text (or an all-null column) to an instant
        return f"CAST(CAST({quoted} AS VARCHAR) AS {kind}) AS {quoted}"
    return f"CAST({quoted} AS {kind}) AS {quoted}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
