"""Topics created with the Kafka admin client, partitions and replicas from the settings.

The services never rely on a broker creating topics on first use: a real cluster runs
with ``auto.create.topics.enable=false``, and one that auto-creates would use its own
partition count. A topic that exists already is fine (another instance made it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from kafka.admin import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError, for_code

from swifteats.adapters.kafka.clients import security_options
from swifteats.settings import Settings

_CREATE_TIMEOUT_MS = 10_000


class TopicCreator:
    """Creates each topic once per process (thread-safe); the admin client is made on first
    use and remade after a failure."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._known: set[str] = set()
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()

    def ensure(self, topics: Iterable[str]) -> None:
        """Create those of ``topics`` this process has not made sure of yet.

        Raises:
            kafka.errors.KafkaError: The cluster refused a topic (other than "exists
                already") or could not be reached; nothing is remembered then.
        """
        wanted = [topic for topic in topics if topic not in self._known]
        if not wanted:
            return
        with self._lock:
            missing = [topic for topic in dict.fromkeys(wanted) if topic not in self._known]
            if missing:
                self._create(missing)
                self._known.update(missing)

    def close(self) -> None:
        """Close the admin client, if one is open."""
        with self._lock:
            self._drop_admin()

    def _create(self, topics: list[str]) -> None:
        settings = self._settings
        spec = {
            "num_partitions": settings.kafka_topic_partitions,
            "replication_factor": settings.kafka_replication_factor,
        }
        try:
            self._admin = self._admin or _admin_client(settings)
            answer = self._admin.create_topics(
                {topic: dict(spec) for topic in topics},
                timeout_ms=_CREATE_TIMEOUT_MS,
                raise_errors=False,
                wait_for_metadata=True,
            )
        except Exception:
            self._drop_admin()
            raise
        for topic in answer["topics"]:
            error = for_code(topic["error_code"])
            if topic["error_code"] != 0 and error is not TopicAlreadyExistsError:
                raise error(f"cannot create topic {topic['name']!r}: {topic['error_message']}")

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()


def _admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka_host.split(","),
        client_id="swifteats-admin",
        request_timeout_ms=_CREATE_TIMEOUT_MS + 5_000,
        **security_options(settings),
    )


def create_topics(settings: Settings, topics: Iterable[str]) -> None:
    """Make sure ``topics`` exist, as :class:`TopicCreator` creates them."""
    creator = TopicCreator(settings)
    try:
        creator.ensure(topics)
    finally:
        creator.close()
