"""The dead-letter topic as the source of truth: read it whole, send originals back.

Both services dead-letter to ``driver_assignment.dlq``: the Driver Assignment Service
directly, the Order Service through its outbox, whose relay publishes those rows like
any event. The topic is therefore the one place that holds every dead letter; the
outbox holds only the Order Service's, and a row there is a copy on its way to the
topic. It is read from the beginning by a consumer without a group: nothing is
committed, so readers never disturb each other or a monitoring consumer.

A dead letter's id is ``partition:offset`` on the DLQ topic: unique, stable, short.

Reprocessing publishes the original bytes, key and headers to the source topic named
in the envelope, with header ``swifteats-reprocessed-from: driver_assignment.dlq/<id>``,
then appends a *marker* to the DLQ topic (header ``swifteats-dlq-event: reprocessed``,
a JSON body naming the dead letter, the copy's place and the time). The record of what
was reprocessed thus lives beside the dead letters: every reader on every machine sees
it, and there is no local state to drift from the topic. A dead letter that has a
marker is refused a second time unless forced. The copy goes out before the marker:
if the marker were lost, a second reprocessing would be allowed, which the consumers'
idempotence absorbs; a marker without its copy would hide a message never resent.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

# The services' own client options (addresses, TLS, SASL), for a consumer without a group.
from swifteats.adapters.kafka.clients import client_options as kafka_options
from swifteats.adapters.kafka.clients import make_producer
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.events import format_instant
from swifteats.domain.topics import DLQ_TOPIC, REQUEST_TOPIC_PREFIX, RESPONSES_TOPIC
from swifteats.settings import Settings

DLQ_EVENT_HEADER = "swifteats-dlq-event"
"""Header of a marker on the DLQ topic; its value says what happened (``reprocessed``)."""
REPROCESSED = "reprocessed"
REPROCESSED_FROM_HEADER = "swifteats-reprocessed-from"
"""Header of a reprocessed message: ``driver_assignment.dlq/<id>`` it came back from."""
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_SEND_TIMEOUT_S = 10.0


class DlqError(Exception):
    """Something the DLQ commands cannot do; the message says what and why."""


class DeadLetterNotFoundError(DlqError, LookupError):
    """No dead letter has this id."""


class NotReprocessableError(DlqError):
    """This dead letter cannot (or, without force, may not) be sent back."""


@dataclass(frozen=True, slots=True)
class Reprocessing:
    """One time a dead letter was sent back: where the copy went, when, and its marker."""

    marker_id: str
    topic: str
    partition: int
    offset: int
    at: str

    @property
    def copy_id(self) -> str:
        """``partition:offset`` of the copy on its topic."""
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message of the DLQ topic and what was done with it since."""

    id: str
    key: bytes | None
    written_at: datetime
    value: bytes
    envelope: dict[str, Any] | None
    """The JSON envelope, or None when the message is not one (written by someone else)."""
    reprocessings: tuple[Reprocessing, ...] = ()

    @property
    def reason(self) -> str:
        """Why the message was dead-lettered."""
        return str(self._field("reason") or "(not a dead-letter envelope)")

    @property
    def source_topic(self) -> str | None:
        """The topic the original was consumed from."""
        topic = self._field("sourceTopic")
        return topic if isinstance(topic, str) else None

    @property
    def order_id(self) -> str | None:
        """The order the original was about, when the service could tell."""
        order_id = self._field("orderId")
        return order_id if isinstance(order_id, str) else None

    @property
    def failed_at(self) -> str | None:
        """When the service gave the message up, as the envelope says."""
        failed_at = self._field("failedAt")
        return failed_at if isinstance(failed_at, str) else None

    @property
    def truncated(self) -> bool:
        """Whether the envelope holds only the start of the original (it was too large)."""
        return self._field("originalTruncated") is True

    @property
    def original(self) -> bytes | None:
        """The original bytes (their start when :attr:`truncated`); None when unreadable."""
        encoded = self._field("originalBase64")
        if not isinstance(encoded, str):
            return None
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None

    @property
    def original_headers(self) -> dict[str, str]:
        """The original's headers, as far as the envelope kept them."""
        headers = self._field("originalHeaders")
        if not isinstance(headers, dict):
            return {}
        return {str(k): v for k, v in headers.items() if isinstance(v, str)}

    def refusal(self, *, force: bool = False) -> str | None:
        """Why this dead letter may not be reprocessed, or None when it may."""
        if self.envelope is None or self.original is None:
            return "not a dead-letter envelope with the original bytes"
        if self.truncated:
            size = self._field("originalSize")
            return f"only the first {len(self.original)} of {size} bytes were kept"
        if not _consumed_topic(self.source_topic):
            return f"source topic {self.source_topic!r} is not one the services consume"
        if self.reprocessings and not force:
            last = self.reprocessings[-1]
            return (
                f"reprocessed already at {last.at} (to {last.topic} {last.copy_id});"
                " use --force to send it again"
            )
        if self.gave_up_order and not force:
            return (
                f"the Order Service gave up on order {self.order_id} (assignment_failed): a new"
                " request would claim a driver whose answer the order ignores; use --force"
                " to send it anyway"
            )
        return None

    @property
    def gave_up_order(self) -> bool:
        """Whether this is the Order Service's last request of an order it marked failed.

        Only the Order Service dead-letters requests with an ``orderId`` (the assignment
        service dead-letters requests it could not read an order id from).
        """
        topic = self.source_topic or ""
        return self.order_id is not None and topic.startswith(REQUEST_TOPIC_PREFIX)

    def _field(self, name: str) -> Any:
        return self.envelope.get(name) if self.envelope is not None else None


