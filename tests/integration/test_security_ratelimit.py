"""Token-bucket arithmetic, and one RateLimiter contract over the in-memory and Redis adapters.

The Redis variant uses the server at 127.0.0.1:6379 (``REDIS_HOST``/``REDIS_PORT``
override it) under a unique key prefix, and is skipped, saying why, when none answers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis.backoff import NoBackoff
from redis.retry import Retry

from swifteats.adapters.memory_ratelimit import InMemoryRateLimiter
from swifteats.adapters.redis_ratelimit import RedisRateLimiter
from swifteats.domain.ratelimit import (
    BucketState,
    RateLimiter,
    RateLimiterUnavailableError,
    Take,
    TokenBucket,
    retry_after_seconds,
)

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
BUCKET = TokenBucket(rate_per_s=0.5, burst=3)
"""Three back to back, then one every two seconds."""


def takes(bucket: TokenBucket, times: list[float]) -> list[Take]:
    """Take at each instant in turn, keeping the state only when allowed (as adapters do)."""
    state: BucketState | None = None
    answers = []
    for now in times:
        taken = bucket.take(state, now)
        state = taken.state if taken.allowed else state
        answers.append(taken)
    return answers


def test_a_new_key_has_a_full_bucket_and_the_burst_runs_out() -> None:
    answers = takes(BUCKET, [100.0] * 4)

    assert [a.allowed for a in answers] == [True, True, True, False]
    assert [a.state.tokens for a in answers[:3]] == [2.0, 1.0, 0.0]
    assert answers[3].retry_after_s == pytest.approx(2.0)


def test_tokens_come_back_at_the_rate_and_never_past_the_burst() -> None:
    spent = BucketState(tokens=0.0, at_s=100.0)

    assert BUCKET.level(spent, 101.0) == pytest.approx(0.5)
    assert BUCKET.level(spent, 102.0) == pytest.approx(1.0)
    assert BUCKET.level(spent, 10_000.0) == 3.0
    assert BUCKET.take(spent, 101.5).retry_after_s == pytest.approx(0.5)
    assert BUCKET.take(spent, 102.0).allowed


def test_a_clock_running_backwards_refills_nothing_and_keeps_the_later_instant() -> None:
    state = BucketState(tokens=1.0, at_s=100.0)

    taken = BUCKET.take(state, 90.0)

    assert taken.allowed
    assert taken.state == BucketState(0.0, 100.0)
    assert not BUCKET.take(taken.state, 95.0).allowed


def test_full_after_is_the_time_to_refill_the_missing_tokens() -> None:
    assert BUCKET.full_after_s(BucketState(0.0, 100.0)) == pytest.approx(6.0)
    assert BUCKET.full_after_s(BucketState(3.0, 100.0)) == 0.0


@pytest.mark.parametrize(
    ("seconds", "header"), [(0.0, 1), (0.001, 1), (1.0, 1), (1.2, 2), (29.5, 30), (1000.0, 1000)]
)
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(
    seconds: float, header: int
) -> None:
    assert retry_after_seconds(Take(False, BucketState(0.0, 0.0), seconds)) == header


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("inf"), 1), (1.0, 0)])
def test_a_bucket_that_could_never_work_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TokenBucket(rate, burst)


@given(
    rate=st.floats(0.01, 100),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 10), min_size=1, max_size=200),
)
def test_no_window_lets_more_through_than_burst_plus_what_refilled(
    rate: float, burst: int, gaps: list[float]
) -> None:
    times = [100.0 + sum(gaps[: i + 1]) for i in range(len(gaps))]
    answers = takes(TokenBucket(rate, burst), times)

    allowed = [t for t, a in zip(times, answers, strict=True) if a.allowed]
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            assert j - i + 1 <= burst + (allowed[j] - start) * rate + 1e-6
    for t, answer in zip(times, answers, strict=True):
        if not answer.allowed:
            assert 0 < answer.retry_after_s <= 1 / rate + 1e-9, t


# The contract, over both adapters.


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"test:{uuid.uuid4()}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
    if keys:
        redis_client.delete(*keys)


MakeLimiter = Callable[[TokenBucket], RateLimiter]


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> MakeLimiter:
    if request.param == "memory":
        return InMemoryRateLimiter
    client = request.getfixturevalue("redis_client")
    prefix = request.getfixturevalue("prefix")
    return lambda bucket: RedisRateLimiter(client, bucket, prefix=prefix)


@pytest.fixture
def limiter(make_limiter: MakeLimiter) -> RateLimiter:
    return make_limiter(BUCKET)


def test_each_key_has_its_own_bucket(limiter: RateLimiter) -> None:
    first = [limiter.take("orders:a", now=T0).allowed for _ in range(4)]
    other = limiter.take("orders:b", now=T0)

    assert first == [True, True, True, False]
    assert other.allowed


def test_a_refusal_says_when_and_the_token_is_there_then(limiter: RateLimiter) -> None:
    for _ in range(3):
        limiter.take("orders:a", now=T0)

    refused = limiter.take("orders:a", now=T0 + timedelta(seconds=0.5))
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(1.5)
    assert limiter.take("orders:a", now=T0 + timedelta(seconds=2)).allowed
    assert not limiter.take("orders:a", now=T0 + timedelta(seconds=2)).allowed


def test_refusals_spend_nothing(limiter: RateLimiter) -> None:
    for _ in range(3):
        limiter.take("orders:a", now=T0)
    for _ in range(10):
        assert not limiter.take("orders:a", now=T0 + timedelta(seconds=1)).allowed

    assert limiter.take("orders:a", now=T0 + timedelta(seconds=2)).allowed


def test_concurrent_takes_never_spend_a_token_twice(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(TokenBucket(rate_per_s=0.001, burst=10))
    start = threading.Barrier(8)
    allowed: list[bool] = []

    def hammer() -> None:
        start.wait()
        for _ in range(5):
            allowed.append(limiter.take("orders:hot", now=T0).allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 40
    assert sum(allowed) == 10


def test_redis_keeps_a_bucket_under_the_prefix_until_it_has_refilled(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, BUCKET, prefix=prefix)

    limiter.take("orders:a", now=T0)

    assert list(redis_client.scan_iter(match=f"{prefix}:*")) == [f"{prefix}:ratelimit:orders:a"]
    ttl_ms = redis_client.pttl(f"{prefix}:ratelimit:orders:a")
    assert 2000 < ttl_ms <= 3000  # one token missing: 2 s to refill, plus a second


def test_redis_that_does_not_answer_makes_the_limiter_unavailable() -> None:
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    limiter = RedisRateLimiter(dead, BUCKET, prefix="test")

    with pytest.raises(RateLimiterUnavailableError):
        limiter.take("orders:a", now=T0)
