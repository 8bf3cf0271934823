"""Drivers on a Redis Cluster: records sharded by driver, positions by region.

A cluster runs a Lua script only over keys of one hash slot (else ``CROSSSLOT``), so no
script here touches two keys (names in :class:`~swifteats.adapters.redis_keys.ShardedKeys`):

- a driver's record is one hash tagged by its id (status, order held, route, route end,
  next route, shift end, and ``region``: which region's GEO set holds its position);
- each region (a 1° cell) has a GEO set tagged by the region;
- each order's claim (``driverId|eta``) is one string tagged by the order id.

**Why it stays correct.** Whether a driver can be claimed is decided only by its record,
in one script, so a driver is never claimable twice, wherever its position is. Crossing a
region boundary first rewrites ``region`` in the record, then adds the position to the
new GEO set, then removes it from the old one: the driver is never in no set, and a search
keeps a GEO hit only if the record names that hit's region (a stale or doubled entry is
skipped), so it is found once. Between the record and the GEO write (one round trip) a
search may miss a driver that just crossed; it is never lost.

**Claims take several steps**, each atomic: read the order's claim (held: answer it);
take the first available driver of the ranking (one script per driver tried); write the
order's claim with SET NX. Losing that SET to a concurrent claim of the same order undoes
the driver's claim and answers the winner. A route reserves its orders' claims after
taking the driver and undoes both if any order is taken. A release that starts a next
route reserves that route's orders first, and starts it only if all were free.

**Left open**: a process dying between taking a driver and writing the order's claim
leaves that driver busy with an order that does not name it (a later claim of the same
order re-adopts it if it is ranked again). A search is read from several GEO sets at
slightly different moments. Bulk calls (``register_many``, ``release_many``) run one
script per driver: a cluster pipeline cannot carry scripts.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import redis
from redis.cluster import RedisCluster

from swifteats.adapters import redis_sharded_scripts as lua
from swifteats.adapters.memory_drivers import redis_geo_distance_m
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.adapters.redis_keys import ShardedKeys, region_of, regions_touched
from swifteats.adapters.redis_records import (
    GeoHit,
    driver_plan,
    driver_record,
    found_drivers,
    instant_arg,
    pairs_json,
    queued_route_json,
    route_end_json,
    stored_claim,
)
from swifteats.domain.drivers import (
    Claim,
    DriverHoldsOrderError,
    DriverIndex,
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
    UnknownDriverError,
    checked_shift_end,
    union_of,
)
from swifteats.domain.geo import Point, geo_key

_RECORD = ("status", "order", "shift_end", "route", "region", "available_since")
_Hit = tuple[float, str, str, tuple[float, float]]
"""A GEOSEARCH answer with its region: ``(metres, driverId, region, (longitude, latitude))``."""


def driver_index_for(client: redis.Redis | RedisCluster, prefix: str) -> DriverIndex:
    """The sharded index on a cluster client, the single-node one on a server's."""
    if isinstance(client, RedisCluster):
        return ShardedRedisDriverIndex(client, prefix)
    return RedisDriverIndex(client, prefix)


