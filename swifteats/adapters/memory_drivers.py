"""Drivers in process memory, for replays and unit tests; same contract as Redis."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from swifteats.domain.drivers import Claim, DriverRecord, DriverStatus, UnknownDriverError
from swifteats.domain.geo import Point

_GEO_LAT_LIMIT = 85.05112878
_GEO_STEP = 1 << 26


def redis_geo_position(point: Point) -> Point:
    """The position Redis GEO gives back for ``point``: the centre of its 52-bit geohash cell.

    Storing positions this way makes the in-memory index rank exactly as Redis does,
    down to travel times rounded up to whole minutes.
    """
    return Point(
        _cell_centre(point.latitude, -_GEO_LAT_LIMIT, _GEO_LAT_LIMIT),
        _cell_centre(point.longitude, -180.0, 180.0),
    )


def _cell_centre(value: float, low: float, high: float) -> float:
    cell = int((value - low) / (high - low) * _GEO_STEP)
    scale = high - low
    cell_low = low + (cell * 1.0 / _GEO_STEP) * scale
    cell_high = low + ((cell + 1) * 1.0 / _GEO_STEP) * scale
    centre = max(low, min(high, (cell_low + cell_high) / 2))
    return float(f"{centre:.17f}")  # Redis answers with 17 decimal places


_REDIS_EARTH_RADIUS_M = 6372797.560856


def redis_geo_distance_m(a: Point, b: Point) -> float:
    """GEOSEARCH's distance (haversine on Redis's earth radius), for the same radius cut."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    u = math.sin((lat2 - lat1) / 2)
    v = math.sin((math.radians(b.longitude) - math.radians(a.longitude)) / 2)
    return (
        2.0
        * _REDIS_EARTH_RADIUS_M
        * math.asin(math.sqrt(u * u + math.cos(lat1) * math.cos(lat2) * v * v))
    )


class InMemoryDriverIndex:
    """:class:`~swifteats.domain.drivers.DriverIndex` in a dict (single-threaded use)."""

    def __init__(self) -> None:
        self._drivers: dict[str, DriverRecord] = {}
        self._claims: dict[str, Claim] = {}

    def register(
        self,
        driver_id: str,
        location: Point,
        status: DriverStatus,
        shift_ends_at: datetime | None = None,
    ) -> None:
        """Add or replace a driver."""
        held = self._drivers.get(driver_id)
        order_id = held.order_id if held else None
        self._drivers[driver_id] = DriverRecord(
            driver_id, redis_geo_position(location), status, order_id, shift_ends_at
        )

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        self._drivers[driver_id] = replace(
            self._require(driver_id), location=redis_geo_position(location)
        )

    def set_status(self, driver_id: str, status: DriverStatus) -> None:
        """Change a registered driver's status."""
        self._drivers[driver_id] = replace(self._require(driver_id), status=status)

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None."""
        return self._drivers.get(driver_id)

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Drivers within ``radius_km`` of ``center`` (Redis's own distance), nearest first."""
        near = sorted(
            (distance, d.driver_id, d)
            for d in self._drivers.values()
            if (distance := redis_geo_distance_m(center, d.location)) <= radius_km * 1000
        )
        return [replace(d, order_id=None) for _, _, d in near]

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Give the order its first still-available driver, or the one it already holds."""
        held = self._claims.get(order_id)
        if held is not None:
            return replace(held, existing=True)
        for driver_id, eta in ranked:
            driver = self._drivers.get(driver_id)
            if driver is not None and driver.status is DriverStatus.AVAILABLE:
                self._drivers[driver_id] = replace(
                    driver, status=DriverStatus.BUSY, order_id=order_id
                )
                self._claims[order_id] = Claim(driver_id, eta, existing=False)
                return self._claims[order_id]
        return None

    def release(self, driver_id: str, order_id: str, location: Point) -> bool:
        """Make the driver available at ``location`` if it still holds ``order_id``."""
        driver = self._drivers.get(driver_id)
        if driver is None or driver.order_id != order_id:
            return False
        self._drivers[driver_id] = replace(
            driver,
            location=redis_geo_position(location),
            status=DriverStatus.AVAILABLE,
            order_id=None,
        )
        return True

    def count_available(self) -> int:
        """How many drivers are available now."""
        return sum(1 for d in self._drivers.values() if d.status is DriverStatus.AVAILABLE)

    def _require(self, driver_id: str) -> DriverRecord:
        driver = self._drivers.get(driver_id)
        if driver is None:
            raise UnknownDriverError(driver_id)
        return driver
