"""Importing a Grubhub MDRP instance folder as a replay input, read in place.

Metres are mapped to lat/lon around an origin (:class:`PlanarProjection`); the
instance's own travel model (``ceil(euclid / meters_per_minute)``) and service
minutes drive both the fleet and the ranking's ETA for that run.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from swifteats.domain.eta import PlanarEta, PlanarProjection, planar_minutes
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point

FILES = ("orders.txt", "restaurants.txt", "couriers.txt", "instance_parameters.txt")
DEFAULT_ORIGIN = Point(40.7128, -74.0060)


class MdrpFormatError(ValueError):
    """A malformed instance file; the message names file, line and column."""


@dataclass(frozen=True, slots=True)
class MdrpInstance:
    """The instance as published: metre coordinates, minutes and parameters."""

    name: str
    orders: dict[str, tuple[float, float, int, str, int]]
    """order → (x, y, placement, restaurant, ready)."""
    restaurants: dict[str, tuple[float, float]]
    couriers: dict[str, tuple[float, float, int, int]]
    """courier → (x, y, on, off)."""
    meters_per_minute: float
    pickup_minutes: int
    dropoff_minutes: int

    def travel(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        """The instance's travel minutes between two metre positions."""
        return planar_minutes(a, b, self.meters_per_minute)


def mdrp_root() -> Path | None:
    """The instances folder: ``$SWIFTEATS_MDRP_DIR`` or ``../shared/data/mdrp`` beside the repo."""
    configured = os.environ.get("SWIFTEATS_MDRP_DIR")
    root = (
        Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared/data/mdrp"
    )
    return root if root.is_dir() else None


def read_instance(folder: Path) -> MdrpInstance:
    """Parse the four files of an instance folder."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no MDRP instance folder at {folder}")
    orders = {
        r[0]: (_num(r, 1), _num(r, 2), int(_num(r, 3)), r[4], int(_num(r, 5)))
        for r in _rows(folder / "orders.txt", 6)
    }
    restaurants = {r[0]: (_num(r, 1), _num(r, 2)) for r in _rows(folder / "restaurants.txt", 3)}
    couriers = {
        r[0]: (_num(r, 1), _num(r, 2), int(_num(r, 3)), int(_num(r, 4)))
        for r in _rows(folder / "couriers.txt", 5)
    }
    (params,) = _rows(folder / "instance_parameters.txt", 3)
    return MdrpInstance(
        folder.name,
        orders,
        restaurants,
        couriers,
        _num(params, 0),
        int(_num(params, 1)),
        int(_num(params, 2)),
    )


def load_mdrp(folder: Path, *, origin: Point = DEFAULT_ORIGIN) -> tuple[ReplayInput, MdrpInstance]:
    """The instance as a replay input (orders, couriers as drivers, its travel model)."""
    instance = read_instance(folder)
    projection = PlanarProjection(origin)
    orders = tuple(
        LoggedOrder(
            order_id=oid,
            placed_at=float(placed),
            restaurant_id=rid,
            restaurant=projection.to_point(*instance.restaurants[rid]),
            customer=projection.to_point(x, y),
            ready_at=float(ready),
        )
        for oid, (x, y, placed, rid, ready) in sorted(instance.orders.items(), key=_by_time)
    )
    drivers = tuple(
        DriverShift(cid, projection.to_point(x, y), float(on), float(off))
        for cid, (x, y, on, off) in instance.couriers.items()
    )
    data = ReplayInput(
        name=folder.name,
        orders=orders,
        drivers=drivers,
        service_times=ServiceTimes(instance.pickup_minutes, instance.dropoff_minutes),
        eta=PlanarEta(projection, instance.meters_per_minute),
        source_hash=_hash(folder),
    )
    return data, instance


def _by_time(item: tuple[str, tuple[float, float, int, str, int]]) -> tuple[int, str]:
    return item[1][2], item[0]


def _rows(path: Path, width: int) -> list[list[str]]:
    if not path.is_file():
        raise MdrpFormatError(f"{path}: missing")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    for line, row in enumerate(rows, start=2):
        if len(row) < width:
            raise MdrpFormatError(f"{path}: line {line}: expected {width} columns, got {len(row)}")
        for column, value in enumerate(row[:width], start=1):
            if not value.strip():
                raise MdrpFormatError(f"{path}: line {line}, column {column}: empty")
    return [[v.strip() for v in row] for row in rows]


def _num(row: list[str], index: int) -> float:
    try:
        return float(row[index])
    except ValueError:
        raise MdrpFormatError(f"column {index + 1}: not a number: {row[index]!r}") from None


def _hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()
