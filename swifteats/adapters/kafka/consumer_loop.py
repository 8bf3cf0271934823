"""A consumer thread: poll, handle each record, flush what it produced, commit.

Delivery is at least once: offsets are committed only after the batch is handled,
and a batch whose handling raises is read again after a pause. Handlers are
therefore idempotent, and send bad input to the DLQ themselves. A record whose
handling raises ``max_attempts`` times in a row (a poison message the handler did
not foresee) is handed to ``dead_letter`` with the exception as the reason, and the
loop moves on; if even that raises, the batch is read again, the record tried anew.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)

Record = Any
"""A kafka-python ``ConsumerRecord``."""

_LAG_EVERY_S = 5.0
_REJOIN_AFTER_S = 10.0
_REJOIN_AFTER_MAX_S = 300.0
_RETRY_PAUSE_S = 1.0
_MAX_TRACKED_FAILURES = 10_000
"""Records with failures remembered at most; beyond, the counts start again."""

Uncommitted = Callable[[], Mapping[tuple[str, int], int]]
"""Per ``(topic, partition)``, the offset of the first record still held by the handler:
nothing from there on is committed, so the partition's next owner reads it again."""

DeadLetter = Callable[[Record, str], None]
"""Sends a record that cannot be handled to the DLQ with the reason."""


class _StuckWithoutPartitionsError(Exception):
    """A subscribed topic has had no partition assigned to this member for too long."""


