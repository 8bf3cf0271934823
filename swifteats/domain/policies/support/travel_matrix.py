"""Travel minutes and distances between many points at once, for the batch policies.

:func:`travel_matrix` gives exactly what ``eta.travel_minutes`` gives for every pair:
the two models of ``swifteats.domain.eta`` are computed with numpy, and any value that
lands within a hair of a whole minute (where the last bit could round it either way)
is recomputed with the scalar model; any other model is asked pair by pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from swifteats.domain.eta import (
    METRES_PER_DEGREE,
    ConstantSpeedEta,
    EtaModel,
    PlanarEta,
    PlanarProjection,
)
from swifteats.domain.geo import EARTH_RADIUS_KM, Point

FloatArray = npt.NDArray[np.float64]
_NEAR_WHOLE = 1e-6


def coordinates(points: Sequence[Point]) -> FloatArray:
    """``(n, 2)`` latitudes and longitudes in degrees."""
    return np.array([(p.latitude, p.longitude) for p in points], dtype=np.float64).reshape(-1, 2)


def distance_km(origins: Sequence[Point], destinations: Sequence[Point]) -> FloatArray:
    """Great-circle kilometres, ``(len(origins), len(destinations))``."""
    a, b = np.radians(coordinates(origins)), np.radians(coordinates(destinations))
    lat1, lat2 = a[:, :1], b[:, 0][None, :]
    dlat, dlon = lat2 - lat1, b[:, 1][None, :] - a[:, 1:]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def travel_matrix(
    eta: EtaModel, origins: Sequence[Point], destinations: Sequence[Point]
) -> FloatArray:
    """Whole minutes from each origin (rows) to each destination (columns)."""
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    if isinstance(eta, PlanarEta):
        raw = _planar_metres(eta.projection, origins, destinations) / eta.meters_per_minute
        minutes = np.ceil(np.round(raw, 9))
    elif isinstance(eta, ConstantSpeedEta):
        raw = distance_km(origins, destinations) / eta.speed_kmh * 60.0
        minutes = np.maximum(eta.min_minutes, np.ceil(raw))
    else:
        return np.array([[eta.travel_minutes(o, d) for d in destinations] for o in origins], float)
    for i, j in zip(*np.nonzero(np.abs(raw - np.rint(raw)) < _NEAR_WHOLE), strict=True):
        minutes[i, j] = eta.travel_minutes(origins[i], destinations[j])
    return minutes


def _planar_metres(
    projection: PlanarProjection, origins: Sequence[Point], destinations: Sequence[Point]
) -> FloatArray:
    a, b = _metres(projection, origins), _metres(projection, destinations)
    dx = b[:, 0][None, :] - a[:, :1]
    dy = b[:, 1][None, :] - a[:, 1:]
    result: FloatArray = np.sqrt(dx * dx + dy * dy)
    return result


def _metres(projection: PlanarProjection, points: Sequence[Point]) -> FloatArray:
    """The projection's own arithmetic (``PlanarProjection.to_metres``), element-wise, rounded
    to whole metres as ``PlanarEta.whole_metres`` rounds them."""
    degrees = coordinates(points)
    origin = projection.origin
    per_degree_lon = METRES_PER_DEGREE * math.cos(math.radians(origin.latitude))
    x = (degrees[:, 1] - origin.longitude) * per_degree_lon
    y = (degrees[:, 0] - origin.latitude) * METRES_PER_DEGREE
    metres: FloatArray = np.stack([x, y], axis=1)
    whole: FloatArray = np.rint(metres)
    return whole
