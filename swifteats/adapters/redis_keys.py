"""Every Redis key name the driver index uses, in one place.

A single server keeps one key per kind (:class:`SingleNodeKeys`). A Redis Cluster
(:class:`ShardedKeys`) can only run a Lua script over keys of one hash slot, so there
each driver's record is one hash tagged by its id, each region's positions one GEO set
tagged by the region, and each order's claim one string tagged by the order id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from swifteats.domain.geo import Point, haversine_km

REGION_DEGREES = 1
"""Side of a region cell, in degrees of latitude and longitude (about 111 km)."""

_KM_PER_DEGREE = haversine_km(Point(0, 0), Point(1, 0))
_MARGIN_DEGREES = 1e-3
"""Widening of a search's bounding box, more than GEO's quantisation of a position."""
_MAX_TOUCHED = 64
"""Regions a search enumerates before it reads the set of regions in use instead."""


@dataclass(frozen=True, slots=True)
class SingleNodeKeys:
    """Keys of the single-server layout (see ``redis_drivers``)."""

    prefix: str

    @property
    def geo(self) -> str:
        return f"{self.prefix}:drivers:geo"

    @property
    def status(self) -> str:
        return f"{self.prefix}:drivers:status"

    @property
    def driver_order(self) -> str:
        return f"{self.prefix}:drivers:order"

    @property
    def order_driver(self) -> str:
        return f"{self.prefix}:orders:driver"

    @property
    def shift_end(self) -> str:
        return f"{self.prefix}:drivers:shift_end"

    @property
    def available_since(self) -> str:
        return f"{self.prefix}:drivers:available_since"

    @property
    def route_end(self) -> str:
        return f"{self.prefix}:drivers:route_end"

    @property
    def next_route(self) -> str:
        return f"{self.prefix}:drivers:next_route"

    @property
    def route(self) -> str:
        return f"{self.prefix}:drivers:route"


@dataclass(frozen=True, slots=True)
class ShardedKeys:
    """Keys of the cluster layout (see ``redis_sharded``); the part in braces picks the slot."""

    prefix: str

    def driver(self, driver_id: str) -> str:
        """The driver's record: one hash, so every script over a driver is one slot."""
        return f"{self.prefix}:{{d:{driver_id}}}"

    def order(self, order_id: str) -> str:
        """The order's claim, ``driverId|eta``."""
        return f"{self.prefix}:{{o:{order_id}}}"

    def region(self, region: str) -> str:
        """The GEO set of the drivers whose record says they are in ``region``."""
        return f"{self.prefix}:{{r:{region}}}:geo"

    @property
    def regions(self) -> str:
        """The set of regions that ever held a driver."""
        return f"{self.prefix}:{{regions}}"


def region_of(where: Point) -> str:
    """The region cell that contains ``where``: ``<lat cell>_<lon cell>``."""
    return _cell(math.floor(where.latitude / REGION_DEGREES), _lon_cell(where.longitude))


def regions_touched(center: Point, radius_km: float) -> list[str] | None:
    """The regions a circle can reach (its bounding box widened by a margin), or None
    when that is more than a few dozen cells (read the regions in use instead)."""
    dlat = radius_km / _KM_PER_DEGREE + _MARGIN_DEGREES
    south, north = max(center.latitude - dlat, -90.0), min(center.latitude + dlat, 90.0)
    widest = max(abs(south), abs(north))
    cos = math.cos(math.radians(widest)) if widest < 89.9 else 0.0
    lat_cells = range(math.floor(south / REGION_DEGREES), math.floor(north / REGION_DEGREES) + 1)
    dlon = 360.0 if cos == 0.0 else radius_km / (_KM_PER_DEGREE * cos) + _MARGIN_DEGREES
    cells_around = 360 // REGION_DEGREES
    if dlon >= 180.0:
        lon_cells = list(range(cells_around))
    else:
        first = math.floor((center.longitude - dlon) / REGION_DEGREES)
        last = math.floor((center.longitude + dlon) / REGION_DEGREES)
        lon_cells = sorted({_wrap(c) for c in range(first, last + 1)})
    if len(lat_cells) * len(lon_cells) > _MAX_TOUCHED:
        return None
    return [_cell(lat, lon) for lat in lat_cells for lon in lon_cells]


def _lon_cell(longitude: float) -> int:
    return _wrap(math.floor(longitude / REGION_DEGREES))


def _wrap(cell: int) -> int:
    """A longitude cell in ``[-180, 180)`` degrees."""
    half = 180 // REGION_DEGREES
    return (cell + half) % (2 * half) - half


def _cell(lat_cell: int, lon_cell: int) -> str:
    return f"{lat_cell}_{lon_cell}"
