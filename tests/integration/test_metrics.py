"""/metrics gauges with values read from the real servers: consumer lag per topic, held
requests, outbox backlog, requests in flight, available drivers per geo key."""

from __future__ import annotations

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from swifteats.adapters.kafka.consumer_loop import lag_by_topic
from swifteats.adapters.kafka.topics import create_topics
from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.settings import Settings
from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

REQUESTS = "driver_assignment.requests.4_-7"


def gauges(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every gauge sample of a service's /metrics: (name, labels but service) → value."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "service"))): (
            sample.value
        )
        for family in text_string_to_metric_families(text)
        if family.type == "gauge"
        for sample in family.samples
    }


def test_lag_is_counted_per_topic_from_the_brokers_end_offsets(kafka: Broker) -> None:
    settings = Settings(kafka_host=kafka.host, kafka_topic_partitions=2)
    create_topics(settings, ["lag.a", "lag.b"])
    producer = KafkaProducer(bootstrap_servers=kafka.host)
    for topic, count in (("lag.a", 5), ("lag.b", 2)):
        for i in range(count):
            producer.send(topic, key=str(i).encode(), value=b"x")
            producer.flush()  # one record a batch: Tansu 0.6 puts the end of a partition
            # one past the last batch's first offset
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka.host, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for t in ("lag.a", "lag.b") for p in (0, 1)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        assert lag_by_topic(consumer, partitions) == {"lag.a": 5, "lag.b": 2}
        consumer.seek_to_end(TopicPartition("lag.a", 0), TopicPartition("lag.a", 1))
        assert lag_by_topic(consumer, partitions) == {"lag.a": 0, "lag.b": 2}
    finally:
        consumer.close()


def test_queue_and_driver_gauges_follow_the_servers(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders = deployment.start("order-service", SWIFTEATS_ANSWER_TIMEOUT_S="600")
    assignment = deployment.start("assignment-service", SWIFTEATS_DECISION_CLOCK="external")
    client = make_client(orders.url, assignment.url)
    client.register_driver("near-1", RESTAURANT[0] + 0.001, RESTAURANT[1])
    client.register_driver("near-2", RESTAURANT[0] + 0.002, RESTAURANT[1])
    client.register_driver("london", 51.5074, -0.1278)
    client.register_driver("away", 51.5, -0.12)
    client.set_driver_status("away", "offline")

    client.place_order(sample_order())  # held: the decision clock never moves
    wait_until(
        lambda: client.assignment_stats()["heldRequests"] == 1,
        timeout_s=60,
        what="the request held",
    )
    wait_until(
        lambda: ("swifteats_consumer_lag", (("topic", REQUESTS),)) in gauges(assignment.url),
        timeout_s=30,
        what="the assignment service's lag known",
    )
    decider = gauges(assignment.url)
    assert decider[("swifteats_held_requests", ())] == 1
    assert decider[("swifteats_consumer_lag", (("topic", REQUESTS),))] == 0
    assert decider[("swifteats_available_drivers", (("geo_key", "4_-7"),))] == 2
    assert decider[("swifteats_available_drivers", (("geo_key", "5_0"),))] == 1
    placer = gauges(orders.url)
    assert placer[("swifteats_requests_in_flight", ())] == 1
    assert placer[("swifteats_outbox_backlog", ())] == 0

    kafka.kill()  # nothing can be published now
    client.place_order(sample_order())
    placer = gauges(orders.url)
    assert placer[("swifteats_outbox_backlog", ())] == 1
    assert placer[("swifteats_requests_in_flight", ())] == 1
