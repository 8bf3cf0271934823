"""What the cluster layout adds to the DriverIndex contract: regions a search reads,
rankings across region boundaries, drivers crossing them, and racing claims of one order."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from redis.cluster import RedisCluster

from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.adapters.redis_client import redis_for
from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.adapters.redis_keys import ShardedKeys, region_of, regions_touched
from swifteats.adapters.redis_sharded import ShardedRedisDriverIndex, driver_index_for
from swifteats.domain.drivers import Claim, DriverIndex, DriverStatus
from swifteats.domain.geo import Point
from swifteats.settings import Settings
from tests.redis_cluster import ClusterNodes

CORNER = Point(41.0, -74.0)
"""Where four regions meet: 40_-75, 40_-74, 41_-75, 41_-74."""


def test_a_point_is_in_the_cell_below_and_left_of_it() -> None:
    assert region_of(Point(40.7128, -74.006)) == "40_-75"
    assert region_of(Point(-0.5, 0.5)) == "-1_0"
    assert region_of(Point(10.0, 180.0)) == "10_-180"


def test_a_search_reads_every_region_its_circle_reaches_and_no_other() -> None:
    assert regions_touched(Point(40.5, -74.5), 5) == ["40_-75"]
    assert regions_touched(Point(40.99, -74.5), 5) == ["40_-75", "41_-75"]
    assert sorted(regions_touched(CORNER, 1) or []) == ["40_-74", "40_-75", "41_-74", "41_-75"]
    assert regions_touched(Point(0.5, 179.99), 5) == ["0_-180", "0_179"]
    assert regions_touched(Point(89.99, 0), 5) is None  # every longitude: read the regions in use
    assert regions_touched(CORNER, 2_000) is None


@pytest.fixture
def sharded(cluster_client: RedisCluster) -> tuple[ShardedRedisDriverIndex, ShardedKeys]:
    prefix = f"test:{uuid.uuid4()}"
    return ShardedRedisDriverIndex(cluster_client, prefix=prefix), ShardedKeys(prefix)


pytestmark = pytest.mark.redis


def test_searches_across_region_corners_rank_as_one_geo_set(
    sharded: tuple[ShardedRedisDriverIndex, ShardedKeys],
) -> None:
    index, _ = sharded
    reference, rng = InMemoryDriverIndex(), random.Random(3)
    statuses = list(DriverStatus)
    for i in range(300):
        where = Point(
            CORNER.latitude + rng.uniform(-0.05, 0.05), CORNER.longitude + rng.uniform(-0.05, 0.05)
        )
        status = rng.choice(statuses)
        for each in (index, reference):
            each.register(f"d{i:03d}", where, status)
    areas = [(CORNER, 3.0), (Point(41.01, -74.02), 2.0), (Point(40.97, -73.97), 5.0)]

    def ranked(found: DriverIndex) -> list[list[tuple[str, DriverStatus]]]:
        return [[(d.driver_id, d.status) for d in hits] for hits in found.search_many(areas)]

    assert ranked(index) == ranked(reference)
    assert all(len(hits) > 20 for hits in ranked(index))
    assert index.count_available() == reference.count_available()


def test_a_driver_crossing_a_boundary_is_found_once_and_claimed_once(
    sharded: tuple[ShardedRedisDriverIndex, ShardedKeys], cluster_client: RedisCluster
) -> None:
    index, keys = sharded
    south, north = Point(40.999, -74.5), Point(41.001, -74.5)
    index.register("d1", south, DriverStatus.AVAILABLE)
    index.move("d1", north)
    assert [d.driver_id for d in index.search(south, 5.0)] == ["d1"]
    assert cluster_client.zrange(keys.region("40_-75"), 0, -1) == []
    assert index.claim("o1", [("d1", 5)]) == Claim("d1", 5, existing=False)
    assert index.claim("o2", [("d1", 5)]) is None
    assert index.release("d1", "o1", south) is True
    found = index.search(north, 5.0)
    assert [(d.driver_id, region_of(d.location)) for d in found] == [("d1", "40_-75")]
    assert cluster_client.zrange(keys.region("41_-75"), 0, -1) == []


def test_a_stale_position_in_another_region_is_skipped(
    sharded: tuple[ShardedRedisDriverIndex, ShardedKeys], cluster_client: RedisCluster
) -> None:
    index, keys = sharded
    index.register("d1", Point(40.999, -74.5), DriverStatus.AVAILABLE)
    # what a crash between the record and the GEO sets may leave: a second position
    cluster_client.geoadd(keys.region("41_-75"), (-74.5, 41.001, "d1"))
    found = index.search(Point(41.0, -74.5), 5.0)
    assert [(d.driver_id, region_of(d.location)) for d in found] == [("d1", "40_-75")]
    assert index.count_available() == 1


def test_racing_claims_of_one_order_take_one_driver(
    sharded: tuple[ShardedRedisDriverIndex, ShardedKeys],
) -> None:
    index, _ = sharded
    drivers = [f"d{i}" for i in range(6)]
    for i, driver_id in enumerate(drivers):
        index.register(driver_id, Point(CORNER.latitude + i * 0.001, -74.0), DriverStatus.AVAILABLE)
    start, results = threading.Barrier(6), list[Claim | None]()

    def claim(shift: int) -> None:
        start.wait(timeout=10)
        ranking = [(d, 5) for d in drivers[shift:] + drivers[:shift]]
        results.append(index.claim("o1", ranking))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 6
    assert len({c.driver_id for c in results if c is not None}) == 1
    assert sum(1 for c in results if c is not None and not c.existing) == 1
    assert index.count_available() == 5


def test_redis_cluster_true_gives_the_cluster_client_and_the_sharded_index(
    redis_cluster_nodes: ClusterNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(redis_cluster_nodes.port))
    client = redis_for(Settings())
    try:
        assert isinstance(client, RedisCluster)
        assert isinstance(driver_index_for(client, "test"), ShardedRedisDriverIndex)
    finally:
        client.close()
    monkeypatch.delenv("REDIS_CLUSTER")
    single = redis_for(Settings())
    assert isinstance(driver_index_for(single, "test"), RedisDriverIndex)
    single.close()
