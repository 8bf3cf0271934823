"""The order log and driver schedule formats (CSV or Parquet), read with row-and-column errors.

Order log columns: ``order_id``, ``placed_at``, ``restaurant_id``, ``restaurant_lat``,
``restaurant_lon``, ``customer_lat``, ``customer_lon``, and ``ready_at`` or
``prep_minutes``; optional ``customer_id``, ``items`` (JSON list of
``[name, quantity, unit_price]``), ``total_amount``, ``driver_id`` (the historical driver).
Driver schedule columns: ``driver_id``, ``start_lat``, ``start_lon``, ``shift_start``,
``shift_end``. Times are minutes from the start of the day, or ISO-8601 instants with a
zone (then the day starts at midnight UTC of the first order).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from replay.inputs import DriverShift, LoggedOrder
from swifteats.domain.geo import Point, valid_coordinates

ORDER_COLUMNS = (
    "order_id",
    "placed_at",
    "restaurant_id",
    "restaurant_lat",
    "restaurant_lon",
    "customer_lat",
    "customer_lon",
)
DRIVER_COLUMNS = ("driver_id", "start_lat", "start_lon", "shift_start", "shift_end")
_MAX_ERRORS = 20
T = TypeVar("T")

Row = dict[str, Any]


class OrderLogError(ValueError):
    """A malformed log; the message lists each bad cell as ``row N, column C: reason``."""


def read_rows(path: Path) -> list[Row]:
    """The rows of a CSV or Parquet file as dicts."""
    if path.suffix == ".parquet":
        import polars as pl

        return pl.read_parquet(path).to_dicts()
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def day_start_of(rows: Iterable[Row]) -> datetime:
    """Midnight UTC of the earliest ISO instant among ``placed_at``, or 2026-01-01 for minutes."""
    instants = [_instant(r["placed_at"]) for r in rows if _instant(r.get("placed_at"))]
    first = min((i for i in instants if i is not None), default=None)
    base = first or datetime(2026, 1, 1, tzinfo=UTC)
    return base.replace(hour=0, minute=0, second=0, microsecond=0)


def parse_orders(path: Path, day_start: datetime) -> list[LoggedOrder]:
    """Read an order log; raise :class:`OrderLogError` naming every bad row and column."""
    return _parse(path, ORDER_COLUMNS, lambda row: _order(row, day_start))


def parse_drivers(path: Path, day_start: datetime) -> list[DriverShift]:
    """Read a driver schedule; raise :class:`OrderLogError` naming every bad row and column."""
    return _parse(path, DRIVER_COLUMNS, lambda row: _driver(row, day_start))


def _parse(path: Path, required: tuple[str, ...], build: Callable[[Row], T]) -> list[T]:
    rows = read_rows(path)
    missing = [c for c in required if rows and c not in rows[0]]
    if missing:
        raise OrderLogError(f"{path}: missing column(s) {', '.join(missing)}")
    parsed, errors = [], []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            parsed.append(build(row))
        except _CellError as error:
            errors.append(f"row {number}, column {error.column}: {error.reason}")
            if len(errors) >= _MAX_ERRORS:
                break
    if errors:
        raise OrderLogError(f"{path}:\n  " + "\n  ".join(errors))
    return parsed


class _CellError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column, self.reason = column, reason


def _order(row: Row, day_start: datetime) -> LoggedOrder:
    placed = _minutes(row, "placed_at", day_start)
    if _present(row.get("ready_at")):
        ready = _minutes(row, "ready_at", day_start)
    else:
        ready = placed + _number(row, "prep_minutes", minimum=0.0)
    if ready < placed:
        raise _CellError("ready_at", "the food is ready before the order was placed")
    items = _items(row)
    total = _number(row, "total_amount", minimum=0.0) if _present(row.get("total_amount")) else None
    return LoggedOrder(
        order_id=_text(row, "order_id"),
        placed_at=placed,
        restaurant_id=_text(row, "restaurant_id"),
        restaurant=_point(row, "restaurant_lat", "restaurant_lon"),
        customer=_point(row, "customer_lat", "customer_lon"),
        ready_at=ready,
        customer_id=str(row.get("customer_id") or ""),
        items=items,
        total_amount=total if total is not None else _items_total(items),
        historical_driver_id=str(row["driver_id"]) if _present(row.get("driver_id")) else None,
    )


def _driver(row: Row, day_start: datetime) -> DriverShift:
    start, end = _minutes(row, "shift_start", day_start), _minutes(row, "shift_end", day_start)
    if end <= start:
        raise _CellError("shift_end", "the shift ends before it starts")
    return DriverShift(_text(row, "driver_id"), _point(row, "start_lat", "start_lon"), start, end)


def _present(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def _text(row: Row, column: str) -> str:
    value = str(row.get(column) or "").strip()
    if not value:
        raise _CellError(column, "must not be empty")
    return value


def _number(row: Row, column: str, *, minimum: float | None = None) -> float:
    try:
        value = float(row.get(column))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _CellError(column, f"not a number: {row.get(column)!r}") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise _CellError(column, f"out of range: {value}")
    return value


def _point(row: Row, lat: str, lon: str) -> Point:
    point = Point(_number(row, lat), _number(row, lon))
    if not valid_coordinates(point.latitude, point.longitude):
        raise _CellError(lat, f"invalid coordinates ({point.latitude}, {point.longitude})")
    return point


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _minutes(row: Row, column: str, day_start: datetime) -> float:
    instant = _instant(row.get(column))
    if instant is not None:
        return (instant - day_start).total_seconds() / 60.0
    return _number(row, column, minimum=0.0)


def _items(row: Row) -> tuple[tuple[str, int, float], ...]:
    raw = row.get("items")
    if not _present(raw):
        return ()
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
        return tuple((str(n), int(q), float(p)) for n, q, p in parsed or ())
    except (ValueError, TypeError):
        raise _CellError("items", "must be a JSON list of [name, quantity, unit_price]") from None


def _items_total(items: tuple[tuple[str, int, float], ...]) -> float:
    return round(sum(q * p for _, q, p in items), 2)


def write_orders_csv(path: Path, orders: Iterable[LoggedOrder]) -> None:
    """Write an order log (times in minutes) that :func:`parse_orders` reads back."""
    columns = [*ORDER_COLUMNS, "ready_at", "customer_id", "items", "total_amount"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for o in orders:
            writer.writerow(
                [
                    o.order_id,
                    o.placed_at,
                    o.restaurant_id,
                    o.restaurant.latitude,
                    o.restaurant.longitude,
                    o.customer.latitude,
                    o.customer.longitude,
                    o.ready_at,
                    o.customer_id,
                    json.dumps([list(i) for i in o.items]),
                    o.total_amount,
                ]
            )


def write_drivers_csv(path: Path, drivers: Iterable[DriverShift]) -> None:
    """Write a driver schedule (times in minutes) that :func:`parse_drivers` reads back."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DRIVER_COLUMNS)
        for d in drivers:
            writer.writerow(
                [d.driver_id, d.start.latitude, d.start.longitude, d.shift_start, d.shift_end]
            )