@dataclass(frozen=True, slots=True)
class ReprocessOutcome:
    """What became of one dead letter: sent back (``reprocessing``) or ``skipped`` why."""

    letter_id: str
    reprocessing: Reprocessing | None = None
    skipped: str | None = None


def read_dead_letters(settings: Settings, *, timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every dead letter on the DLQ topic, oldest first, with its reprocessings."""
    return collate(read_whole_topic(settings, DLQ_TOPIC, timeout_s=timeout_s))


def find(letters: Sequence[DeadLetter], letter_id: str) -> DeadLetter:
    """The dead letter with ``letter_id``; raise :class:`DeadLetterNotFoundError`."""
    for letter in letters:
        if letter.id == letter_id.strip():
            return letter
    raise DeadLetterNotFoundError(f"no dead letter {letter_id!r} on {DLQ_TOPIC}")


def reprocess(
    settings: Settings,
    letter_ids: Sequence[str] | None = None,
    *,
    force: bool = False,
    clock: Clock = system_clock,
    timeout_s: float = 30.0,
) -> list[ReprocessOutcome]:
    """Send dead letters back to their source topics and mark them reprocessed.

    ``letter_ids`` None means every dead letter: those that may not be reprocessed
    (already done, truncated, not an envelope) are skipped and say why. Named ones
    must all be reprocessable, else :class:`NotReprocessableError` and nothing is sent.
    """
    letters = read_dead_letters(settings, timeout_s=timeout_s)
    chosen = letters if letter_ids is None else [find(letters, i) for i in letter_ids]
    if letter_ids is not None:
        refused = [f"{x.id}: {why}" for x in chosen if (why := x.refusal(force=force))]
        if refused:
            raise NotReprocessableError("; ".join(refused))
    producer = make_producer(settings)
    try:
        return [_reprocess_one(producer, letter, force=force, clock=clock) for letter in chosen]
    finally:
        producer.close(timeout=_SEND_TIMEOUT_S)


def read_whole_topic(settings: Settings, topic: str, *, timeout_s: float) -> list[Any]:
    """Every record of ``topic`` up to its end when called, read without a consumer group."""
    consumer = KafkaConsumer(
        **kafka_options(settings),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.kafka_max_message_bytes,
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        return _read_to(consumer, consumer.end_offsets(partitions), topic, timeout_s)
    finally:
        consumer.close(autocommit=False)


def collate(records: Sequence[Any]) -> list[DeadLetter]:
    """Dead letters from DLQ records, markers attached to the letters they name."""
    letters: dict[str, DeadLetter] = {}
    done: dict[str, list[Reprocessing]] = {}
    for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
        record_id = f"{record.partition}:{record.offset}"
        marker = _marker(record, record_id)
        if marker is not None:
            done.setdefault(marker[0], []).append(marker[1])
        else:
            letters[record_id] = _letter(record, record_id)
    return [
        DeadLetter(
            letter.id,
            letter.key,
            letter.written_at,
            letter.value,
            letter.envelope,
            tuple(done.get(letter.id, ())),
        )
        for letter in letters.values()
    ]


def _read_to(
    consumer: KafkaConsumer, ends: dict[TopicPartition, int], topic: str, timeout_s: float
) -> list[Any]:
    records: list[Any] = []
    pending = {tp for tp, end in ends.items() if end > 0}
    deadline = time.monotonic() + timeout_s
    while pending:
        if time.monotonic() > deadline:
            raise DlqError(f"timed out after {timeout_s:g} s reading {topic}")
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
    return records


def _reprocess_one(
    producer: KafkaProducer, letter: DeadLetter, *, force: bool, clock: Clock
) -> ReprocessOutcome:
    refusal = letter.refusal(force=force)
    if refusal is not None:
        return ReprocessOutcome(letter.id, skipped=refusal)
    assert letter.source_topic is not None  # noqa: S101 - refusal() checked it
    headers = [(k, v.encode()) for k, v in letter.original_headers.items()]
    headers = [h for h in headers if h[0] != REPROCESSED_FROM_HEADER]
    headers.append((REPROCESSED_FROM_HEADER, f"{DLQ_TOPIC}/{letter.id}".encode()))
    copy = producer.send(
        letter.source_topic, key=letter.key or None, value=letter.original, headers=headers
    ).get(timeout=_SEND_TIMEOUT_S)
    marker = {
        "eventType": "DeadLetterReprocessed",
        "deadLetterId": letter.id,
        "topic": copy.topic,
        "partition": copy.partition,
        "offset": copy.offset,
        "reprocessedAt": format_instant(clock()),
    }
    written = producer.send(
        DLQ_TOPIC,
        key=letter.id.encode(),
        value=json.dumps(marker).encode(),
        headers=[(DLQ_EVENT_HEADER, REPROCESSED.encode())],
    ).get(timeout=_SEND_TIMEOUT_S)
    return ReprocessOutcome(
        letter.id, _reprocessing(f"{written.partition}:{written.offset}", marker)
    )


def _marker(record: Any, record_id: str) -> tuple[str, Reprocessing] | None:
    """``(dead letter id, reprocessing)`` when the record is a reprocessing marker."""
    event = dict(record.headers or []).get(DLQ_EVENT_HEADER)
    if event != REPROCESSED.encode():
        return None
    try:
        body = json.loads(record.value)
        return str(body["deadLetterId"]), _reprocessing(record_id, body)
    except (ValueError, TypeError, KeyError):
        return None


def _reprocessing(marker_id: str, body: dict[str, Any]) -> Reprocessing:
    return Reprocessing(
        marker_id,
        str(body["topic"]),
        int(body["partition"]),
        int(body["offset"]),
        str(body["reprocessedAt"]),
    )


def _letter(record: Any, record_id: str) -> DeadLetter:
    value = record.value or b""
    try:
        envelope = json.loads(value)
    except (ValueError, RecursionError):
        envelope = None
    return DeadLetter(
        record_id,
        record.key,
        datetime.fromtimestamp(max(record.timestamp, 0) / 1000, UTC),
        value,
        envelope if isinstance(envelope, dict) else None,
    )


def _consumed_topic(topic: str | None) -> bool:
    """Whether a service consumes ``topic``: the responses or a geo request topic."""
    if topic is None or not _TOPIC_NAME.match(topic):
        return False
    return topic == RESPONSES_TOPIC or (
        topic.startswith(REQUEST_TOPIC_PREFIX) and len(topic) > len(REQUEST_TOPIC_PREFIX)
    )