class ShardedRedisDriverIndex:
    """:class:`~swifteats.domain.drivers.DriverIndex` over a Redis Cluster (or any server)."""

    def __init__(self, client: redis.Redis | RedisCluster, prefix: str = "swifteats") -> None:
        self._redis = client
        self._keys = ShardedKeys(prefix)
        scripts = {
            name: client.register_script(getattr(lua, name))
            for name in ("REGISTER", "MOVE", "SET_STATUS", "CLAIM", "CLAIM_ROUTE", "UNCLAIM")
            + ("QUEUE_ROUTE", "RELEASE", "DELETE_IF")
        }
        self._script = scripts

    def _run(self, name: str, key: str, *args: str | float) -> Any:
        return self._script[name](keys=[key], args=list(args))

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
        driver = DriverRecord(driver_id, location, status, None, shift_ends_at, (), at)
        refused = self._register([driver])
        if refused:
            raise DriverHoldsOrderError(*refused[0])

    def register_many(self, drivers: Iterable[DriverRecord]) -> int:
        """:meth:`register` each driver, available since its ``available_since`` (a driver
        holding an order and made available is left as it was); returns how many were
        written. A refused shift end raises ValueError before any driver is written."""
        pending = list(drivers)
        for driver in pending:
            checked_shift_end(driver.shift_ends_at)
        return len(pending) - len(self._register(pending))

    def _register(self, drivers: list[DriverRecord]) -> list[tuple[str, str]]:
        refused, moves = [], []
        for d in drivers:
            region = region_of(d.location)
            end = instant_arg(d.shift_ends_at)
            since = instant_arg(d.available_since if d.status is DriverStatus.AVAILABLE else None)
            key = self._keys.driver(d.driver_id)
            answer = self._run("REGISTER", key, d.status, region, end, since)
            if answer[0] == "held":
                refused.append((d.driver_id, answer[1]))
            else:
                moves.append((d.driver_id, d.location, answer[1]))
        self._place(moves)
        return refused

    def _place(self, moves: Iterable[tuple[str, Point, str]]) -> None:
        """Put each ``(driver, position, region it was in)`` in its region's GEO set and
        out of the old one (one pipelined round trip per node)."""
        pipe = self._redis.pipeline(transaction=False)
        for driver_id, where, old in moves:
            region = region_of(where)
            pipe.geoadd(self._keys.region(region), (where.longitude, where.latitude, driver_id))
            pipe.sadd(self._keys.regions, region)
            if old and old != region:
                pipe.zrem(self._keys.region(old), driver_id)
        pipe.execute()

    def move(self, driver_id: str, location: Point) -> None:
        """Update a registered driver's position."""
        answer = self._run("MOVE", self._keys.driver(driver_id), region_of(location))
        if answer[0] == "unknown":
            raise UnknownDriverError(driver_id)
        self._place([(driver_id, location, answer[1])])

    def set_status(self, driver_id: str, status: DriverStatus, at: datetime | None = None) -> None:
        """Change a registered driver's status (one made available: since ``at``); refused
        if it holds an order and would be made available."""
        key = self._keys.driver(driver_id)
        answer = self._run("SET_STATUS", key, status.value, instant_arg(at))
        if answer[0] == "unknown":
            raise UnknownDriverError(driver_id)
        if answer[0] == "held":
            raise DriverHoldsOrderError(driver_id, answer[1])

    def get(self, driver_id: str) -> DriverRecord | None:
        """One driver, or None; UnreadableDriverError if its record cannot be read."""
        record = cast(list[str | None], self._redis.hmget(self._keys.driver(driver_id), _RECORD))
        status, order_id, shift_end, route, region, since = record
        if status is None or region is None:
            return None
        (position,) = self._redis.geopos(self._keys.region(region), driver_id)
        if position is None:
            return None
        where = Point(position[1], position[0])
        return driver_record(driver_id, where, status, order_id, shift_end, route, since)

    def search(self, center: Point, radius_km: float) -> list[DriverRecord]:
        """Every driver within ``radius_km`` of ``center``, nearest first, read from every
        region the circle touches."""
        return self.search_many([(center, radius_km)])[0]

    def search_union(self, areas: Sequence[tuple[Point, float]]) -> list[DriverRecord]:
        """Every driver within any of the areas, once (from :meth:`search_many`)."""
        return union_of(self.search_many(areas))

    def search_many(self, areas: Sequence[tuple[Point, float]]) -> list[list[DriverRecord]]:
        """:meth:`search` for each ``(center, radius_km)``: one pipeline of GEOSEARCHes,
        one of driver records."""
        if not areas:
            return []
        touched = [regions_touched(center, radius) for center, radius in areas]
        if any(regions is None for regions in touched):
            in_use = sorted(cast(set[str], self._redis.smembers(self._keys.regions)))
            touched = [in_use if regions is None else regions for regions in touched]
        pipe = self._redis.pipeline(transaction=False)
        for (center, radius), regions in zip(areas, touched, strict=True):
            for region in cast(list[str], regions):
                pipe.geosearch(
                    self._keys.region(region),
                    longitude=center.longitude,
                    latitude=center.latitude,
                    radius=radius,
                    unit="km",
                    withcoord=True,
                    sort="ASC",
                )
        answers = iter(pipe.execute())
        found = [
            _nearest_first(center, [(region, next(answers)) for region in cast(list[str], regions)])
            for (center, _), regions in zip(areas, touched, strict=True)
        ]
        ids = list(dict.fromkeys(hit[1] for hits in found for hit in hits))
        for driver_id in ids:
            pipe.hmget(
                self._keys.driver(driver_id), "status", "shift_end", "region", "available_since"
            )
        records = dict(zip(ids, pipe.execute(), strict=True))
        return [_found(hits, records) for hits in found]

    def claim(self, order_id: str, ranked: list[tuple[str, int]]) -> Claim | None:
        """Give the order its first still-available driver, or the one it holds."""
        order_key = self._keys.order(order_id)
        held = cast(str | None, self._redis.get(order_key))
        if held is not None:
            return stored_claim(held, existing=True)
        for driver_id, eta in ranked:
            route = pairs_json([(order_id, eta)])
            if self._run("CLAIM", self._keys.driver(driver_id), order_id, route):
                claim = f"{driver_id}|{eta}"
                if self._redis.set(order_key, claim, nx=True):
                    return stored_claim(claim, existing=False)
                self._run("UNCLAIM", self._keys.driver(driver_id), order_id, route)
                return stored_claim(cast(str, self._redis.get(order_key)), existing=True)
        return None

    def claim_route(
        self, driver_id: str, etas: list[tuple[str, int]], end: RouteEnd | None = None
    ) -> bool:
        """Give an available driver every order of the route (none held yet)."""
        if not etas:
            raise ValueError(f"a route of {driver_id} carries no order")
        if self.claims([order_id for order_id, _ in etas]):
            return False
        ends = route_end_json(end)
        route = pairs_json(etas)
        last = etas[-1][0]
        if not self._run("CLAIM_ROUTE", self._keys.driver(driver_id), route, last, ends):
            return False
        if self._reserve(driver_id, etas):
            return True
        self._run("UNCLAIM", self._keys.driver(driver_id), last, route)
        return False

    def _reserve(self, driver_id: str, etas: Sequence[tuple[str, int]]) -> bool:
        """Write every order's claim for the driver (SET NX), or none: a taken order
        undoes the ones written."""
        pipe = self._redis.pipeline(transaction=False)
        for order_id, eta in etas:
            pipe.set(self._keys.order(order_id), f"{driver_id}|{eta}", nx=True)
        written = pipe.execute()
        if all(written):
            return True
        for (order_id, eta), ok in zip(etas, written, strict=True):
            if ok:
                self._run("DELETE_IF", self._keys.order(order_id), f"{driver_id}|{eta}")
        return False

    def queue_route(self, driver_id: str, route: QueuedRoute | None) -> bool:
        """Give a busy driver this next route (None: none); False if it is not busy."""
        queued = queued_route_json(driver_id, route)
        return bool(self._run("QUEUE_ROUTE", self._keys.driver(driver_id), queued))

    def plans(self, driver_ids: list[str]) -> dict[str, DriverPlan]:
        """Route ends and next routes of these drivers; unreadable parts are left out."""
        pipe = self._redis.pipeline(transaction=False)
        for driver_id in driver_ids:
            pipe.hmget(self._keys.driver(driver_id), "route_end", "next_route")
        plans = {
            driver_id: driver_plan(driver_id, end, queued)
            for driver_id, (end, queued) in zip(driver_ids, pipe.execute(), strict=True)
        }
        return {driver_id: plan for driver_id, plan in plans.items() if plan is not None}

    def claims(self, order_ids: list[str]) -> dict[str, Claim]:
        """The drivers these orders hold."""
        pipe = self._redis.pipeline(transaction=False)
        for order_id in order_ids:
            pipe.get(self._keys.order(order_id))
        held = cast(list[str | None], pipe.execute())
        return {
            order_id: stored_claim(h, existing=True)
            for order_id, h in zip(order_ids, held, strict=True)
            if h is not None
        }

    def release(
        self, driver_id: str, order_id: str, location: Point | None, at: datetime | None = None
    ) -> bool:
        """Free the driver of ``order_id`` at ``location`` (None: where it is) if it still
        holds it: it starts its next route if none of its orders is held, else it is
        available (since ``at``)."""
        key = self._keys.driver(driver_id)
        held, queued = cast(list[str | None], self._redis.hmget(key, "order", "next_route"))
        if held != order_id:
            return False
        reserved: list[tuple[str, int]] = []
        if queued is not None:
            reserved = _queued_etas(queued)
            if not self._reserve(driver_id, reserved):
                reserved = []
        region = "" if location is None else region_of(location)
        now = "" if at is None else repr(at.timestamp())
        take = "1" if reserved else "0"
        answer = self._run("RELEASE", key, order_id, region, now, take, queued or "")
        if answer[0] != 2:
            for reserved_id, eta in reserved:
                self._run("DELETE_IF", self._keys.order(reserved_id), f"{driver_id}|{eta}")
        if answer[0] == 0:
            return False
        if location is not None:
            self._place([(driver_id, location, answer[1])])
        return True

    def release_many(self, releases: Iterable[tuple[str, str, Point]]) -> int:
        """:meth:`release` each ``(driver_id, order_id, location)``; how many were freed."""
        return sum(1 for d, o, where in releases if self.release(d, o, where))

    def _members(self) -> list[tuple[str, str, str | None]]:
        """Every ``(region, driver, status)`` whose record names that region."""
        regions = sorted(cast(set[str], self._redis.smembers(self._keys.regions)))
        pipe = self._redis.pipeline(transaction=False)
        for region in regions:
            pipe.zrange(self._keys.region(region), 0, -1)
        members = [
            (region, driver_id)
            for region, ids in zip(regions, pipe.execute(), strict=True)
            for driver_id in ids
        ]
        for _, driver_id in members:
            pipe.hmget(self._keys.driver(driver_id), "status", "region")
        return [
            (region, driver_id, status)
            for (region, driver_id), (status, home) in zip(members, pipe.execute(), strict=True)
            if home == region
        ]

    def count_available(self) -> int:
        """How many drivers are available now (reads every record: O(drivers))."""
        return sum(1 for *_, status in self._members() if status == DriverStatus.AVAILABLE)

    def available_by_geo_key(self) -> dict[str, int]:
        """Available drivers per geo key of where they are (O(drivers))."""
        available = [(r, d) for r, d, status in self._members() if status == DriverStatus.AVAILABLE]
        pipe = self._redis.pipeline(transaction=False)
        for region, driver_id in available:
            pipe.geopos(self._keys.region(region), driver_id)
        keys: Counter[str] = Counter()
        for (found,) in pipe.execute():
            if found is not None:
                keys[geo_key(found[1], found[0])] += 1
        return dict(keys)


