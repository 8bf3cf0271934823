"""Drivers in Redis: one GEO set of positions, a status hash and atomic claims in Lua.

Keys under ``{prefix}:``: ``drivers:geo`` (GEO set), ``drivers:status`` (driver → status),
``drivers:order`` (driver → order held), ``orders:driver`` (order → ``driver|eta``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import redis

from swifteats.domain.drivers import Claim, DriverRecord, DriverStatus, UnknownDriverError
from swifteats.domain.geo import Point

GeoHits = list[tuple[str, tuple[float, float]]]
"""What GEOSEARCH WITHCOORD answers: ``(member, (longitude, latitude))``."""

# KEYS: status, driver→order, order→driver. ARGV: orderId, then driverId, eta pairs.
_CLAIM = """
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held then return {'existing', held} end
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == 'available' then
    redis.call('HSET', KEYS[1], ARGV[i], 'busy')
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[1])
    redis.call('HSET', KEYS[3], ARGV[1], ARGV[i] .. '|' .. ARGV[i + 1])
    return {'new', ARGV[i] .. '|' .. ARGV[i + 1]}
  end
end
return false
"""

# KEYS: status, driver→order, geo. ARGV: driverId, orderId, longitude, latitude.
_RELEASE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('GEOADD', KEYS[3], ARGV[3], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], 'available')
return 1
"""


class RedisDriverIndex:
    """:class:`~swifteats.domain.drivers.DriverIndex` over a Redis server."""

    def __init__(self, client: redis.Redis, prefix: str = "swifteats") -> None:
        self._redis = client
        self._geo = f"{prefix}:drivers:geo"
        self._status = f"{prefix}:drivers:status"
        self._driver_order = f"{prefix}:drivers:order"
        self._order_driver = f"{prefix}:orders:driver"
        self._shift_end = f"{prefix}:drivers:shift_end"
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def register(
        self,
        driver_id: str,
        location: Point,
        status: DriverStatus,
        shift_ends_at: datetime | None = None,
    ) -> None:
        """Add or replace a driver."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.geoadd(self._geo, (location.longitude, location.latitude, driver_id))
        pipe.hset(self._status, driver_id, status.value)
        if shift_ends_at is None:
            pipe.hdel(self._shift_end, driver_id)
        else:
            pipe.hset(self._shift_end, driver_id, shift_ends_at.timestamp())
        pipe.execute()

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        self._require(driver_id)
        self._redis.geoadd(self._geo, (location.longitude, location.latitude, driver_id))

    def set_status(self, driver_id: str, status: DriverStatus) -> None:
        """Change a registered driver's status."""
        self._require(driver_id)
        self._redis.hset(self._status, driver_id, status.value)

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.geopos(self._geo, driver_id)
        pipe.hget(self._status, driver_id)
        pipe.hget(self._driver_order, driver_id)
        pipe.hget(self._shift_end, driver_id)
        (position,), status, order_id, shift_end = pipe.execute()
        if position is None or status is None:
            return None
        return DriverRecord(
            driver_id,
            Point(position[1], position[0]),
            DriverStatus(status),
            order_id,
            _instant(shift_end),
        )

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Every driver within ``radius_km`` of ``center`` (GEOSEARCH), with its status."""
        found = cast(
            GeoHits,
            self._redis.geosearch(
                self._geo,
                longitude=center.longitude,
                latitude=center.latitude,
                radius=radius_km,
                unit="km",
                withcoord=True,
                sort="ASC",
            ),
        )
        if not found:
            return []
        ids = [driver_id for driver_id, _ in found]
        pipe = self._redis.pipeline(transaction=False)
        pipe.hmget(self._status, ids)
        pipe.hmget(self._shift_end, ids)
        statuses, shift_ends = cast(tuple[list[str | None], list[str | None]], pipe.execute())
        return [
            DriverRecord(driver_id, Point(lat, lon), DriverStatus(status), None, _instant(end))
            for (driver_id, (lon, lat)), status, end in zip(
                found, statuses, shift_ends, strict=True
            )
            if status is not None
        ]

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Atomically give the order its first still-available driver, or the one it holds."""
        args: list[str | int] = [order_id]
        for candidate, candidate_eta in ranked:
            args += [candidate, candidate_eta]
        keys = [self._status, self._driver_order, self._order_driver]
        result = self._claim(keys=keys, args=args)
        if not result:
            return None
        kind, held = cast(list[str], result)
        driver_id, _, eta = held.rpartition("|")
        return Claim(driver_id, int(eta), existing=kind == "existing")

    def release(self, driver_id: str, order_id: str, location: Point) -> bool:
        """Make the driver available at ``location`` if it still holds ``order_id``."""
        keys = [self._status, self._driver_order, self._geo]
        args: list[str | float] = [driver_id, order_id, location.longitude, location.latitude]
        return bool(self._release(keys=keys, args=args))

    def count_available(self) -> int:
        """How many drivers are available now."""
        statuses = self._redis.hvals(self._status)
        return sum(1 for status in statuses if status == DriverStatus.AVAILABLE.value)

    def _require(self, driver_id: str) -> None:
        if not self._redis.hexists(self._status, driver_id):
            raise UnknownDriverError(driver_id)


def _instant(epoch: str | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(float(epoch), UTC)


def connect_redis(host: str, port: int) -> redis.Redis:
    """A client that returns ``str`` and gives up on a dead server within seconds."""
    return redis.Redis(
        host=host,
        port=port,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=10,
    )
