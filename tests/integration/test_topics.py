"""Topics are created with the admin client, partitions and replicas from the settings.

Tansu creates a topic on first use with 4 partitions; the tests ask for 3, so a topic
that a broker made on its own would show.
"""

from __future__ import annotations

import pytest
from kafka.admin import KafkaAdminClient

from swifteats.adapters.kafka.topics import TopicCreator
from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.settings import Settings
from tests.integration.helpers import Broker, Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

PARTITIONS = 3


def _layout(host: str, topics: list[str]) -> dict[str, tuple[int, int]]:
    """Partitions and replicas of each topic, as the cluster describes them."""
    admin = KafkaAdminClient(bootstrap_servers=host)
    try:
        described = admin.describe_topics(topics)
    finally:
        admin.close()
    return {
        topic["name"]: (len(topic["partitions"]), len(topic["partitions"][0]["replica_nodes"]))
        for topic in described
        if topic["error_code"] == 0
    }


@pytest.mark.kafka
def test_topics_get_partitions_and_replicas_from_settings_and_exist_once(kafka: Broker) -> None:
    settings = Settings(kafka_host=kafka.host, kafka_topic_partitions=PARTITIONS)
    topics = ["swifteats.test.a", "swifteats.test.b"]
    first, second = TopicCreator(settings), TopicCreator(settings)
    try:
        first.ensure(topics)
        second.ensure([*topics, "swifteats.test.a"])  # exists already: no error
    finally:
        first.close()
        second.close()

    assert _layout(kafka.host, topics) == {topic: (PARTITIONS, 1) for topic in topics}


def test_services_create_their_topics_before_publishing(
    kafka: Broker, deployment: Deployment
) -> None:
    deployment.env["SWIFTEATS_KAFKA_TOPIC_PARTITIONS"] = str(PARTITIONS)
    orders = deployment.start("order-service")
    assignment = deployment.start("assignment-service")
    with SwiftEatsClient(orders.url, assignment.url) as client:
        client.register_driver("d-topics", RESTAURANT[0] + 0.001, RESTAURANT[1])
        placed = client.place_order(sample_order())
        client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=60)

    request_topic = "driver_assignment.requests.4_-7"
    assert _layout(kafka.host, [request_topic, RESPONSES_TOPIC]) == {
        request_topic: (PARTITIONS, 1),
        RESPONSES_TOPIC: (PARTITIONS, 1),
    }
