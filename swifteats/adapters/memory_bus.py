"""An in-process event bus: topics as lists, subscribers called synchronously on flush."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from swifteats.domain.bus import Outgoing


@dataclass(frozen=True, slots=True)
class Delivery:
    """A published message as a subscriber receives it; the attributes of a Kafka
    ``ConsumerRecord`` that the services' record handlers read."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @classmethod
    def of(cls, message: Outgoing) -> Delivery:
        """``message`` as its consumer would read it."""
        headers = [(name, value.encode()) for name, value in message.headers.items()]
        return cls(message.topic, message.key.encode(), message.value(), headers)


Subscriber = Callable[[Delivery], None]


class InProcessBus:
    """:class:`~swifteats.domain.bus.EventBus` within one process.

    Every published message is kept on its topic (:meth:`messages`). ``flush`` delivers
    what was published since, in publish order, to every subscriber whose pattern matches
    the whole topic. What a subscriber publishes meanwhile joins the end of the same queue
    and is delivered by the ``flush`` under way (a nested ``flush`` returns at once), so
    deliveries never nest. Not thread-safe: one thread publishes and flushes.
    """

    def __init__(self) -> None:
        self._topics: dict[str, list[Outgoing]] = {}
        self._subscribers: list[tuple[re.Pattern[str], Subscriber]] = []
        self._pending: deque[Outgoing] = deque()
        self._flushing = False

    def subscribe(self, pattern: re.Pattern[str] | str, subscriber: Subscriber) -> None:
        """Deliver every message on a topic matching ``pattern`` (all of it) to ``subscriber``."""
        self._subscribers.append((re.compile(pattern), subscriber))

    def publish(self, message: Outgoing) -> None:
        """Keep the message on its topic and queue it for delivery."""
        self._topics.setdefault(message.topic, []).append(message)
        self._pending.append(message)

    def flush(self) -> None:
        """Deliver the queued messages, and those their subscribers publish, in order.

        If a subscriber raises, the error propagates; the messages after the one it was
        given stay queued for the next ``flush``.
        """
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._pending:
                message = self._pending.popleft()
                delivery = Delivery.of(message)
                for pattern, subscriber in self._subscribers:
                    if pattern.fullmatch(message.topic):
                        subscriber(delivery)
        finally:
            self._flushing = False

    def messages(self, topic: str) -> list[Outgoing]:
        """Every message published on ``topic``, in order."""
        return list(self._topics.get(topic, ()))
