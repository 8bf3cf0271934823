"""Token buckets in Redis, one string key per bucket: ``{prefix}:ratelimit:{key}``.

The arithmetic is the domain's (:class:`~swifteats.domain.ratelimit.TokenBucket`); Redis
only stores the state. A take reads the state, computes the new one in Python and writes
it back with a compare-and-set Lua script, so concurrent takes of one bucket (several
service instances) never spend the same token twice: a lost race reads again. A refusal
writes nothing. A stored state expires once its bucket has refilled.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import cast

import redis
from redis.cluster import RedisCluster

from swifteats.domain.ratelimit import (
    BucketState,
    RateLimiterUnavailableError,
    Take,
    TokenBucket,
)

# KEYS: the bucket. ARGV: the state read ('' = none), the new state, its lifetime in ms.
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

_MAX_RACES = 16
"""Lost compare-and-sets before a take gives up and refuses (the key is being hammered)."""


class RedisRateLimiter:
    """:class:`~swifteats.domain.ratelimit.RateLimiter` shared through a Redis server."""

    def __init__(
        self, client: redis.Redis | RedisCluster, bucket: TokenBucket, *, prefix: str
    ) -> None:
        self._redis = client
        self._bucket = bucket
        self._prefix = f"{prefix}:ratelimit:"
        self._compare_and_set = client.register_script(_COMPARE_AND_SET)

    def take(self, key: str, *, now: datetime) -> Take:
        """Take one token from ``key``'s bucket at ``now``; RedisError becomes unavailable."""
        try:
            return self._take(self._prefix + key, now.timestamp())
        except redis.RedisError as error:
            raise RateLimiterUnavailableError(str(error)) from error

    def _take(self, name: str, now_s: float) -> Take:
        for _ in range(_MAX_RACES):
            raw = cast(str | None, self._redis.get(name))
            taken = self._bucket.take(_decode(raw), now_s)
            if not taken.allowed:
                return taken
            lifetime_ms = math.ceil(self._bucket.full_after_s(taken.state) * 1000) + 1000
            args: list[str | int] = [raw or "", _encode(taken.state), lifetime_ms]
            if self._compare_and_set(keys=[name], args=args):
                return taken
        return Take(False, taken.state, 1 / self._bucket.rate_per_s)


def _encode(state: BucketState) -> str:
    return f"{state.tokens!r} {state.at_s!r}"


def _decode(raw: str | None) -> BucketState | None:
    if raw is None:
        return None
    tokens, at_s = raw.split()
    return BucketState(float(tokens), float(at_s))
