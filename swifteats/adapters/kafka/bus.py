"""The Kafka event bus: publishes :class:`Outgoing` messages with a producer made on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaProducer

from swifteats.domain.bus import Outgoing


class KafkaEventBus:
    """:class:`~swifteats.domain.bus.EventBus` on Kafka; ``flush`` waits for the broker's
    acknowledgements and raises if any message failed (the producer is then remade).

    ``ensure_topics`` (``TopicCreator.ensure``) makes sure a topic exists before the first
    message to it, so a cluster that creates no topic on first use works.
    """

    def __init__(
        self,
        connect: Callable[[], KafkaProducer],
        ensure_topics: Callable[[Iterable[str]], None] | None = None,
    ) -> None:
        self._connect = connect
        self._ensure_topics = ensure_topics
        self._producer: KafkaProducer | None = None
        self._pending: list[Any] = []

    def publish(self, message: Outgoing) -> None:
        """Queue one message; if that fails, the producer and what it queued are dropped."""
        headers = [(k, v.encode()) for k, v in message.headers.items()]
        try:
            if self._ensure_topics is not None:
                self._ensure_topics((message.topic,))
            self._producer = self._producer or self._connect()
            future = self._producer.send(
                message.topic, key=message.key.encode(), value=message.value(), headers=headers
            )
        except Exception:
            self.close()
            raise
        self._pending.append(future)

    def flush(self) -> None:
        """Wait until every queued message is acknowledged; raise the first failure."""
        pending, self._pending = self._pending, []
        if self._producer is None or not pending:
            return
        try:
            self._producer.flush(timeout=10)
            for future in pending:
                future.get(timeout=0)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Drop the producer; the next publish makes a new one."""
        producer, self._producer, self._pending = self._producer, None, []
        if producer is not None:
            producer.close(timeout=1)
