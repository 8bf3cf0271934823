"""The four Parquet tables of a run directory as DuckDB views with one fixed schema.

Each view holds the rows of every run with ``run_id`` and ``row_no`` (the row's place in its
file) in front, then the columns of :data:`swifteats.run_schema.TABLES` in that order,
cast to their type, NULL where a run's file lacks them (runs written before a column
existed), then any further columns the files hold. A missing file, or one without columns
(older runs wrote one when they made no decision), counts as a table with no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from swifteats.analysis.runs import RunInfo
from swifteats.run_schema import TABLES, Column

_SQL_TYPES = {"String": "VARCHAR", "Float64": "DOUBLE", "Int64": "BIGINT", "Boolean": "BOOLEAN"}
"""The DuckDB type of each Polars type of :mod:`swifteats.run_schema` but datetimes."""

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


def _select(columns: tuple[Column, ...], present: list[str]) -> list[str]:
    """``run_id``, ``row_no``, the expected columns (NULL when absent), then the others."""
    expected = [_column(c, present=c.name in present) for c in columns]
    names = {c.name for c in columns}
    others = [_quote(name) for name in present if name not in names and name not in _ADDED]
    return ["run_id", "file_row_number AS row_no", *expected, *others]


def _column(column: Column, *, present: bool) -> str:
    quoted = _quote(column.name)
    kind = _sql_type(column.dtype)
    source = quoted if present else "NULL"
    return f"CAST({source} AS {kind}) AS {quoted}"


def _sql_type(dtype: pl.DataType) -> str:
    return "TIMESTAMPTZ" if isinstance(dtype, pl.Datetime) else _SQL_TYPES[str(dtype)]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
