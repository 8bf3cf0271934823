"""The in-memory index stores positions exactly as Redis GEO gives them back."""

from __future__ import annotations

import random
import uuid

import pytest
import redis

from swifteats.adapters.memory_drivers import redis_geo_position
from swifteats.domain.geo import Point

pytestmark = pytest.mark.redis


def test_positions_match_redis_to_the_last_bit() -> None:
    client = redis.Redis(decode_responses=True, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    key, rng = f"test:geo:{uuid.uuid4().hex}", random.Random(5)
    points = [Point(rng.uniform(-85, 85), rng.uniform(-180, 180)) for _ in range(500)]
    points += [Point(rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)) for _ in range(500)]
    try:
        client.geoadd(key, [v for i, p in enumerate(points) for v in (p.longitude, p.latitude, i)])
        stored = client.geopos(key, *range(len(points)))
    finally:
        client.delete(key)
        client.close()
    ours = [redis_geo_position(p) for p in points]
    assert [(lat, lon) for lon, lat in stored] == [(p.latitude, p.longitude) for p in ours]