def _nearest_first(center: Point, answers: list[tuple[str, list[GeoHit]]]) -> list[_Hit]:
    """Merge each region's GEOSEARCH answer (nearest first) into one, nearest first, by
    the distance Redis sorts by (its answer's WITHDIST is rounded to 0.1 m)."""
    per_region = [
        [
            (redis_geo_distance_m(center, Point(lat, lon)), member, region, (lon, lat))
            for member, (lon, lat) in hits
        ]
        for region, hits in answers
    ]
    return list(heapq.merge(*per_region, key=lambda hit: hit[0]))


def _found(hits: list[_Hit], records: dict[str, list[str | None]]) -> list[DriverRecord]:
    """The hits whose record names their region, once each, as drivers."""
    kept: list[GeoHit] = []
    statuses, ends, since = [], [], []
    for _, driver_id, region, coord in hits:
        status, end, home, available_since = records[driver_id]
        if home == region:
            kept.append((driver_id, coord))
            statuses.append(status)
            ends.append(end)
            since.append(available_since)
    return found_drivers(kept, statuses, ends, since)


def _queued_etas(queued: str) -> list[tuple[str, int]]:
    """The orders of a stored next route; none if it cannot be read (it is dropped)."""
    try:
        route = json.loads(queued)["route"]
        return [(str(route[i]), int(route[i + 1])) for i in range(0, len(route), 2)]
    except (ValueError, TypeError, KeyError, IndexError):
        return []
