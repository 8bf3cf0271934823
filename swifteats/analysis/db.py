"""A DuckDB connection per question over run directories, and the package's SQL.

Every question is one ``.sql`` file in ``sql/``; the views they share (``chosen``,
``driver_spans``, ``latency_samples``) are in ``sql/views/``. They read the views of
:mod:`swifteats.analysis.tables` and ``runs`` (one row per run, see
:func:`swifteats.analysis.runs.runs_frame`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from swifteats.analysis.runs import read_runs, runs_frame
from swifteats.analysis.tables import register_tables

SHARED_VIEWS = ("chosen", "driver_spans", "latency_samples")


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql`` (``views/<view>`` for a shared view)."""
    sql_file = resources.files(__package__).joinpath("sql", *f"{name}.sql".split("/"))
    return sql_file.read_text("utf-8")


@contextmanager
def connect(run_dirs: Sequence[Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with ``runs``, the run tables and the shared views, closed after."""
    runs = read_runs(run_dirs)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("runs", runs_frame(runs))
        register_tables(con, runs)
        for view in SHARED_VIEWS:
            con.execute(load_sql(f"views/{view}"))
        yield con
    finally:
        con.close()


def query(run_dirs: Sequence[Path], name: str, **params: object) -> pl.DataFrame:
    """Answer the question ``sql/<name>.sql`` over ``run_dirs`` with its named parameters."""
    with connect(run_dirs) as con:
        answer: pl.DataFrame = con.sql(load_sql(name), params=params or None).pl()
    return answer
