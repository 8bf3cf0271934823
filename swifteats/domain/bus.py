"""Messages to publish and the port that publishes them (Kafka live, in process in replays)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish: topic, key, JSON body and string headers."""

    topic: str
    key: str
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def value(self) -> bytes:
        """The body as UTF-8 JSON."""
        return json.dumps(self.payload).encode()


class EventBus(Protocol):
    """Publishes messages; what was published before ``flush`` returns is not lost."""

    def publish(self, message: Outgoing) -> None:
        """Queue one message; messages of one key keep their order."""
        ...

    def flush(self) -> None:
        """Wait until every queued message is published; raise the first failure."""
        ...