class ConsumerLoop(threading.Thread):
    """Runs ``handle`` over every record of a consumer until ``stop`` is set."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], KafkaConsumer],
        handle: Callable[[Record], None],
        *,
        after_batch: Callable[[], None],
        stop: threading.Event,
        dead_letter: DeadLetter | None = None,
        max_attempts: int = 3,
        after_poll: Callable[[], None] | None = None,
        uncommitted: Uncommitted | None = None,
    ) -> None:
        """``dead_letter`` None keeps re-reading a record that always fails (the old way);
        ``after_poll`` runs after every poll, records or none, once they are committed
        (at least every 200 ms while the broker answers)."""
        super().__init__(name=name, daemon=True)
        self._connect = connect
        self._handle = handle
        self._after_batch = after_batch
        self._halt = stop
        self._dead_letter = dead_letter
        self._max_attempts = max_attempts
        self._after_poll = after_poll
        self._uncommitted = uncommitted
        self._held_at_commit: dict[tuple[str, int], int] = {}
        self._failures: dict[tuple[str, int, int], int] = {}
        """Failed attempts per (topic, partition, offset) not yet handled or dead-lettered."""
        self.dead_lettered = 0
        """Records handed to ``dead_letter`` after ``max_attempts`` failures."""
        self.lag = 0
        self.partitions = 0
        self.topics: list[str] = []
        """The topics this member owns partitions of, as of the last poll."""
        self.last_poll_ok = 0.0
        self._lag_checked = 0.0
        self._unowned_since: dict[str, float] = {}
        self._patience: dict[str, float] = {}

    def run(self) -> None:
        """Poll until stopped, reconnecting after broker errors."""
        consumer: KafkaConsumer | None = None
        while not self._halt.is_set():
            try:
                consumer = consumer or self._connect()
                self._poll_once(consumer)
            except KafkaError as error:
                log.warning("%s: Kafka error %r; reconnecting", self.name, error)
                _close(consumer)
                consumer = None
                self._halt.wait(1.0)
            except _StuckWithoutPartitionsError as stuck:
                log.warning(
                    "%s: no partition of %s for a while; rejoining the group", self.name, stuck
                )
                _close(consumer)
                consumer = None
        _close(consumer)

    def _poll_once(self, consumer: KafkaConsumer) -> None:
        batches = consumer.poll(timeout_ms=200, max_records=500)
        self.last_poll_ok = time.monotonic()
        assignment = consumer.assignment()
        self.partitions = len(assignment)
        self.topics = sorted({tp.topic for tp in assignment})
        self._watch_assignment(consumer)
        if batches:
            try:
                for records in batches.values():
                    for record in records:
                        self._handle_or_dead_letter(record)
                self._after_batch()
            except Exception:
                log.exception("%s: handling failed; the batch will be read again", self.name)
                _rewind(consumer, batches)
                self._halt.wait(_RETRY_PAUSE_S)
                return
            _commit(consumer, self._uncommitted)
        if self._after_poll is not None:
            self._after_poll()
            self._commit_answered(consumer)
        self._update_lag(consumer)

    def _commit_answered(self, consumer: KafkaConsumer) -> None:
        """Commit again once held records were answered (``after_poll`` decides them)."""
        if self._uncommitted is None:
            return
        held = dict(self._uncommitted())
        if held != self._held_at_commit:
            _commit(consumer, self._uncommitted)
            self._held_at_commit = held

    def _handle_or_dead_letter(self, record: Record) -> None:
        """Handle ``record``; after ``max_attempts`` failures, dead-letter it instead.

        Raises what the handler raised while attempts remain (the batch is read again),
        and what ``dead_letter`` raises (the record gets another attempt next time).
        """
        where = (record.topic, record.partition, record.offset)
        try:
            self._handle(record)
        except Exception as error:
            attempts = self._failures.get(where, 0) + 1
            if len(self._failures) >= _MAX_TRACKED_FAILURES:
                self._failures.clear()
            self._failures[where] = attempts
            if self._dead_letter is None or attempts < self._max_attempts:
                raise
            reason = f"handling failed {attempts} times: {type(error).__name__}: {error}"
            log.error("%s: %s at %s; sending it to the DLQ", self.name, reason, where)
            self._dead_letter(record, reason)
            self.dead_lettered += 1
        self._failures.pop(where, None)

    def _watch_assignment(self, consumer: KafkaConsumer) -> None:
        """Rejoin when a subscribed topic has had no partition of ours for a while.

        A topic created while the group is (re)joining can be left out of every
        member's assignment with no later rebalance to repair it (seen with
        kafka-python against a fresh broker). Reopening the consumer joins again
        with the topic known. The wait per topic doubles after each such rejoin
        (10 s, 20 s, … 5 min), so a member that legitimately owns none of a topic's
        partitions (more members than partitions) costs the group few rebalances.
        """
        owned = {tp.topic for tp in consumer.assignment()}
        now = time.monotonic()
        for topic in consumer.subscription() or ():
            if topic in owned:
                self._unowned_since.pop(topic, None)
                continue
            since = self._unowned_since.setdefault(topic, now)
            patience = self._patience.get(topic, _REJOIN_AFTER_S)
            if now - since > patience:
                self._patience[topic] = min(patience * 2, _REJOIN_AFTER_MAX_S)
                self._unowned_since.clear()
                raise _StuckWithoutPartitionsError(topic)

    def _update_lag(self, consumer: KafkaConsumer) -> None:
        if time.monotonic() - self._lag_checked < _LAG_EVERY_S:
            return
        self._lag_checked = time.monotonic()
        partitions = list(consumer.assignment())
        if partitions:
            ends = consumer.end_offsets(partitions)
            self.lag = sum(max(0, ends[tp] - consumer.position(tp)) for tp in partitions)


def _commit(consumer: KafkaConsumer, uncommitted: Uncommitted | None) -> None:
    """Commit what was read, short of the first record still held in each partition."""
    try:
        if uncommitted is None:
            consumer.commit()
            return
        held = uncommitted()
        consumer.commit(
            {
                tp: OffsetAndMetadata(
                    min(consumer.position(tp), held.get((tp.topic, tp.partition), 2**63)), "", -1
                )
                for tp in consumer.assignment()
            }
        )
    except (CommitFailedError, RebalanceInProgressError) as error:
        log.info("commit skipped during a rebalance (%r); records may be redelivered", error)


def _rewind(consumer: KafkaConsumer, batches: dict[Any, list[Record]]) -> None:
    for partition, records in batches.items():
        consumer.seek(partition, min(record.offset for record in records))


def _close(consumer: KafkaConsumer | None) -> None:
    if consumer is not None:
        try:
            consumer.close(autocommit=False)
        except KafkaError:
            log.debug("error while closing a consumer", exc_info=True)
