"""Wiring of the Order Service: PostgreSQL store and outbox relay, response consumer, HTTP."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

import redis
from fastapi import FastAPI
from kafka import KafkaConsumer
from psycopg import Connection
from psycopg_pool import ConnectionPool

from swifteats.adapters.kafka.clients import make_consumer, make_producer
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop, Record
from swifteats.adapters.kafka.relay import OutboxRelay
from swifteats.adapters.postgres.migrations import migrate
from swifteats.adapters.postgres.orders import OrderStore
from swifteats.adapters.postgres.pool import Row, open_pool
from swifteats.adapters.postgres.stats import order_stats
from swifteats.adapters.redis_drivers import RedisDriverIndex, redis_for
from swifteats.adapters.redis_ratelimit import RedisRateLimiter
from swifteats.domain.clock import Clock, ManualClock, system_clock
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.geo import Point
from swifteats.domain.payment import PaymentProvider, SimulatedPayments
from swifteats.domain.ratelimit import RateLimiter, TokenBucket
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.http import Check, HttpSecurity, problem_check
from swifteats.services.orders.api import build_api
from swifteats.services.orders.responses import ResponseHandler
from swifteats.settings import Settings

GROUP_ID = "order-service"

log = logging.getLogger("swifteats.orders")


class OrderService:
    """The running service: outbox relay and response consumer threads, and the HTTP API."""

    def __init__(
        self,
        settings: Settings,
        *,
        pool: ConnectionPool[Connection[Row]],
        drivers: DriverIndex,
        redis_client: redis.Redis,
        payments: PaymentProvider,
        order_limiter: RateLimiter | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.wall = system_clock
        self.payments = payments
        self.order_limiter = order_limiter
        self.metrics = ServiceMetrics("order-service")
        self.store = OrderStore(pool, _retry_policy(settings))
        self._pool = pool
        self._drivers = drivers
        self._redis = redis_client
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._relay = OutboxRelay(
            pool,
            lambda: make_producer(settings),
            clock=clock,
            wake=self._wake,
            stop=self._stop,
            one_request_at_a_time=settings.serial_requests,
            answer_timeout_s=settings.answer_timeout_s,
        )
        handler = ResponseHandler(
            self.store,
            clock=clock,
            metrics=self.metrics,
            max_message_bytes=settings.kafka_max_message_bytes,
        )
        self._handle_response = handler.handle
        self._reject_response = handler.reject
        self._consumer = ConsumerLoop(
            "responses-consumer",
            self._connect,
            self._handle,
            after_batch=self._wake.set,
            stop=self._stop,
            dead_letter=self._dead_letter,
        )
        self.api: FastAPI = build_api(
            self, HttpSecurity.from_settings(settings, service="order-service")
        )

    def start(self) -> None:
        """Start the relay and the response consumer."""
        self._relay.start()
        self._consumer.start()

    def stop(self) -> None:
        """Stop both threads and close the pool."""
        self._stop.set()
        self._wake.set()
        self._consumer.join(timeout=10)
        self._relay.join(timeout=10)
        self._pool.close()

    def order_placed(self) -> None:
        """Wake the relay: a new outbox row is waiting."""
        self._wake.set()

    def delivered(self, order: Row) -> None:
        """Free the order's driver at the customer's door: it starts its queued route, if a
        windowed policy gave it one, or becomes available."""
        if order["driver_id"] is None:
            return
        door = Point(order["customer_latitude"], order["customer_longitude"])
        if not self._drivers.release(order["driver_id"], order["id"], door, self.clock()):
            log.info(
                "driver %s stays busy: it holds another order than %s (a route's last) or none",
                order["driver_id"],
                order["id"],
            )

    def set_clock(self, instant: datetime) -> bool:
        """Move the simulated clock and let the relay publish what became due."""
        if not isinstance(self.clock, ManualClock):
            return False
        self.clock.advance_to(instant)
        self._wake.set()
        return True

    def health_checks(self) -> dict[str, Check]:
        """PostgreSQL, Redis and Kafka (the response consumer polls and owns its partitions)."""
        return {
            "postgres": self._postgres_ok,
            "redis": lambda: bool(self._redis.ping()),
            "kafka": problem_check(self._consumer.problem),
        }

    def stats(self) -> dict[str, Any]:
        """Order counts, rates, retries, DLQ, latency per stage and consumer lag."""
        stats = order_stats(self._pool)
        stats["service"] = "order-service"
        stats["latencyMs"]["http_accept"] = self.metrics.latency_ms().get("http_accept")
        stats["responses"] = {
            k.removeprefix("responses:"): v
            for k, v in self.metrics.counts().items()
            if k.startswith("responses:")
        }
        stats["consumerLag"] = self._consumer.lag
        stats["consumerFailures"] = self._consumer.failures
        stats["published"] = self._relay.published
        return stats

    def _postgres_ok(self) -> bool:
        with self._pool.connection(timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() is not None

    def _connect(self) -> KafkaConsumer:
        return make_consumer(self.settings, group_id=GROUP_ID, topics=(RESPONSES_TOPIC,))

    def _handle(self, record: Record) -> None:
        self._handle_response(record.value, topic=record.topic, headers=record.headers)

    def _dead_letter(self, record: Record, reason: str) -> None:
        """A response whose handling kept raising goes to the DLQ with the reason."""
        self._reject_response(
            record.value, topic=record.topic, headers=record.headers, reason=reason
        )


def _retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_s=settings.retry_base_s,
        factor=settings.retry_factor,
        cap_s=settings.retry_cap_s,
        max_attempts=settings.retry_max_attempts,
    )


def build_order_service(
    settings: Settings, *, payments: PaymentProvider | None = None
) -> OrderService:
    """The service on PostgreSQL (schema migrated) and Redis, with simulated payments."""
    pool = open_pool(settings.database_url.get_secret_value())
    with pool.connection() as conn:
        migrate(conn)
    client = redis_for(settings)
    return OrderService(
        settings,
        pool=pool,
        drivers=RedisDriverIndex(client, settings.redis_prefix),
        redis_client=client,
        payments=payments or SimulatedPayments.from_setting(settings.payment_decline_customers),
        order_limiter=_order_limiter(settings, client),
        clock=ManualClock(system_clock()) if settings.simulated_clock else system_clock,
    )


def _order_limiter(settings: Settings, client: redis.Redis) -> RateLimiter | None:
    """Per-customer order buckets in Redis, or None when ``SWIFTEATS_ORDER_BURST`` is 0."""
    if settings.order_burst == 0:
        return None
    bucket = TokenBucket(settings.order_rate_per_s, settings.order_burst)
    return RedisRateLimiter(client, bucket, prefix=settings.redis_prefix)
