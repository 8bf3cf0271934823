"""Reading back what :mod:`swifteats.adapters.redis_drivers` stores in Redis.

Anything in Redis may have been written by hand or by an older version, so a value that
cannot be read never escapes as a crash of a whole search: :func:`found_drivers` and
:func:`driver_plan` leave it out and log it, :func:`driver_record` names it in an
:class:`~swifteats.domain.drivers.UnreadableDriverError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from swifteats.domain.drivers import (
    Claim,
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
    RouteStops,
    UnreadableDriverError,
    checked_shift_end,
)
from swifteats.domain.geo import Point

log = logging.getLogger("swifteats.drivers")
T = TypeVar("T")

GeoHit = tuple[str, tuple[float, float]]
"""One answer of GEOSEARCH WITHCOORD: ``(member, (longitude, latitude))``."""

_STATUSES = {status.value: status for status in DriverStatus}
"""Each status by its stored name (a dict look-up; the enum's own is several times slower)."""
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, OverflowError, OSError)
"""What parsing a malformed stored value raises (JSON, enum, float, epoch conversions)."""


def driver_record(
    driver_id: str,
    location: Point,
    status: str,
    order_id: str | None,
    shift_end: str | None,
    route: str | None = None,
    available_since: str | None = None,
) -> DriverRecord:
    """A driver as stored (instants as epoch seconds); :class:`UnreadableDriverError` when
    a value cannot be read."""
    try:
        return DriverRecord(
            driver_id,
            location,
            _status(status),
            order_id,
            _shift_end(shift_end),
            _route(route),
            _instant(available_since),
        )
    except _UNREADABLE as error:
        raise UnreadableDriverError(driver_id, str(error)) from None


def _status(stored: str) -> DriverStatus:
    status = _STATUSES.get(stored)
    if status is None:
        raise ValueError(f"{stored!r} is not a valid DriverStatus")
    return status


def _route(stored: str | None) -> RouteStops:
    """``[orderId, eta, …]`` as ``((orderId, eta), …)``; none stored: empty."""
    if stored is None:
        return ()
    parts = json.loads(stored)
    return tuple((str(parts[i]), int(parts[i + 1])) for i in range(0, len(parts), 2))


def searched_drivers(answer: Sequence[Any]) -> list[DriverRecord]:
    """The drivers of a search script's answer, ``[driverId, longitude, latitude, status,
    shift end or None, available since or None, …]``, in its order, as
    :func:`found_drivers` keeps them."""
    found = (
        found_driver(driver_id, Point(float(latitude), float(longitude)), status, end, since)
        for driver_id, longitude, latitude, status, end, since in zip(
            *(answer[i::6] for i in range(6)), strict=True
        )
    )
    return [driver for driver in found if driver is not None]


def found_drivers(
    hits: Iterable[GeoHit],
    statuses: Iterable[str | None],
    shift_ends: Iterable[str | None],
    available_since: Iterable[str | None],
) -> list[DriverRecord]:
    """The drivers a search found, in its order; those without a status (not registered)
    are left out, those whose record cannot be read too, with a warning each."""
    found = (
        found_driver(driver_id, Point(position[1], position[0]), status, end, since)
        for (driver_id, position), status, end, since in zip(
            hits, statuses, shift_ends, available_since, strict=True
        )
    )
    return [driver for driver in found if driver is not None]


def found_driver(
    driver_id: str,
    where: Point,
    status: str | None,
    shift_end: str | None,
    available_since: str | None,
) -> DriverRecord | None:
    """One driver a search found; None when it has no status (not registered) or its
    record cannot be read (with a warning)."""
    if status is None:
        return None
    try:
        return DriverRecord(
            driver_id,
            where,
            _status(status),
            None,
            _shift_end(shift_end),
            (),
            _instant(available_since),
        )
    except _UNREADABLE as error:
        log.warning("search skips a driver: %s", UnreadableDriverError(driver_id, str(error)))
        return None


def driver_plan(driver_id: str, end: str | None, queued: str | None) -> DriverPlan | None:
    """The route end and next route stored for a driver, None when neither is (readable);
    a part that cannot be read is left out with a warning."""
    plan = DriverPlan(
        _readable(driver_id, "route end", _route_end, end),
        _readable(driver_id, "next route", _queued_route, queued),
    )
    return None if plan.end is None and plan.queued is None else plan


def _readable(driver_id: str, what: str, parse: Callable[[str], T], stored: str | None) -> T | None:
    if stored is None:
        return None
    try:
        return parse(stored)
    except _UNREADABLE as error:
        log.warning("driver %r: stored %s %r cannot be read (%s)", driver_id, what, stored, error)
        return None


def _shift_end(epoch: str | None) -> datetime | None:
    return None if epoch is None else _shift_end_at(epoch)


@lru_cache(maxsize=1 << 14)
def _shift_end_at(epoch: str) -> datetime:
    """A stored shift end as an instant; remembered, since a search reads the same ones
    again and again (a refused one raises and is not remembered)."""
    moment = datetime.fromtimestamp(float(epoch), UTC)
    checked_shift_end(moment)
    return moment


def _instant(epoch: str | None) -> datetime | None:
    return None if epoch is None else _instant_at(epoch)


@lru_cache(maxsize=1 << 14)
def _instant_at(epoch: str) -> datetime:
    """A stored instant; remembered, as a driver's stays the same from search to search."""
    return datetime.fromtimestamp(float(epoch), UTC)


def instant_arg(moment: datetime | None) -> str:
    """An instant as scripts store it: epoch seconds (``""``: none)."""
    return "" if moment is None else repr(moment.timestamp())


def _route_end(stored: str) -> RouteEnd:
    free_at, longitude, latitude = json.loads(stored)
    return RouteEnd(datetime.fromtimestamp(free_at, UTC), Point(latitude, longitude))


def _queued_route(stored: str) -> QueuedRoute:
    queued = json.loads(stored)
    route = queued["route"]
    etas = tuple((route[i], int(route[i + 1])) for i in range(0, len(route), 2))
    return QueuedRoute(etas, float(queued["minutes"]), Point(queued["lat"], queued["lon"]))


def stored_claim(held: str, *, existing: bool) -> Claim:
    """A claim as stored: ``driverId|eta``."""
    driver_id, _, eta = held.rpartition("|")
    return Claim(driver_id, int(eta), existing=existing)


def script_pairs(pairs: Iterable[tuple[str, int]]) -> list[str]:
    """Ids with ETAs as the Lua scripts read them: ``[id, eta, id, eta, …]``, all strings."""
    return [part for key, eta in pairs for part in (key, str(eta))]


def pairs_json(pairs: Iterable[tuple[str, int]]) -> str:
    """:func:`script_pairs` as the JSON argument of a script."""
    return json.dumps(script_pairs(pairs), ensure_ascii=False)


def route_end_json(end: RouteEnd | None) -> str:
    """Where and when a route ends, as scripts store it (``""``: no end)."""
    if end is None:
        return ""
    return json.dumps([end.free_at.timestamp(), end.location.longitude, end.location.latitude])


def queued_route_json(driver_id: str, route: QueuedRoute | None) -> str:
    """A busy driver's next route as scripts store it (``""``: none).

    Raises:
        ValueError: the route carries no order.
    """
    if route is None:
        return ""
    if not route.etas:
        raise ValueError(f"a route of {driver_id} carries no order")
    return json.dumps(
        {
            "route": script_pairs(route.etas),
            "minutes": route.minutes,
            "lon": route.end.longitude,
            "lat": route.end.latitude,
        },
        ensure_ascii=False,
    )
