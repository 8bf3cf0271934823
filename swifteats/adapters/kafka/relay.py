"""The outbox relay: publishes due outbox rows to Kafka and marks them sent."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError
from psycopg import Connection
from psycopg import Error as DatabaseError
from psycopg_pool import ConnectionPool

from swifteats.adapters.postgres.outbox import (
    OutboxMessage,
    publish_due,
    resend_unanswered,
    seconds_until_due,
)
from swifteats.adapters.postgres.pool import Row
from swifteats.domain.clock import Clock, system_clock

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 1.0


class OutboxRelay(threading.Thread):
    """Publishes the outbox; ``wake`` is set by writers so new rows go out at once."""

    def __init__(
        self,
        pool: ConnectionPool[Connection[Row]],
        connect: Callable[[], KafkaProducer],
        *,
        clock: Clock,
        wake: threading.Event,
        stop: threading.Event,
        wall: Clock = system_clock,
        one_request_at_a_time: bool = False,
        answer_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self._pool = pool
        self._connect = connect
        self._clock = clock
        self._wall = wall
        self._serial = one_request_at_a_time
        self._wake = wake
        self._halt = stop
        self._answer_timeout_s = answer_timeout_s
        self._checked_answers = 0.0
        self._producer: KafkaProducer | None = None
        self.published = 0
        self.resent = 0
        self.connected = False

    def run(self) -> None:
        """Publish until stopped; on any failure keep the rows and try again shortly."""
        while not self._halt.is_set():
            self._wake.clear()
            try:
                self._resend_overdue()
                sent = publish_due(
                    self._pool,
                    self._send_all,
                    now=self._clock(),
                    wall=self._wall,
                    one_request_at_a_time=self._serial,
                )
                self.published += sent
                if sent:
                    continue
                due = seconds_until_due(
                    self._pool, now=self._clock(), one_request_at_a_time=self._serial
                )
            except (KafkaError, DatabaseError) as error:
                log.warning("outbox relay: %r; retrying", error)
                self._drop_producer()
                due = _IDLE_WAIT_S
            self._wake.wait(_IDLE_WAIT_S if due is None else min(due, _IDLE_WAIT_S))
        self._drop_producer()

    def _resend_overdue(self) -> None:
        """Once a second: queue again the requests whose answer is overdue."""
        if time.monotonic() - self._checked_answers < _IDLE_WAIT_S:
            return
        self._checked_answers = time.monotonic()
        resent = resend_unanswered(
            self._pool, now=self._clock(), wall=self._wall(), timeout_s=self._answer_timeout_s
        )
        if resent:
            log.warning("outbox relay: %d request(s) unanswered for too long; sent again", resent)
            self.resent += resent

    def _send_all(self, messages: list[OutboxMessage]) -> None:
        producer = self._producer or self._connect()
        self._producer, self.connected = producer, True
        futures = [
            producer.send(
                m.topic,
                key=m.key.encode(),
                value=m.payload,
                headers=[(k, v.encode()) for k, v in m.headers.items()],
            )
            for m in messages
        ]
        producer.flush(timeout=10)
        for future in futures:
            future.get(timeout=0)

    def _drop_producer(self) -> None:
        producer, self._producer, self.connected = self._producer, None, False
        if producer is not None:
            producer.close(timeout=1)
