"""One DriverIndex contract, run over the in-memory index, a real Redis server and a
3-primary Redis Cluster (drivers sharded by region).

The Redis variant uses the server at 127.0.0.1:6379 (``REDIS_HOST``/``REDIS_PORT``
override it), a unique key prefix per test, and deletes its keys afterwards. It is
skipped, saying why, when no server answers PING. The cluster variant starts its own
cluster for the session (``redis_cluster_nodes``), a unique key prefix per test.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
import redis

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.adapters.redis_sharded import ShardedRedisDriverIndex
from swifteats.domain.drivers import (
    SHIFT_END_EARLIEST,
    SHIFT_END_LATEST,
    Claim,
    DriverHoldsOrderError,
    DriverIndex,
    DriverPlan,
    DriverRecord,
    DriverStatus,
    QueuedRoute,
    RouteEnd,
    RouteStops,
    UnknownDriverError,
    UnreadableDriverError,
)
from swifteats.domain.geo import Point, haversine_km

AVAILABLE, BUSY, OFFLINE = DriverStatus.AVAILABLE, DriverStatus.BUSY, DriverStatus.OFFLINE
CENTER = Point(40.7128, -74.0060)
KM_PER_DEGREE_LAT = haversine_km(Point(0, 0), Point(1, 0))
GEO_TOLERANCE = 1e-4
NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)
Bulk = InMemoryDriverIndex | RedisDriverIndex | ShardedRedisDriverIndex
"""The indexes with ``register_many`` and ``release_many`` (not in the port)."""


def north(km: float) -> Point:
    """A point ``km`` kilometres north of the centre."""
    return Point(CENTER.latitude + km / KM_PER_DEGREE_LAT, CENTER.longitude)


def _redis_index(client: redis.Redis) -> Iterator[RedisDriverIndex]:
    prefix = f"test:{uuid.uuid4()}"
    yield RedisDriverIndex(client, prefix=prefix)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _sharded_index(request: pytest.FixtureRequest) -> ShardedRedisDriverIndex:
    client = request.getfixturevalue("cluster_client")
    return ShardedRedisDriverIndex(client, prefix=f"test:{uuid.uuid4()}")


@pytest.fixture
def redis_index(redis_client: redis.Redis) -> Iterator[RedisDriverIndex]:
    yield from _redis_index(redis_client)


@pytest.fixture
def index(request: pytest.FixtureRequest) -> Iterator[DriverIndex]:
    if request.param == "memory":
        yield InMemoryDriverIndex()
    elif request.param == "cluster":
        yield _sharded_index(request)
    else:
        yield from _redis_index(request.getfixturevalue("redis_client"))


@pytest.fixture(params=["redis", pytest.param("cluster")])
def shared_index(request: pytest.FixtureRequest) -> Iterator[DriverIndex]:
    """An index that several threads share: a server's, or a cluster's."""
    if request.param == "cluster":
        yield _sharded_index(request)
    else:
        yield from _redis_index(request.getfixturevalue("redis_client"))


def assert_near(actual: Point, expected: Point) -> None:
    assert actual.latitude == pytest.approx(expected.latitude, abs=GEO_TOLERANCE)
    assert actual.longitude == pytest.approx(expected.longitude, abs=GEO_TOLERANCE)


@pytest.mark.parametrize(
    "index",
    [
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.redis),
    ],
    indirect=True,
)
class TestDriverIndexContract:
    def test_register_then_get(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        record = index.get("d1")
        assert record is not None
        assert record.driver_id == "d1"
        assert record.status is AVAILABLE
        assert record.order_id is None
        assert_near(record.location, CENTER)

    def test_shift_end_is_kept_and_shown_by_search(self, index: DriverIndex) -> None:
        from datetime import UTC, datetime

        ends = datetime(2026, 1, 1, 21, 30, tzinfo=UTC)
        index.register("d1", CENTER, AVAILABLE, ends)
        index.register("d2", CENTER, AVAILABLE)
        record = index.get("d1")
        assert record is not None and record.shift_ends_at == ends
        found = {d.driver_id: d.shift_ends_at for d in index.search(CENTER, 1.0)}
        assert found == {"d1": ends, "d2": None}

    def test_get_unknown_is_none(self, index: DriverIndex) -> None:
        assert index.get("nobody") is None

    def test_register_again_replaces_position_and_status(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.register("d1", north(2), OFFLINE)
        record = index.get("d1")
        assert record is not None
        assert record.status is OFFLINE
        assert_near(record.location, north(2))

    def test_search_returns_drivers_in_radius_nearest_first_with_status(
        self, index: DriverIndex
    ) -> None:
        index.register("far", north(3.0), AVAILABLE)
        index.register("out", north(6.0), AVAILABLE)
        index.register("busy", north(0.5), BUSY)
        index.register("mid", north(1.5), AVAILABLE)
        index.register("south_out", north(-5.5), AVAILABLE)
        found = index.search(CENTER, 5.0)
        assert [d.driver_id for d in found] == ["busy", "mid", "far"]
        assert [d.status for d in found] == [BUSY, AVAILABLE, AVAILABLE]
        assert_near(found[1].location, north(1.5))

    def test_search_of_an_empty_area(self, index: DriverIndex) -> None:
        index.register("far", north(20.0), AVAILABLE)
        assert index.search(CENTER, 5.0) == []

    def test_claim_takes_the_first_available_in_the_ranking(self, index: DriverIndex) -> None:
        for driver_id in ("d1", "d2", "d3"):
            index.register(driver_id, CENTER, AVAILABLE)
        claim = index.claim("order_1", [("d3", 12), ("d1", 7), ("d2", 9)])
        assert claim == Claim("d3", 12, existing=False)
        d3 = index.get("d3")
        assert d3 is not None
        assert d3.status is BUSY
        assert d3.order_id == "order_1"
        assert index.count_available() == 2

    def test_a_second_claim_for_the_same_order_returns_the_held_driver(
        self, index: DriverIndex
    ) -> None:
        for driver_id in ("d1", "d2"):
            index.register(driver_id, CENTER, AVAILABLE)
        first = index.claim("order_1", [("d1", 7), ("d2", 9)])
        again = index.claim("order_1", [("d2", 9), ("d1", 7)])
        assert first == Claim("d1", 7, existing=False)
        assert again == Claim("d1", 7, existing=True)
        d2 = index.get("d2")
        assert d2 is not None
        assert d2.status is AVAILABLE
        assert index.count_available() == 1

    def test_claim_takes_any_driver_id_as_it_is(self, index: DriverIndex) -> None:
        odd = ['d,1|x "q" \\ \n', "дрᚢ-ßé-🛵", "12", "[]"]
        for driver_id in odd:
            index.register(driver_id, CENTER, AVAILABLE)
        ranking = [(driver_id, 7 + i) for i, driver_id in enumerate(odd)]
        for i, driver_id in enumerate(odd):
            assert index.claim(f"order_{i}", ranking) == Claim(driver_id, 7 + i, existing=False)
            held = index.get(driver_id)
            assert held is not None and held.order_id == f"order_{i}"
        assert index.claim("order_0", []) == Claim(odd[0], 7, existing=True)

    def test_claim_skips_busy_and_offline_drivers(self, index: DriverIndex) -> None:
        index.register("busy", CENTER, BUSY)
        index.register("offline", CENTER, OFFLINE)
        index.register("free", north(1), AVAILABLE)
        claim = index.claim("order_1", [("busy", 5), ("offline", 5), ("ghost", 5), ("free", 6)])
        assert claim == Claim("free", 6, existing=False)
        busy = index.get("busy")
        assert busy is not None
        assert busy.order_id is None

    def test_claim_reaches_past_a_long_run_of_taken_drivers(self, index: DriverIndex) -> None:
        ranking = [(f"d{i:02d}", i) for i in range(40)]
        for driver_id, _ in ranking:
            index.register(driver_id, CENTER, BUSY if driver_id < "d37" else AVAILABLE)
        assert index.claim("order_1", ranking) == Claim("d37", 37, existing=False)
        assert index.claim("order_1", ranking[:3]) == Claim("d37", 37, existing=True)

    def test_claim_returns_none_when_nobody_is_available(self, index: DriverIndex) -> None:
        index.register("busy", CENTER, BUSY)
        assert index.claim("order_1", [("busy", 5)]) is None
        assert index.claim("order_2", []) is None
        assert index.count_available() == 0

    def test_two_orders_get_two_drivers(self, index: DriverIndex) -> None:
        for driver_id in ("d1", "d2"):
            index.register(driver_id, CENTER, AVAILABLE)
        ranking = [("d1", 5), ("d2", 6)]
        assert index.claim("order_1", ranking) == Claim("d1", 5, existing=False)
        assert index.claim("order_2", ranking) == Claim("d2", 6, existing=False)
        assert index.claim("order_3", ranking) is None

    def test_a_route_claims_one_driver_for_every_order_and_its_last_drop_frees_it(
        self, index: DriverIndex
    ) -> None:
        index.register("d1", CENTER, AVAILABLE)
        assert index.claim_route("d1", [("o1", 12), ("o2", 17)]) is True
        assert index.claims(["o1", "o2", "o3"]) == {
            "o1": Claim("d1", 12, existing=True),
            "o2": Claim("d1", 17, existing=True),
        }
        assert index.count_available() == 0
        assert index.release("d1", "o1", north(1)) is False
        assert index.release("d1", "o2", north(2)) is True
        record = index.get("d1")
        assert record is not None
        assert record.status is AVAILABLE
        assert_near(record.location, north(2))

    def test_a_route_is_refused_whole_when_the_driver_or_an_order_is_taken(
        self, index: DriverIndex
    ) -> None:
        for driver_id in ("d1", "d2"):
            index.register(driver_id, CENTER, AVAILABLE)
        index.claim("o1", [("d1", 5)])
        assert index.claim_route("d1", [("o2", 9)]) is False
        assert index.claim_route("d2", [("o2", 9), ("o1", 11)]) is False
        assert index.claims(["o2"]) == {}
        d2 = index.get("d2")
        assert d2 is not None
        assert d2.status is AVAILABLE
        assert index.claim("o1", [("d2", 5)]) == Claim("d1", 5, existing=True)
        with pytest.raises(ValueError, match="no order"):
            index.claim_route("d2", [])

    def test_a_busy_drivers_next_route_starts_at_its_last_drop_off(
        self, index: DriverIndex
    ) -> None:
        index.register("d1", CENTER, AVAILABLE)
        end = RouteEnd(NOON + timedelta(minutes=20), north(2))
        assert index.claim_route("d1", [("o1", 12)], end) is True
        following = QueuedRoute((("o2", 9), ("o3", 15)), 19.0, north(4))
        assert index.queue_route("d1", following) is True
        assert index.plans(["d1", "d2"]) == {"d1": DriverPlan(end, following)}
        assert index.claims(["o2", "o3"]) == {}

        done = NOON + timedelta(minutes=21)
        assert index.release("d1", "o1", north(2), done) is True

        record = index.get("d1")
        assert record is not None
        assert (record.status, record.order_id) == (BUSY, "o3")
        assert_near(record.location, north(2))
        assert index.claims(["o2", "o3"]) == {
            "o2": Claim("d1", 9, existing=True),
            "o3": Claim("d1", 15, existing=True),
        }
        plan = index.plans(["d1"])["d1"]
        assert plan.queued is None
        assert plan.end is not None
        assert abs(plan.end.free_at - (done + timedelta(minutes=19))) < timedelta(seconds=1)
        assert_near(plan.end.location, north(4))
        assert index.release("d1", "o3", north(4)) is True
        assert index.plans(["d1"]) == {}
        assert index.count_available() == 1

    def test_many_searches_at_once_find_what_each_search_finds(self, index: DriverIndex) -> None:
        for i, km in enumerate((0.5, 1.5, 3.0, 6.0)):
            index.register(f"d{i}", north(km), AVAILABLE if i % 2 else BUSY)
        areas = [(CENTER, 2.0), (north(6), 1.0), (north(20), 1.0), (CENTER, 10.0), (CENTER, 2.0)]
        assert index.search_many(areas) == [index.search(c, r) for c, r in areas]
        assert [len(found) for found in index.search_many(areas)] == [2, 1, 0, 4, 2]
        assert index.search_many([]) == []

    def test_a_union_search_finds_each_driver_of_any_area_once(self, index: DriverIndex) -> None:
        for i, km in enumerate((0.5, 1.5, 3.0, 6.0)):
            index.register(f"d{i}", north(km), AVAILABLE if i % 2 else BUSY)
        cases: list[list[tuple[Point, float]]] = [
            [(CENTER, 2.0), (north(6), 1.0), (north(20), 1.0), (CENTER, 2.0)],
            [(CENTER, 10.0), (north(6), 1.0)],  # the first area finds the whole fleet
            [(north(20), 1.0), (north(6), 1.0), (north(3), 0.2)],  # the first finds none
            [],
        ]
        for areas in cases:
            union = index.search_union(areas)
            each = {d.driver_id: d for found in index.search_many(areas) for d in found}
            assert sorted(d.driver_id for d in union) == sorted(each)
            assert {d.driver_id: d for d in union} == each

    def test_a_driver_shows_the_route_it_holds_until_it_is_free(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.register("d2", north(1), AVAILABLE)

        def route(driver_id: str) -> RouteStops:
            record = index.get(driver_id)
            assert record is not None
            return record.route

        assert route("d1") == ()
        assert index.claim("o1", [("d1", 7)]) is not None
        assert route("d1") == (("o1", 7),)
        assert index.claim_route("d2", [("o2", 9), ("o3", 15)]) is True
        assert route("d2") == (("o2", 9), ("o3", 15))
        assert index.queue_route("d2", QueuedRoute((("o4", 11),), 12.0, north(3))) is True
        assert index.release("d2", "o3", north(2), NOON) is True
        assert route("d2") == (("o4", 11),)  # the next route started at the drop-off
        assert index.release("d2", "o4", north(3)) is True
        assert index.release("d1", "o1", north(1)) is True
        assert (route("d1"), route("d2")) == ((), ())

    def test_a_next_route_is_only_for_busy_drivers_and_is_dropped_if_taken_meanwhile(
        self, index: DriverIndex
    ) -> None:
        for driver_id in ("d1", "d2"):
            index.register(driver_id, CENTER, AVAILABLE)
        following = QueuedRoute((("o2", 9),), 10.0, north(1))
        assert index.queue_route("d1", following) is False
        index.claim("o1", [("d1", 5)])
        assert index.queue_route("d1", following) is True
        assert index.plans(["d1"]) == {"d1": DriverPlan(None, following)}
        assert index.queue_route("d1", None) is True
        assert index.plans(["d1"]) == {}

        index.queue_route("d1", following)
        index.claim("o2", [("d2", 7)])  # someone else took o2 first
        assert index.release("d1", "o1", north(1), NOON) is True
        record = index.get("d1")
        assert record is not None
        assert record.status is AVAILABLE
        assert index.claims(["o2"]) == {"o2": Claim("d2", 7, existing=True)}

    def test_release_only_for_the_order_held(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.claim("order_1", [("d1", 5)])
        assert index.release("d1", "order_other", north(3)) is False
        still = index.get("d1")
        assert still is not None
        assert still.status is BUSY
        assert still.order_id == "order_1"
        assert_near(still.location, CENTER)

    def test_release_makes_the_driver_available_at_the_new_location(
        self, index: DriverIndex
    ) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.claim("order_1", [("d1", 5)])
        assert index.release("d1", "order_1", north(3)) is True
        record = index.get("d1")
        assert record is not None
        assert record.status is AVAILABLE
        assert record.order_id is None
        assert_near(record.location, north(3))
        assert index.count_available() == 1
        assert [d.driver_id for d in index.search(north(3), 0.5)] == ["d1"]
        assert index.claim("order_2", [("d1", 5)]) == Claim("d1", 5, existing=False)

    def test_release_of_a_free_or_unknown_driver_does_nothing(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        assert index.release("d1", "order_1", north(3)) is False
        assert index.release("ghost", "order_1", north(3)) is False
        record = index.get("d1")
        assert record is not None
        assert_near(record.location, CENTER)
        assert index.get("ghost") is None

    def test_release_without_a_location_leaves_the_driver_where_it_is(
        self, index: DriverIndex
    ) -> None:
        index.register("d1", north(1), AVAILABLE)
        index.claim("order_1", [("d1", 5)])
        assert index.release("d1", "order_1", None, NOON) is True
        record = index.get("d1")
        assert record is not None
        assert (record.status, record.order_id) == (AVAILABLE, None)
        assert_near(record.location, north(1))
        assert [d.driver_id for d in index.search(north(1), 0.1)] == ["d1"]

    def test_a_driver_holding_an_order_is_not_made_available(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.claim("order_1", [("d1", 5)])
        with pytest.raises(DriverHoldsOrderError) as refused:
            index.set_status("d1", AVAILABLE)
        assert (refused.value.driver_id, refused.value.order_id) == ("d1", "order_1")
        with pytest.raises(DriverHoldsOrderError, match="order_1"):
            index.register("d1", north(2), AVAILABLE)
        record = index.get("d1")
        assert record is not None
        assert (record.status, record.order_id) == (BUSY, "order_1")
        assert_near(record.location, CENTER)  # the refused registration changed nothing
        assert index.claim("order_2", [("d1", 5)]) is None
        assert index.count_available() == 0

        index.set_status("d1", OFFLINE)  # any other status: the order stays held
        index.register("d1", north(1), BUSY)
        record = index.get("d1")
        assert record is not None
        assert (record.status, record.order_id) == (BUSY, "order_1")
        assert index.release("d1", "order_1", north(3)) is True
        index.set_status("d1", AVAILABLE)
        index.register("d1", north(3), AVAILABLE)
        assert index.claim("order_2", [("d1", 5)]) == Claim("d1", 5, existing=False)

    def test_register_many_leaves_a_driver_holding_an_order_as_it_is(
        self, index: DriverIndex
    ) -> None:
        index.register("held", CENTER, AVAILABLE)
        index.claim("order_1", [("held", 5)])
        fleet = [DriverRecord("held", north(1), AVAILABLE), DriverRecord("free", north(2), BUSY)]
        bulk = cast(Bulk, index)  # not in the port
        assert bulk.register_many(fleet) == 1
        held, free = index.get("held"), index.get("free")
        assert held is not None and free is not None
        assert (held.status, held.order_id, free.status) == (BUSY, "order_1", BUSY)
        assert_near(held.location, CENTER)

    def test_move_updates_the_position(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, BUSY)
        index.move("d1", north(4))
        record = index.get("d1")
        assert record is not None
        assert_near(record.location, north(4))
        assert record.status is BUSY
        assert index.search(CENTER, 1.0) == []

    def test_a_driver_is_available_since_it_last_became_so(self, index: DriverIndex) -> None:
        later = NOON + timedelta(minutes=30)
        index.register("d1", CENTER, AVAILABLE, None, NOON)
        index.register("d2", north(1), OFFLINE, None, NOON)
        index.register("d3", north(2), AVAILABLE)

        def since() -> dict[str, datetime | None]:
            found = {d.driver_id: d.available_since for d in index.search(CENTER, 5.0)}
            assert found == {d: index.get(d).available_since for d in found}  # type: ignore[union-attr]
            return found

        assert since() == {"d1": NOON, "d2": None, "d3": None}
        index.set_status("d1", AVAILABLE, later)  # no change: still available since noon
        index.set_status("d2", AVAILABLE, later)
        assert since() == {"d1": NOON, "d2": later, "d3": None}
        assert index.claim("o1", [("d1", 5)]) is not None
        assert since()["d1"] == NOON  # kept while busy, until it is free again
        assert index.release("d1", "o1", north(3), later + timedelta(minutes=9))
        assert since()["d1"] == later + timedelta(minutes=9)
        assert index.claim("o2", [("d1", 5)]) is not None
        assert index.release("d1", "o2", None)
        assert since()["d1"] is None

    def test_set_status_changes_availability(self, index: DriverIndex) -> None:
        index.register("d1", CENTER, AVAILABLE)
        index.set_status("d1", OFFLINE)
        record = index.get("d1")
        assert record is not None
        assert record.status is OFFLINE
        assert index.claim("order_1", [("d1", 5)]) is None
        index.set_status("d1", AVAILABLE)
        assert index.claim("order_1", [("d1", 5)]) == Claim("d1", 5, existing=False)

    def test_move_or_set_status_of_an_unknown_driver_raises(self, index: DriverIndex) -> None:
        with pytest.raises(UnknownDriverError):
            index.move("ghost", CENTER)
        with pytest.raises(UnknownDriverError):
            index.set_status("ghost", AVAILABLE)
        assert index.get("ghost") is None

    def test_count_available(self, index: DriverIndex) -> None:
        assert index.count_available() == 0
        index.register("a", CENTER, AVAILABLE)
        index.register("b", north(1), AVAILABLE)
        index.register("c", north(2), BUSY)
        index.register("d", north(3), OFFLINE)
        assert index.count_available() == 2
        index.set_status("d", AVAILABLE)
        assert index.count_available() == 3

    def test_available_drivers_by_geo_key(self, index: DriverIndex) -> None:
        assert index.available_by_geo_key() == {}
        index.register("a", CENTER, AVAILABLE)
        index.register("b", north(1), AVAILABLE)
        index.register("c", north(2), BUSY)
        index.register("d", north(3), OFFLINE)
        index.register("london", Point(51.5074, -0.1278), AVAILABLE)
        index.register("sydney", Point(-33.8688, 151.2093), AVAILABLE)
        index.claim("order_1", [("b", 5)])
        assert index.available_by_geo_key() == {"4_-7": 1, "5_0": 1, "-3_15": 1}

    def test_register_many_is_register_for_each(self, index: DriverIndex) -> None:
        from datetime import UTC, datetime

        ends = datetime(2026, 1, 1, 21, 30, tzinfo=UTC)
        index.register("held", CENTER, AVAILABLE, ends)
        index.claim("order_1", [("held", 5)])
        fleet = [
            DriverRecord("held", north(1), BUSY),  # shift end cleared, order kept
            *(DriverRecord(f"d{i}", north(i * 0.1), AVAILABLE, None, ends) for i in range(7)),
        ]
        bulk = cast(Bulk, index)  # not in the port
        assert bulk.register_many(fleet) == 8
        held = index.get("held")
        assert held is not None
        assert (held.status, held.order_id, held.shift_ends_at) == (BUSY, "order_1", None)
        assert_near(held.location, north(1))
        found = index.search(CENTER, 0.35)
        assert [(d.driver_id, d.shift_ends_at) for d in found] == [
            (f"d{i}", ends) for i in range(4)
        ]
        assert index.count_available() == 7

    def test_release_many_is_release_for_each(self, index: DriverIndex) -> None:
        for driver_id in ("d1", "d2", "d3"):
            index.register(driver_id, CENTER, AVAILABLE)
        index.claim("order_1", [("d1", 5)])
        index.claim("order_2", [("d2", 5)])
        bulk = cast(Bulk, index)  # not in the port
        releases = [("d1", "order_1", north(3)), ("d2", "order_other", north(3))]
        assert bulk.release_many([*releases, ("ghost", "order_3", north(3))]) == 1
        assert bulk.release_many([]) == 0
        d1, d2 = index.get("d1"), index.get("d2")
        assert d1 is not None and d2 is not None
        assert (d1.status, d1.order_id, d2.status, d2.order_id) == (
            AVAILABLE,
            None,
            BUSY,
            "order_2",
        )
        assert [d.driver_id for d in index.search(north(3), 0.5)] == ["d1"]

    @pytest.mark.parametrize(
        "ends",
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
            SHIFT_END_EARLIEST - timedelta(microseconds=1),
            SHIFT_END_LATEST + timedelta(microseconds=1),
            datetime(2026, 1, 1, 12),  # noqa: DTZ001 - no time zone, refused
        ],
        ids=str,
    )
    def test_a_shift_end_outside_the_range_is_refused_and_nothing_stored(
        self, index: DriverIndex, ends: datetime
    ) -> None:
        with pytest.raises(ValueError, match="shift end"):
            index.register("d1", CENTER, AVAILABLE, ends)
        bulk = cast(Bulk, index)  # not in the port
        with pytest.raises(ValueError, match="shift end"):
            bulk.register_many(
                [
                    DriverRecord("d2", CENTER, AVAILABLE),
                    DriverRecord("d3", CENTER, AVAILABLE, None, ends),
                ]
            )

        assert (index.get("d1"), index.get("d2"), index.search(CENTER, 1.0)) == (None, None, [])

    def test_the_ends_of_the_shift_range_are_kept(self, index: DriverIndex) -> None:
        index.register("first", CENTER, AVAILABLE, SHIFT_END_EARLIEST)
        index.register("last", north(0.1), AVAILABLE, SHIFT_END_LATEST)

        found = [(d.driver_id, d.shift_ends_at) for d in index.search(CENTER, 1.0)]

        assert found == [("first", SHIFT_END_EARLIEST), ("last", SHIFT_END_LATEST)]


@pytest.mark.redis
def test_concurrent_claims_never_share_a_driver(shared_index: DriverIndex) -> None:
    redis_index = shared_index
    drivers = [f"d{i}" for i in range(5)]
    for i, driver_id in enumerate(drivers):
        redis_index.register(driver_id, north(i * 0.1), AVAILABLE)
    ranking = [(driver_id, 5 + i) for i, driver_id in enumerate(drivers)]
    threads_n = 8
    start = threading.Barrier(threads_n)
    results: dict[str, Claim | None] = {}
    errors: list[BaseException] = []

    def claim(order_id: str) -> None:
        try:
            start.wait(timeout=10)
            results[order_id] = redis_index.claim(order_id, ranking)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(f"order_{n}",)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == threads_n
    claims = [c for c in results.values() if c is not None]
    assert len(claims) == 5
    assert sorted(c.driver_id for c in claims) == drivers
    assert all(not c.existing for c in claims)
    assert sum(1 for c in results.values() if c is None) == 3
    assert redis_index.count_available() == 0
    for order_id, held in results.items():
        if held is not None:
            record = redis_index.get(held.driver_id)
            assert record is not None
            assert record.order_id == order_id


@pytest.fixture
def raw_redis(redis_client: redis.Redis) -> Iterator[tuple[RedisDriverIndex, redis.Redis, str]]:
    """A Redis index, its client and its key prefix, for records written behind its back."""
    prefix = f"test:{uuid.uuid4()}"
    yield RedisDriverIndex(redis_client, prefix=prefix), redis_client, prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
    if keys:
        redis_client.delete(*keys)


UNREADABLE = {
    "d-status": ("sleeping", None),
    "d-end-text": ("available", "soon"),
    "d-end-year-0": ("available", "-62135600400"),
    "d-end-year-9999": ("available", "253402350000"),
    "d-end-nan": ("available", "nan"),
    "d-end-inf": ("available", "1e400"),
}
"""Drivers whose stored status or shift end (epoch seconds) cannot be read back."""


@pytest.mark.redis
def test_unreadable_records_are_skipped_by_the_search_logged_and_named_by_get(
    raw_redis: tuple[RedisDriverIndex, redis.Redis, str], caplog: pytest.LogCaptureFixture
) -> None:
    index, client, prefix = raw_redis
    index.register("d-good", north(0.2), AVAILABLE, NOON)
    for driver_id, (status, end) in UNREADABLE.items():
        client.geoadd(f"{prefix}:drivers:geo", (CENTER.longitude, CENTER.latitude, driver_id))
        client.hset(f"{prefix}:drivers:status", driver_id, status)
        if end is not None:
            client.hset(f"{prefix}:drivers:shift_end", driver_id, end)

    with caplog.at_level("WARNING", logger="swifteats.drivers"):
        found = index.search(CENTER, 1.0)

    assert [d.driver_id for d in found] == ["d-good"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(driver_id in logged for driver_id in UNREADABLE)
    for driver_id in UNREADABLE:
        with pytest.raises(UnreadableDriverError, match=driver_id):
            index.get(driver_id)
    index.register("d-status", CENTER, OFFLINE)  # registering again repairs the record
    repaired = index.get("d-status")
    assert repaired is not None and repaired.status is OFFLINE


@pytest.mark.redis
def test_unreadable_plans_are_skipped_and_logged(
    raw_redis: tuple[RedisDriverIndex, redis.Redis, str], caplog: pytest.LogCaptureFixture
) -> None:
    index, client, prefix = raw_redis
    end = RouteEnd(NOON, north(1))
    for driver_id in ("d-end", "d-next", "d-good"):
        index.register(driver_id, CENTER, AVAILABLE)
        assert index.claim_route(driver_id, [(f"order-{driver_id}", 5)], end)
    client.hset(f"{prefix}:drivers:route_end", "d-end", "[1e400, 0]")
    client.hset(f"{prefix}:drivers:next_route", "d-next", '{"route": ["o1"]}')

    with caplog.at_level("WARNING", logger="swifteats.drivers"):
        plans = index.plans(["d-end", "d-next", "d-good"])

    assert plans == {"d-next": DriverPlan(end, None), "d-good": DriverPlan(end, None)}
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "d-end" in logged and "d-next" in logged
