"""Grubhub MDRP instances, read in place, as replay inputs.

An instance folder holds tab-separated files with one header line each
(``../shared/data/mdrp/README.md``). :func:`read_instance` keeps what was published —
metre coordinates, ids, whole minutes and the parameters — as an :class:`MdrpInstance`,
which the solution checker uses. :func:`load_mdrp_instance` returns it with the replay
input made of it: the metres mapped to lat/lon around an origin (the services speak
lat/lon), the instance's own travel model and service minutes. Malformed files raise
:class:`MdrpFormatError` naming file, line and column.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from replay.inputs import DriverShift, LoggedOrder, ReplayInput
from swifteats.domain.eta import PlanarEta, PlanarProjection
from swifteats.domain.events import MAX_RADIUS_KM
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point

ORDERS_FILE = "orders.txt"
RESTAURANTS_FILE = "restaurants.txt"
COURIERS_FILE = "couriers.txt"
PARAMETERS_FILE = "instance_parameters.txt"
HEADERS = {
    ORDERS_FILE: ("order", "x", "y", "placement_time", "restaurant", "ready_time"),
    RESTAURANTS_FILE: ("restaurant", "x", "y"),
    COURIERS_FILE: ("courier", "x", "y", "on_time", "off_time"),
    PARAMETERS_FILE: (
        "meters_per_minute",
        "pickup service minutes",
        "dropoff service minutes",
        "target click-to-door",
        "maximum click-to-door",
        "pay per order",
        "guaranteed pay per hour",
    ),
}
"""Each input file's header, in column order; also the files the source hash covers."""
DEFAULT_ORIGIN = Point(40.7128, -74.0060)
MDRP_DIR_ENV = "SWIFTEATS_MDRP_DIR"

T = TypeVar("T")


class MdrpFormatError(ValueError):
    """A malformed instance file; the message names file, line and column."""


class MdrpOrder(NamedTuple):
    """An order as published: drop-off location (metres), its restaurant, minutes."""

    x: float
    y: float
    placement_time: int
    restaurant: str
    ready_time: int

    @property
    def location(self) -> tuple[float, float]:
        """The customer's position in metres."""
        return (self.x, self.y)


class MdrpCourier(NamedTuple):
    """A courier as published: start location (metres) and shift minutes."""

    x: float
    y: float
    on_time: int
    off_time: int

    @property
    def location(self) -> tuple[float, float]:
        """The courier's start position in metres."""
        return (self.x, self.y)


