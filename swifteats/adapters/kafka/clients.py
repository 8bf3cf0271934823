"""Producer and consumer factories built from Settings; nothing broker-specific."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from swifteats.settings import Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """What every producer and consumer shares: brokers, metadata age, security."""
    return {
        "bootstrap_servers": settings.kafka_host.split(","),
        "client_id": "swifteats",
        "metadata_max_age_ms": settings.kafka_metadata_max_age_ms,
        "allow_auto_create_topics": False,  # topics.TopicCreator makes them
        "metrics_enabled": False,  # nothing reads the client's sensors; they cost CPU per record
        **security_options(settings),
    }


def security_options(settings: Settings) -> dict[str, Any]:
    """kafka-python's TLS and SASL options from the settings; only those that are set."""
    password = settings.kafka_sasl_password
    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": password.get_secret_value() if password else None,
        "ssl_cafile": settings.kafka_ssl_cafile,
        "ssl_certfile": settings.kafka_ssl_certfile,
        "ssl_keyfile": settings.kafka_ssl_keyfile,
    }
    return {name: value for name, value in options.items() if value is not None}


def make_producer(settings: Settings) -> KafkaProducer:
    """A producer that waits for the leader's ack and never blocks longer than 10 s.

    Not idempotent: every consumer here takes a duplicate in its stride, and the
    idempotent producer's state does not survive a broker that forgets it. After a Tansu
    restart (memory storage) kafka-python 3.0's idempotent producer retried a batch on
    UNKNOWN_PRODUCER_ID ten times a second until its delivery timeout (2 min), and
    ``close`` waited for that, so the outbox relay published nothing meanwhile.
    """
    return KafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=False,
        linger_ms=0,
        max_block_ms=10_000,
        max_request_size=settings.kafka_max_message_bytes,
        retries=5,
    )


def make_consumer(
    settings: Settings, *, group_id: str, topics: tuple[str, ...] = (), pattern: str | None = None
) -> KafkaConsumer:
    """A consumer in ``group_id`` committing by hand, reading new topics from the start,
    that never sends a LeaveGroup (:func:`leave_by_session_timeout`) and finishes every
    join it starts (:func:`await_every_join`)."""
    consumer = KafkaConsumer(
        **client_options(settings),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_bytes=settings.kafka_max_message_bytes * 4,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_partition_fetch_bytes=settings.kafka_max_message_bytes,
    )
    leave_by_session_timeout(consumer)
    await_every_join(consumer)
    if pattern is not None:
        consumer.subscribe(pattern=pattern)
    else:
        consumer.subscribe(topics=list(topics))
    return consumer


def leave_by_session_timeout(consumer: KafkaConsumer) -> None:
    """Make ``consumer`` drop out of its group without telling the coordinator.

    Wherever kafka-python would send a LeaveGroup (on ``close``, or from its heartbeat
    thread when polls come further apart than ``max_poll_interval_ms``) it only forgets
    its membership; the coordinator removes the member when its heartbeats stop, after
    the session timeout (6 s by default), as it does for a killed process. The cost is
    that a stopped member's partitions move a session timeout later.

    A LeaveGroup is a hazard: the Tansu broker keeps a leader that leaves while the
    group is rebalancing as the group's leader for good, so no member can sync again
    (every SyncGroup fails with REBALANCE_IN_PROGRESS) until the broker restarts. Static
    membership (``group_instance_id``) sends no LeaveGroup either, but Tansu 0.6 never
    expires a dead static member, so a replacement with another instance id waits forever.
    """
    coordinator = consumer._coordinator

    async def forget_membership(reason: str | None = None, timeout_ms: int | None = None) -> None:
        coordinator.reset_generation()

    coordinator.maybe_leave_group_async = forget_membership


def await_every_join(consumer: KafkaConsumer) -> None:
    """Make ``consumer`` count a join under way as one it still needs, so polls wait for it.

    kafka-python 3.0 forgets a join it started because the subscription changed (a new
    topic matching the pattern): sending the JoinGroup marks the new subscription as
    joined, nothing awaits the answer any more, and the consumer stays without
    partitions, its heartbeats off, until it is reopened. A JoinGroup takes 3 s on Tansu,
    so every new geo topic and every broker restart left the assignment service so.
    """
    coordinator = consumer._coordinator
    needs_join = coordinator.need_rejoin

    def need_rejoin() -> bool:
        return bool(needs_join() or coordinator.rebalance_in_progress())

    coordinator.need_rejoin = need_rejoin
