"""Consumer groups on the broker: a leader gone mid-rebalance wedges nothing, a new topic
is consumed, and an assignment service that consumes nothing says so on /health."""

from __future__ import annotations

import httpx
import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from swifteats.adapters.kafka.clients import leave_by_session_timeout, make_consumer
from swifteats.domain.topics import request_topic
from swifteats.settings import Settings
from tests.integration.helpers import Broker, Deployment, wait_until

pytestmark = [pytest.mark.kafka]


def _create(host: str, topics: list[str], partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=host)
    admin.create_topics([NewTopic(topic, partitions, 1) for topic in topics])
    admin.close()


def _owns(consumer: KafkaConsumer, count: int) -> bool:
    consumer.poll(timeout_ms=100)
    return len(consumer.assignment()) == count


@pytest.mark.parametrize("gone", ["closed", "too slow to poll"])
def test_a_leader_gone_mid_rebalance_does_not_wedge_the_group(kafka: Broker, gone: str) -> None:
    """On Tansu, a LeaveGroup from the leader of a rebalancing group left it with that
    leader for good: every later SyncGroup failed with REBALANCE_IN_PROGRESS."""
    _create(kafka.host, ["wedge"], 2)
    settings = Settings(kafka_host=kafka.host)
    leader = make_consumer(settings, group_id="wedge", topics=("wedge",))
    follower = make_consumer(settings, group_id="wedge", topics=("wedge",))
    try:
        wait_until(lambda: _owns(leader, 2), timeout_s=60, what="the first member owns all")
        wait_until(
            lambda: _owns(follower, 0) and follower.group_metadata().member_id != "",
            timeout_s=30,
            what="the second member joined: the group is rebalancing",
        )
        if gone == "closed":
            leader.close(autocommit=False)
        # else the leader just stops polling: kafka-python gives up its membership after
        # max_poll_interval_ms (5 s), from its heartbeat thread
        wait_until(lambda: _owns(follower, 2), timeout_s=60, what="the second member owns all")
    finally:
        leader.close(autocommit=False)
        follower.close(autocommit=False)


def test_a_topic_created_after_the_join_is_consumed(kafka: Broker) -> None:
    """kafka-python 3.0 forgot the join a new topic matching the pattern starts (here while
    the first join is under way): the member stayed without partitions, its heartbeats
    off, until it was reopened."""
    consumer = make_consumer(
        Settings(kafka_host=kafka.host),
        group_id="late",
        pattern=r"^driver_assignment\.requests\..+",
    )
    try:
        wait_until(
            lambda: _owns(consumer, 0) and consumer.group_metadata().member_id != "",
            timeout_s=30,
            what="the consumer joining the group, with no topic yet",
        )
        _create(kafka.host, [request_topic("2_2")], 2)
        wait_until(lambda: _owns(consumer, 2), timeout_s=30, what="the new topic owned")
    finally:
        consumer.close(autocommit=False)


@pytest.mark.redis
def test_health_is_degraded_while_the_assignment_service_owns_no_partition(
    kafka: Broker, deployment: Deployment
) -> None:
    topics = [request_topic("1_1"), request_topic("2_2")]
    _create(kafka.host, topics, 1)
    # A member whose id sorts before the service's ("swifteats-…"): the range assignor
    # gives it the only partition of each topic, and the service nothing.
    occupant = KafkaConsumer(
        *topics,
        bootstrap_servers=kafka.host,
        group_id="driver-assignment",
        client_id="a-occupant",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=5000,
    )
    leave_by_session_timeout(occupant)
    try:
        wait_until(lambda: _owns(occupant, 2), timeout_s=60, what="the occupant owns both")
        assignment = deployment.start("assignment-service", wait_healthy=False)

        def health() -> httpx.Response:
            occupant.poll(timeout_ms=100)
            return httpx.get(assignment.url + "/health", timeout=5)

        def idle() -> bool:
            reason = health().json().get("reasons", {}).get("kafka", "")
            return str(reason).startswith("no partition of the 2 subscribed topic(s)")

        wait_until(idle, timeout_s=90, what="/health says the service owns no partition")
        response = health()
        assert response.status_code == 503
        assert response.json()["status"] == "degraded"
        assert response.json()["checks"]["kafka"] == "down"
    finally:
        occupant.close(autocommit=False)
    wait_until(
        lambda: httpx.get(assignment.url + "/health", timeout=5).status_code == 200,
        timeout_s=90,
        what="/health 200 once the occupant is gone",
    )
