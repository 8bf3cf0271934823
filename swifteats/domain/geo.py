"""Points on the earth, great-circle distance and the design's geo keys."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
"""Mean earth radius (IUGG), the radius of every distance in the project."""
SEARCHABLE_LATITUDE = 85.05112878
"""Redis GEO indexes (and searches around) latitudes within ± this only (Web Mercator)."""


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS-84 position in decimal degrees."""

    latitude: float
    longitude: float


def valid_coordinates(latitude: float, longitude: float) -> bool:
    """True for finite numbers inside [-90, 90] x [-180, 180]; 0 is a valid value."""
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90.0 <= latitude <= 90.0
        and -180.0 <= longitude <= 180.0
    )


def searchable_latitude(latitude: float) -> bool:
    """True for a latitude Redis GEO can index and search around (within
    ±:data:`SEARCHABLE_LATITUDE`)."""
    return abs(latitude) <= SEARCHABLE_LATITUDE


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def geo_key(latitude: float, longitude: float) -> str:
    """The request topic suffix: lat/10 and lon/10 truncated toward zero.

    >>> geo_key(40.7128, -74.0060)
    '4_-7'
    """
    return f"{math.trunc(latitude / 10)}_{math.trunc(longitude / 10)}"
