"""Wiring of the Order Service: its core over PostgreSQL, Kafka and Redis, the outbox relay
and response consumer threads, and HTTP."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import FastAPI
from kafka import KafkaConsumer
from psycopg import Connection
from psycopg_pool import ConnectionPool

from swifteats.adapters.kafka.bus import KafkaEventBus
from swifteats.adapters.kafka.clients import make_consumer, make_producer
from swifteats.adapters.kafka.consumer_loop import ConsumerLoop, Record
from swifteats.adapters.kafka.topics import TopicCreator
from swifteats.adapters.postgres.migrations import migrate
from swifteats.adapters.postgres.orders import PostgresOrderStore
from swifteats.adapters.postgres.outbox import PostgresOutbox
from swifteats.adapters.postgres.pool import Row, open_pool
from swifteats.adapters.postgres.stats import order_stats, queue_depths
from swifteats.adapters.redis_client import RedisClient, redis_for
from swifteats.adapters.redis_ratelimit import RedisRateLimiter
from swifteats.adapters.redis_sharded import driver_index_for
from swifteats.domain.clock import Clock, ManualClock, system_clock
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.payment import PaymentProvider, SimulatedPayments
from swifteats.domain.ratelimit import RateLimiter, TokenBucket
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics, consumer_lag_gauge
from swifteats.services.http import Check, HttpSecurity, problem_check
from swifteats.services.orders.admission import Admission
from swifteats.services.orders.api import build_api
from swifteats.services.orders.core import OrderCore
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
        redis_client: RedisClient,
        payments: PaymentProvider,
        order_limiter: RateLimiter | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.wall = system_clock
        self.order_limiter = order_limiter
        self.metrics = ServiceMetrics("order-service")
        self._pool = pool
        self._redis = redis_client
        self._topics = TopicCreator(settings)
        self._bus = KafkaEventBus(lambda: make_producer(settings), self._topics.ensure)
        self.core = OrderCore(
            PostgresOrderStore(pool),
            PostgresOutbox(pool),
            self._bus,
            drivers,
            retry=settings.retry_policy,
            clock=clock,
            wall=self.wall,
            metrics=self.metrics,
            payments=payments,
            max_message_bytes=settings.kafka_max_message_bytes,
            resend=settings.resend_policy,
        )
        self.admission = (
            Admission(
                self.core.outbox,
                settings.admission_bounds,
                clock=clock,
                metrics=self.metrics,
                every_s=settings.admission_sample_s,
            )
            if settings.admission_bounds.enforced
            else None
        )
        self._stop = threading.Event()
        self._relay: threading.Thread | None = None
        self._consumer = ConsumerLoop(
            "responses-consumer",
            self._connect,
            self._handle,
            after_batch=self.core.relay.notify,
            stop=self._stop,
            dead_letter=self._dead_letter,
            handle_batch=self._handle_batch,
        )
        self._expose_gauges()
        self.api: FastAPI = build_api(
            self, HttpSecurity.from_settings(settings, service="order-service")
        )

    def _expose_gauges(self) -> None:
        """Queues in /metrics: consumer lag per topic, outbox backlog, requests in flight."""
        consumer_lag_gauge(self.metrics, lambda: self._consumer.lag_by_topic)
        self.metrics.gauge(
            "outbox_backlog",
            "Outbox rows not published yet (due later or waiting for the broker)",
            lambda: queue_depths(self._pool)["backlog"],
        )
        self.metrics.gauge(
            "requests_in_flight",
            "Assignment requests published and not answered yet",
            lambda: queue_depths(self._pool)["in_flight"],
        )

    def start(self) -> None:
        """Start the relay and the response consumer."""
        self._relay = self.core.relay.start(self._stop)
        if self.admission is not None:
            self.admission.start(self._stop)
        self._consumer.start()

    def stop(self) -> None:
        """Stop both threads, close the producer and the pool."""
        self._stop.set()
        self.core.relay.notify()
        self._consumer.join(timeout=10)
        if self._relay is not None:
            self._relay.join(timeout=10)
        self._bus.close()
        self._topics.close()
        self._pool.close()

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
        stats["published"] = self.core.relay.published
        stats["resent"] = self.core.relay.resent
        if self.admission is not None:
            stats["admission"] = self._admission_stats(self.admission)
        return stats

    def _admission_stats(self, admission: Admission) -> dict[str, int]:
        load = admission.load
        return {
            "outboxBacklog": load.outbox_backlog,
            "unanswered": load.unanswered,
            "maxOutboxBacklog": admission.bounds.max_outbox_backlog,
            "maxUnanswered": admission.bounds.max_unanswered,
            "shed": self.metrics.counts().get("orders_shed", 0),
        }

    def _postgres_ok(self) -> bool:
        with self._pool.connection(timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() is not None

    def _connect(self) -> KafkaConsumer:
        self._topics.ensure((RESPONSES_TOPIC,))
        return make_consumer(self.settings, group_id=GROUP_ID, topics=(RESPONSES_TOPIC,))

    def _handle(self, record: Record) -> None:
        self.core.on_response(record.value, record.topic, record.headers)

    def _handle_batch(self, records: list[Record]) -> None:
        """A poll's answers, applied in one transaction."""
        self.core.on_responses([(r.value, r.topic, r.headers) for r in records])

    def _dead_letter(self, record: Record, reason: str) -> None:
        """A response whose handling kept raising goes to the DLQ with the reason."""
        self.core.reject_response(record.value, record.topic, record.headers, reason)


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
        drivers=driver_index_for(client, settings.redis_prefix),
        redis_client=client,
        payments=payments or SimulatedPayments.from_setting(settings.payment_decline_customers),
        order_limiter=_order_limiter(settings, client),
        clock=ManualClock(system_clock()) if settings.simulated_clock else system_clock,
    )


def _order_limiter(settings: Settings, client: RedisClient) -> RateLimiter | None:
    """Per-customer order buckets in Redis, or None when ``SWIFTEATS_ORDER_BURST`` is 0."""
    if settings.order_burst == 0:
        return None
    bucket = TokenBucket(settings.order_rate_per_s, settings.order_burst)
    return RedisRateLimiter(client, bucket, prefix=settings.redis_prefix)
