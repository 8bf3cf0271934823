"""Connection pools of dict rows, and connections whose outages read as the store's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from psycopg import Connection, OperationalError
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from swifteats.domain.order_store import StoreUnavailableError

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


@contextmanager
def connection(pool: Pool, *, transaction: bool = False) -> Iterator[Connection[Row]]:
    """A connection of ``pool`` (in a transaction if asked); a server that cannot be
    reached, or no free connection in time, raises :class:`StoreUnavailableError`."""
    try:
        with pool.connection() as conn, conn.transaction() if transaction else nullcontext():
            yield conn
    except (OperationalError, PoolTimeout) as error:
        raise StoreUnavailableError(str(error)) from error
