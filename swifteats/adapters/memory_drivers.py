"""Drivers in process memory, for replays and unit tests; same contract as Redis.

A search measures every driver (replays hold hundreds), so positions are kept as rows of
NumPy arrays (radians and cosine of latitude) and each driver's record as a search shows
it: one distance matrix for the searches made together. NumPy's ``arcsin`` may differ
from ``math.asin`` in the last bits, so the exact formula (:func:`redis_geo_distance_m`,
operation for operation) decides every driver within a micrometre of the radius or of
another driver: the radius cut and the order are exactly those of the scalar formula.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

from swifteats.domain.drivers import (
    Claim,
    DriverHoldsOrderError,
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
    UnknownDriverError,
    checked_shift_end,
    union_of,
)
from swifteats.domain.geo import SEARCHABLE_LATITUDE, Point, geo_key

_GEO_STEP = 1 << 26


def redis_geo_position(point: Point) -> Point:
    """The position Redis GEO gives back for ``point``: the centre of its 52-bit geohash cell.

    Storing positions this way makes the in-memory index rank exactly as Redis does,
    down to travel times rounded up to whole minutes.
    """
    return Point(
        _cell_centre(point.latitude, -SEARCHABLE_LATITUDE, SEARCHABLE_LATITUDE),
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
_REDIS_EARTH_DIAMETER_M = 2.0 * _REDIS_EARTH_RADIUS_M


class _Trig(NamedTuple):
    """A position in radians with the cosine of its latitude, computed once per position."""

    latitude: float
    longitude: float
    cos_latitude: float

    @classmethod
    def of(cls, point: Point) -> _Trig:
        latitude = math.radians(point.latitude)
        return cls(latitude, math.radians(point.longitude), math.cos(latitude))


def redis_geo_distance_m(a: Point, b: Point) -> float:
    """GEOSEARCH's distance (haversine on Redis's earth radius), for the same radius cut."""
    return _haversine_m(_Trig.of(a), _Trig.of(b))


def _haversine_m(a: _Trig, b: _Trig) -> float:
    u = math.sin((b.latitude - a.latitude) / 2)
    v = math.sin((b.longitude - a.longitude) / 2)
    return _REDIS_EARTH_DIAMETER_M * math.asin(
        math.sqrt(u * u + a.cos_latitude * b.cos_latitude * v * v)
    )


_CLOSE_M = 1e-6
"""Distances closer than this (to the radius or to each other) are settled exactly; NumPy's
error is a few units in the last place, some 1e-9 m at 50 km."""


class _Rows:
    """Every driver's position terms and search record, one row per driver."""

    def __init__(self) -> None:
        self._row: dict[str, int] = {}
        self._found: list[DriverRecord] = []
        self._terms = np.empty((3, 64))
        """Latitude, longitude (radians) and cosine of latitude, one column per row."""

    def put(self, found: DriverRecord, trig: _Trig | None) -> None:
        """Keep ``found`` (no order) and, when given, its new position terms."""
        row = self._row.setdefault(found.driver_id, len(self._found))
        if row < len(self._found):
            self._found[row] = found
        else:
            self._found.append(found)
            if row == self._terms.shape[1]:
                self._terms = np.concatenate([self._terms, np.empty_like(self._terms)], axis=1)
        if trig is not None:
            self._terms[:, row] = trig

    def within(self, areas: Sequence[tuple[Point, float]]) -> list[list[DriverRecord]]:
        """For each ``(center, limit_m)``, the records within ``limit_m`` of ``center``,
        nearest first, ties by driver id: one distance matrix and one sort for all."""
        if not areas:
            return []
        origins = np.array([_Trig.of(center) for center, _ in areas]).T[:, :, None]
        limits = np.array([limit_m for _, limit_m in areas])[:, None]
        latitude, longitude, cos_latitude = self._terms[:, None, : len(self._found)]
        u = np.sin((latitude - origins[0]) / 2)
        v = np.sin((longitude - origins[1]) / 2)
        distance = _REDIS_EARTH_DIAMETER_M * np.arcsin(
            np.sqrt(u * u + origins[2] * cos_latitude * v * v)
        )
        nearest = np.argsort(distance, axis=1, kind="stable")
        ascending = distance[np.arange(len(areas))[:, None], nearest]
        inside = ascending <= limits + _CLOSE_M
        counts = inside.sum(axis=1).tolist()
        unsettled = _unsettled(ascending, limits) & inside
        searches, positions = np.nonzero(unsettled)
        ranges = _ranges(searches, positions, len(areas))
        found = []
        for i, (center, limit_m) in enumerate(areas):
            order = nearest[i, : counts[i]].tolist()
            if ranges[i]:
                origin = _Trig.of(center)
                for first, last in ranges[i]:
                    measured = sorted(
                        (self._measure(origin, row), self._found[row].driver_id, row)
                        for row in order[first:last]
                    )
                    order[first:last] = [
                        row if metres <= limit_m else -1 for metres, _, row in measured
                    ]
            found.append([self._found[row] for row in order if row >= 0])
        return found

    def _measure(self, origin: _Trig, row: int) -> float:
        latitude, longitude, cos_latitude = self._terms[:, row].tolist()
        return _haversine_m(origin, _Trig(latitude, longitude, cos_latitude))


