"""Connection pools of dict rows."""

from __future__ import annotations

from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Row = dict[str, Any]
"""A database row as a dict of column name to value."""

Pool = ConnectionPool[Connection[Row]]


def open_pool(database_url: str, *, max_size: int = 10) -> ConnectionPool[Connection[Row]]:
    """A pool of dict-row connections, opened and waiting for the server up to 30 s."""
    pool: ConnectionPool[Connection[Row]] = ConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        open=False,
        kwargs={"row_factory": dict_row, "autocommit": True},
    )
    pool.open(wait=True, timeout=30.0)
    return pool
