"""Drivers come back: every assigned order's driver is made available at the customer's door.

A benchmark that never freed drivers would measure a pool running dry. Delivery through
the Order Service (``POST /orders/{id}/picked-up`` then ``/delivered``) would add two
requests per order to the service being measured, so the releaser does what delivery does
to Redis directly (:meth:`RedisDriverIndex.release_many`, the same Lua release) for the
orders PostgreSQL shows assigned, a few times a second.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from types import TracebackType

import psycopg

from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.domain.geo import Point

log = logging.getLogger(__name__)

_EVERY_S = 0.1
_LOOKBACK = timedelta(seconds=5)
"""Orders stamped this long before the newest seen are looked at again: a transaction may
commit after a later-stamped one."""
_ASSIGNED_SINCE = """
SELECT id, driver_id, customer_latitude, customer_longitude, response_consumed_at
FROM orders WHERE status = 'assigned_driver' AND response_consumed_at > %s
"""


class DriverReleaser(threading.Thread):
    """Frees the drivers of assigned orders until stopped (a context manager)."""

    def __init__(self, database_url: str, index: RedisDriverIndex) -> None:
        super().__init__(name="bench-driver-releaser", daemon=True)
        self._database_url = database_url
        self._index = index
        self._halt = threading.Event()
        self._seen: set[str] = set()
        self.released = 0

    def __enter__(self) -> DriverReleaser:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._halt.set()
        self.join(timeout=10)

    def run(self) -> None:
        """Poll, release, repeat."""
        newest = datetime.fromtimestamp(0, UTC)
        with psycopg.connect(self._database_url, autocommit=True) as conn:
            while not self._halt.wait(_EVERY_S):
                rows = conn.execute(_ASSIGNED_SINCE, (newest - _LOOKBACK,)).fetchall()
                fresh = [row for row in rows if row[0] not in self._seen]
                if not fresh:
                    continue
                releases = [
                    (driver, order, Point(lat, lon)) for order, driver, lat, lon, _ in fresh
                ]
                self.released += self._index.release_many(releases)
                self._seen.update(row[0] for row in fresh)
                newest = max(newest, *(row[4] for row in fresh))