def _unsettled(ascending_m: np.ndarray, limits_m: np.ndarray) -> np.ndarray:
    """Which sorted distances (one row per search) the exact formula must settle: those
    within ``_CLOSE_M`` of their row's radius or of a neighbour in the row.

    Elsewhere NumPy's order and cut are the exact ones: each distance is inside the
    radius by more than its error and apart from its neighbours by more than theirs.
    """
    flagged = ascending_m > limits_m - _CLOSE_M
    close = np.diff(ascending_m, axis=1) <= _CLOSE_M
    flagged[:, :-1] |= close
    flagged[:, 1:] |= close
    return flagged


def _ranges(searches: np.ndarray, positions: np.ndarray, count: int) -> list[list[tuple[int, int]]]:
    """Per search of ``count``, its flagged positions (pairs in row-major order) as ranges
    ``[first, last)`` of consecutive positions."""
    ranges: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for search, position in zip(searches.tolist(), positions.tolist(), strict=True):
        runs = ranges[search]
        if runs and runs[-1][1] == position:
            runs[-1] = (runs[-1][0], position + 1)
        else:
            runs.append((position, position + 1))
    return ranges


class InMemoryDriverIndex:
    """:class:`~swifteats.domain.drivers.DriverIndex` in a dict (single-threaded use)."""

    def __init__(self) -> None:
        self._drivers: dict[str, DriverRecord] = {}
        self._rows = _Rows()
        self._claims: dict[str, Claim] = {}
        self._ends: dict[str, RouteEnd] = {}
        self._next: dict[str, QueuedRoute] = {}

    def register(
        self,
        driver_id: str,
        location: Point,
        status: DriverStatus,
        shift_ends_at: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        """Add or replace a driver (available since ``at`` if available); ValueError
        (nothing stored) for a refused shift end, DriverHoldsOrderError if it holds an
        order and would be made available."""
        checked_shift_end(shift_ends_at)
        order_id = self._held_unless_made_available(driver_id, status)
        held = self._drivers.get(driver_id)
        route = held.route if held else ()
        since = at if status is DriverStatus.AVAILABLE else None
        where = redis_geo_position(location)
        record = DriverRecord(driver_id, where, status, order_id, shift_ends_at, route, since)
        self._store(record, moved=True)

    def register_many(self, drivers: Iterable[DriverRecord]) -> int:
        """:meth:`register` each driver, available since its ``available_since`` (the order
        it holds is kept; one that holds an order and would be made available is left as
        it was); how many were written.

        A refused shift end raises ValueError before any driver is written."""
        fleet = list(drivers)
        for driver in fleet:
            checked_shift_end(driver.shift_ends_at)
        written = 0
        for driver in fleet:
            try:
                self.register(
                    driver.driver_id,
                    driver.location,
                    driver.status,
                    driver.shift_ends_at,
                    driver.available_since,
                )
            except DriverHoldsOrderError:
                continue
            written += 1
        return written

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        self._store(
            replace(self._require(driver_id), location=redis_geo_position(location)), moved=True
        )

    def set_status(self, driver_id: str, status: DriverStatus, at: datetime | None = None) -> None:
        """Change a registered driver's status (one made available: since ``at``); refused
        if it holds an order and would be made available."""
        driver = self._require(driver_id)
        self._held_unless_made_available(driver_id, status)
        since = driver.available_since
        if status is DriverStatus.AVAILABLE and driver.status is not DriverStatus.AVAILABLE:
            since = at
        self._store(replace(driver, status=status, available_since=since), moved=False)

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None."""
        return self._drivers.get(driver_id)

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Drivers within ``radius_km`` of ``center`` (Redis's own distance), nearest first."""
        return self._rows.within([(center, radius_km * 1000)])[0]

    def search_many(self, areas: Sequence[tuple[Point, float]]) -> list[list[DriverRecord]]:
        """:meth:`search` for each ``(center, radius_km)``, measured together."""
        return self._rows.within([(center, radius_km * 1000) for center, radius_km in areas])

    def search_union(self, areas: Sequence[tuple[Point, float]]) -> list[DriverRecord]:
        """Every driver within any of the areas, once."""
        return union_of(self.search_many(areas))

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Give the order its first still-available driver, or the one it already holds."""
        held = self._claims.get(order_id)
        if held is not None:
            return replace(held, existing=True)
        for driver_id, eta in ranked:
            driver = self._drivers.get(driver_id)
            if driver is not None and driver.status is DriverStatus.AVAILABLE:
                busy = replace(
                    driver, status=DriverStatus.BUSY, order_id=order_id, route=((order_id, eta),)
                )
                self._store(busy, moved=False)
                self._claims[order_id] = Claim(driver_id, eta, existing=False)
                self._ends.pop(driver_id, None)
                self._next.pop(driver_id, None)
                return self._claims[order_id]
        return None

    def claim_route(
        self, driver_id: str, etas: list[tuple[str, int]], end: RouteEnd | None = None
    ) -> bool:
        """Give an available driver every order of the route (none held yet)."""
        if not etas:
            raise ValueError(f"a route of {driver_id} carries no order")
        driver = self._drivers.get(driver_id)
        if driver is None or driver.status is not DriverStatus.AVAILABLE:
            return False
        if not self._take(driver, etas):
            return False
        self._next.pop(driver_id, None)
        if end is None:
            self._ends.pop(driver_id, None)
        else:
            self._ends[driver_id] = end
        return True

    def queue_route(self, driver_id: str, route: QueuedRoute | None) -> bool:
        """Give a busy driver this next route (None: none); False if it is not busy."""
        driver = self._drivers.get(driver_id)
        if driver is None or driver.status is not DriverStatus.BUSY:
            return False
        if route is None:
            self._next.pop(driver_id, None)
        elif not route.etas:
            raise ValueError(f"a route of {driver_id} carries no order")
        else:
            self._next[driver_id] = route
        return True

    def plans(self, driver_ids: list[str]) -> dict[str, DriverPlan]:
        """Route ends and next routes of these drivers."""
        return {
            d: DriverPlan(self._ends.get(d), self._next.get(d))
            for d in driver_ids
            if d in self._ends or d in self._next
        }

    def _take(self, driver: DriverRecord, etas: Iterable[tuple[str, int]]) -> bool:
        """Make the driver busy with every order of the route, unless one holds a driver."""
        etas = list(etas)
        if any(order_id in self._claims for order_id, _ in etas):
            return False
        last = etas[-1][0]
        busy = replace(driver, status=DriverStatus.BUSY, order_id=last, route=tuple(etas))
        self._store(busy, moved=False)
        for order_id, eta in etas:
            self._claims[order_id] = Claim(driver.driver_id, eta, existing=False)
        return True

    def claims(self, order_ids: list[str]) -> dict[str, Claim]:
        """The drivers these orders hold."""
        return {o: replace(self._claims[o], existing=True) for o in order_ids if o in self._claims}

    def release(
        self, driver_id: str, order_id: str, location: Point | None, at: datetime | None = None
    ) -> bool:
        """Free the driver of ``order_id`` at ``location`` (None: where it is) if it still
        holds it: it starts its next route, or becomes available (since ``at``)."""
        driver = self._drivers.get(driver_id)
        if driver is None or driver.order_id != order_id:
            return False
        self._ends.pop(driver_id, None)
        moved = driver
        if location is not None:
            moved = replace(driver, location=redis_geo_position(location))
            self._store(moved, moved=True)
        queued = self._next.pop(driver_id, None)
        if queued is not None and self._take(moved, queued.etas):
            if at is not None:
                free_at = at + timedelta(minutes=queued.minutes)
                self._ends[driver_id] = RouteEnd(free_at, queued.end)
            return True
        free = replace(
            moved, status=DriverStatus.AVAILABLE, order_id=None, route=(), available_since=at
        )
        self._store(free, moved=False)
        return True

    def release_many(self, releases: Iterable[tuple[str, str, Point]]) -> int:
        """:meth:`release` each ``(driver_id, order_id, location)``; how many were released."""
        return sum(
            1 for driver_id, order_id, at in releases if self.release(driver_id, order_id, at)
        )

    def count_available(self) -> int:
        """How many drivers are available now."""
        return sum(1 for d in self._drivers.values() if d.status is DriverStatus.AVAILABLE)

    def available_by_geo_key(self) -> dict[str, int]:
        """Available drivers per geo key of where they are."""
        return dict(
            Counter(
                geo_key(d.location.latitude, d.location.longitude)
                for d in self._drivers.values()
                if d.status is DriverStatus.AVAILABLE
            )
        )

    def _store(self, record: DriverRecord, *, moved: bool) -> None:
        """Keep ``record`` and its search row; position terms are recomputed when it moved."""
        self._drivers[record.driver_id] = record
        found = record if record.order_id is None else replace(record, order_id=None)
        self._rows.put(found, _Trig.of(record.location) if moved else None)

    def _held_unless_made_available(self, driver_id: str, status: DriverStatus) -> str | None:
        """The order the driver holds (None if none or unknown); raise
        :class:`DriverHoldsOrderError` if it holds one and ``status`` is available."""
        known = self._drivers.get(driver_id)
        held = known.order_id if known else None
        if held is not None and status is DriverStatus.AVAILABLE:
            raise DriverHoldsOrderError(driver_id, held)
        return held

    def _require(self, driver_id: str) -> DriverRecord:
        driver = self._drivers.get(driver_id)
        if driver is None:
            raise UnknownDriverError(driver_id)
        return driver