@dataclass(frozen=True, slots=True)
class MdrpInstance:
    """One instance as published: ids, metre coordinates, whole minutes, parameters."""

    name: str
    orders: Mapping[str, MdrpOrder]
    restaurants: Mapping[str, tuple[float, float]]
    couriers: Mapping[str, MdrpCourier]
    meters_per_minute: float
    pickup_minutes: int
    dropoff_minutes: int
    target_click_to_door: int
    max_click_to_door: int
    pay_per_order: float
    guaranteed_pay_per_hour: float

    @property
    def covering_radius_km(self) -> float:
        """A search radius that reaches every point of the map from any other, in whole km.

        The diagonal of the box around every restaurant, customer and courier start, plus
        a kilometre for the lat/lon projection; at most the services' limit (100 km).
        """
        points = [*self.restaurants.values(), *((o.x, o.y) for o in self.orders.values())]
        points += [(c.x, c.y) for c in self.couriers.values()]
        xs, ys = [x for x, _ in points], [y for _, y in points]
        diagonal_km = math.hypot(max(xs) - min(xs), max(ys) - min(ys)) / 1000
        return float(min(math.ceil(diagonal_km) + 1, MAX_RADIUS_KM))

    def travel(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        """The evaluator's travel minutes between two metre positions.

        ``ceil(sqrt(dx² + dy²) / meters_per_minute)`` in plain floats, the very
        expression of the published evaluator: on the published integer metres it is
        exact, so no rounding guard is wanted here.
        """
        dx, dy = b[0] - a[0], b[1] - a[1]
        return math.ceil(math.sqrt(dx * dx + dy * dy) / self.meters_per_minute)


class LoadedInstance(NamedTuple):
    """An instance as published and the replay input made of it."""

    instance: MdrpInstance
    data: ReplayInput


def mdrp_root() -> Path | None:
    """The folder of the instances, or None when it is absent.

    Returns:
        ``$SWIFTEATS_MDRP_DIR`` if set, else ``<repo>/../shared/data/mdrp`` (the repo
        being the folder that holds the ``replay`` package) — when that is a folder.
    """
    configured = os.environ.get(MDRP_DIR_ENV)
    repo = Path(__file__).resolve().parents[2]
    root = Path(configured) if configured else repo.parent / "shared" / "data" / "mdrp"
    return root if root.is_dir() else None


def load_mdrp_instance(folder: Path, *, origin: Point = DEFAULT_ORIGIN) -> LoadedInstance:
    """An MDRP instance folder, read in place, and the replay input made of it.

    Args:
        folder: the instance folder (``orders.txt``, ``restaurants.txt``,
            ``couriers.txt``, ``instance_parameters.txt``).
        origin: where metre (0, 0) lies on the map.

    Returns:
        The instance as :func:`read_instance` reads it, and the replay input: orders by
        placement time (ties in file order), couriers as driver shifts, the instance's
        service minutes and travel model (:class:`PlanarEta` around ``origin``) and the
        sha256 of the input files.

    Raises:
        FileNotFoundError: no folder, or a file missing in it.
        MdrpFormatError: a malformed file.
    """
    instance = read_instance(folder)
    projection = PlanarProjection(origin)
    data = ReplayInput(
        name=instance.name,
        orders=_logged_orders(instance, projection),
        drivers=_driver_shifts(instance, projection),
        service_times=ServiceTimes(float(instance.pickup_minutes), float(instance.dropoff_minutes)),
        eta=PlanarEta(projection, instance.meters_per_minute),
        source_hash=source_hash(folder),
    )
    return LoadedInstance(instance, data)


def read_instance(folder: Path) -> MdrpInstance:
    """The instance of ``folder`` exactly as published.

    Raises:
        FileNotFoundError: no folder, or a file missing in it.
        MdrpFormatError: a malformed file.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"no MDRP instance folder at {folder}")
    restaurants = _keyed(_rows(folder / RESTAURANTS_FILE), lambda r: (r.number(1), r.number(2)))
    orders = _keyed(_rows(folder / ORDERS_FILE), lambda r: _order(r, restaurants))
    couriers = _keyed(_rows(folder / COURIERS_FILE), _courier)
    return _with_parameters(folder, orders, restaurants, couriers)


def source_hash(folder: Path) -> str:
    """sha256 over the bytes of the four input files, in a fixed order."""
    digest = hashlib.sha256()
    for name in HEADERS:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class _Row:
    """One data line of an instance file, whose parsers name file, line and column."""

    path: Path
    line: int
    fields: list[str]

    def text(self, column: int) -> str:
        return self.fields[column]

    def number(self, column: int) -> float:
        try:
            value = float(self.fields[column])
        except ValueError:
            raise self.error(column, "not a number") from None
        if not math.isfinite(value):
            raise self.error(column, "not a finite number")
        return value

    def minute(self, column: int) -> int:
        value = self.number(column)
        if not value.is_integer():
            raise self.error(column, "not a whole number of minutes")
        return int(value)

    def error(self, column: int, problem: str) -> MdrpFormatError:
        name = HEADERS[self.path.name][column]
        return MdrpFormatError(
            f"{self.path}: line {self.line}, column {column + 1} ({name}): "
            f"{problem}: {self.fields[column]!r}"
        )


def _rows(path: Path) -> list[_Row]:
    """The data lines of ``path``, checked against its header and column count."""
    if not path.is_file():
        raise FileNotFoundError(f"MDRP instance file missing: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = HEADERS[path.name]
    if not lines or tuple(f.strip() for f in lines[0].split("\t")) != header:
        expected = "\t".join(header)
        raise MdrpFormatError(f"{path}: line 1: expected the header {expected!r}")
    rows = [
        _Row(path, number, [f.strip() for f in line.split("\t")])
        for number, line in enumerate(lines[1:], start=2)
        if line.strip()
    ]
    for row in rows:
        _check_width(row, len(header))
    return rows


def _check_width(row: _Row, width: int) -> None:
    if len(row.fields) != width:
        raise MdrpFormatError(
            f"{row.path}: line {row.line}: expected {width} columns (tab-separated), "
            f"got {len(row.fields)}"
        )
    for column, value in enumerate(row.fields):
        if not value:
            raise row.error(column, "empty")


def _keyed(rows: list[_Row], parse: Callable[[_Row], T]) -> dict[str, T]:
    """Rows by their id (column 1), which must be unique."""
    keyed: dict[str, T] = {}
    for row in rows:
        if row.text(0) in keyed:
            raise row.error(0, "duplicate id")
        keyed[row.text(0)] = parse(row)
    return keyed


def _order(row: _Row, restaurants: Mapping[str, tuple[float, float]]) -> MdrpOrder:
    if row.text(4) not in restaurants:
        raise row.error(4, f"unknown restaurant (not in {RESTAURANTS_FILE})")
    return MdrpOrder(row.number(1), row.number(2), row.minute(3), row.text(4), row.minute(5))


def _courier(row: _Row) -> MdrpCourier:
    courier = MdrpCourier(row.number(1), row.number(2), row.minute(3), row.minute(4))
    if courier.off_time < courier.on_time:
        raise row.error(4, "off_time before on_time")
    return courier


def _with_parameters(
    folder: Path,
    orders: dict[str, MdrpOrder],
    restaurants: dict[str, tuple[float, float]],
    couriers: dict[str, MdrpCourier],
) -> MdrpInstance:
    path = folder / PARAMETERS_FILE
    rows = _rows(path)
    if len(rows) != 1:
        raise MdrpFormatError(f"{path}: expected one line of values, got {len(rows)}")
    (row,) = rows
    if row.number(0) <= 0:
        raise row.error(0, "not a positive speed")
    return MdrpInstance(
        name=folder.name,
        orders=orders,
        restaurants=restaurants,
        couriers=couriers,
        meters_per_minute=row.number(0),
        pickup_minutes=row.minute(1),
        dropoff_minutes=row.minute(2),
        target_click_to_door=row.minute(3),
        max_click_to_door=row.minute(4),
        pay_per_order=row.number(5),
        guaranteed_pay_per_hour=row.number(6),
    )


def _logged_orders(instance: MdrpInstance, projection: PlanarProjection) -> tuple[LoggedOrder, ...]:
    by_placement = sorted(instance.orders.items(), key=lambda item: item[1].placement_time)
    return tuple(
        LoggedOrder(
            order_id=order_id,
            placed_at=float(order.placement_time),
            restaurant_id=order.restaurant,
            restaurant=projection.to_point(*instance.restaurants[order.restaurant]),
            customer=projection.to_point(order.x, order.y),
            ready_at=float(order.ready_time),
        )
        for order_id, order in by_placement
    )


def _driver_shifts(instance: MdrpInstance, projection: PlanarProjection) -> tuple[DriverShift, ...]:
    return tuple(
        DriverShift(
            courier_id,
            projection.to_point(courier.x, courier.y),
            float(courier.on_time),
            float(courier.off_time),
        )
        for courier_id, courier in instance.couriers.items()
    )
