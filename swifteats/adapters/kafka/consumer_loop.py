"""A consumer thread: poll, handle each record, flush what it produced, commit.

Delivery is at least once: offsets are committed only after the batch is handled,
and a batch whose handling raises is read again after a pause. Handlers are
therefore idempotent, and send bad input to the DLQ themselves. A record whose
handling raises ``max_attempts`` times in a row (a poison message the handler did
not foresee) is handed to ``dead_letter`` with the exception as the reason, and the
loop moves on; if even that raises, the batch is read again, the record tried anew.

The loop ends only when told to. Any other exception (a broker restart, a client
bug such as kafka-python's ``KeyError`` from ``end_offsets``) is counted in
``failures`` and logged, and the consumer is closed and made anew after a backoff
(0.5 s doubling to 10 s; a working poll resets it). A batch is handled for at most
``batch_budget_s`` and the rest read again at the next poll, so polls stay well within
``max_poll_interval_ms`` and the client never drops out of the group for being slow.
``problem()`` says why the loop is not consuming, for ``/health``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kafka import KafkaConsumer
from kafka.errors import CommitFailedError, KafkaError, RebalanceInProgressError
from kafka.structs import MemberState, OffsetAndMetadata, TopicPartition

from swifteats.domain.retry import RetryPolicy

log = logging.getLogger(__name__)

Record = Any
"""A kafka-python ``ConsumerRecord``."""

Batches = dict[Any, list[Record]]
"""Records by kafka-python ``TopicPartition``, as ``poll`` returns them."""

_LAG_EVERY_S = 5.0
_LAG_TIMEOUT_MS = 2000
_REJOIN_AFTER_S = 10.0
_JOIN_PATIENCE_S = 60.0
_REJOIN_AFTER_MAX_S = 300.0
_POLL_MS = 200
_POLL_UNASSIGNED_MS = 1000
"""A consumer that owns nothing is usually joining its group. kafka-python 3.0 drops the
result of a JoinGroup/SyncGroup that completes between two polls and joins again (each
join costs 3 s or more on Tansu); longer polls let it take the result."""
_RETRY_PAUSE_S = 1.0
_MAX_TRACKED_FAILURES = 10_000
"""Records with failures remembered at most; beyond, the counts start again."""
_BACKOFF = RetryPolicy(base_s=0.5, factor=2.0, cap_s=10.0, max_attempts=32)
"""Pause before a new consumer after failures in a row (``max_attempts``: no limit, the
count is capped there)."""
_STALE_POLL_S = 15.0
"""/health: no successful poll for this long is a problem."""
_IDLE_GRACE_S = 30.0
"""/health: subscribed topics exist but no partition of them is ours for this long."""

Uncommitted = Callable[[], Mapping[tuple[str, int], int]]
"""Per ``(topic, partition)``, the offset of the first record still held by the handler:
nothing from there on is committed, so the partition's next owner reads it again."""

DeadLetter = Callable[[Record, str], None]
"""Sends a record that cannot be handled to the DLQ with the reason."""


class _StuckError(Exception):
    """The consumer is to be made anew: a subscribed topic has had no partition assigned
    to this member for too long, or joining the group takes too long."""


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
        backoff: RetryPolicy = _BACKOFF,
        batch_budget_s: float = 1.0,
        handle_batch: Callable[[list[Record]], None] | None = None,
    ) -> None:
        """``dead_letter`` None keeps re-reading a record that always fails (the old way);
        ``after_poll`` runs after every poll, records or none, once they are committed
        (while the broker answers: every 200 ms, every second while the consumer owns no
        partition); ``batch_budget_s`` must stay
        well below the consumer's ``max_poll_interval_ms``. ``handle_batch``, when given,
        handles a poll's records together first; if it raises, they are handled one by
        one with ``handle`` (so a poison record is found and dead-lettered alone)."""
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
        self._backoff = backoff
        self._batch_budget_s = batch_budget_s
        self._handle_batch = handle_batch
        self._failures: dict[tuple[str, int, int], int] = {}
        """Failed attempts per (topic, partition, offset) not yet handled or dead-lettered."""
        self.dead_lettered = 0
        """Records handed to ``dead_letter`` after ``max_attempts`` failures."""
        self.failures = 0
        """Failed connects, polls, commits and lag queries since the start."""
        self.last_failure: str | None = None
        self._failed_in_a_row = 0
        self.lag_by_topic: dict[str, int] = {}
        """Records behind the end of our partitions, per topic, as of the last query."""
        self.partitions = 0
        self.topics: list[str] = []
        """The topics this member owns partitions of, as of the last poll."""
        self.last_poll_ok = 0.0
        self._lag_checked = 0.0
        self._unowned_since: float | None = None
        self._joining_since: float | None = None
        self._patience = _REJOIN_AFTER_S
        self._idle_since: float | None = None
        self._subscribed = 0

    def run(self) -> None:
        """Poll until stopped; anything else that ends the thread is logged as critical."""
        try:
            self._consume()
        finally:
            if not self._halt.is_set():
                log.critical("%s: the consumer thread ended without being stopped", self.name)

    @property
    def lag(self) -> int:
        """Records behind the end of our partitions, all topics together."""
        return sum(self.lag_by_topic.values())

    def problem(self) -> str | None:
        """Why this loop is not consuming now, or None when it is (for ``/health``)."""
        now = time.monotonic()
        if not self.is_alive():
            return "the consumer thread has stopped"
        if now - self.last_poll_ok > _STALE_POLL_S:
            since = "yet" if not self.last_poll_ok else f"for {now - self.last_poll_ok:.0f} s"
            failure = f"; last failure: {self.last_failure}" if self.last_failure else ""
            return f"no successful poll {since}{failure}"
        if self._idle_since is not None and now - self._idle_since > _IDLE_GRACE_S:
            return (
                f"no partition of the {self._subscribed} subscribed topic(s) assigned "
                f"for {now - self._idle_since:.0f} s"
            )
        return None

    def _consume(self) -> None:
        consumer: KafkaConsumer | None = None
        while not self._halt.is_set():
            try:
                consumer = consumer or self._connect()
                self._poll_once(consumer)
                self._failed_in_a_row = 0
            except _StuckError as stuck:
                log.warning("%s: %s; rejoining the group", self.name, stuck)
                _close(consumer)
                consumer = None
            except Exception as error:
                self._failed_in_a_row += 1
                attempt = min(self._failed_in_a_row, self._backoff.max_attempts - 1)
                pause = self._backoff.delay_after(attempt) or self._backoff.cap_s
                in_a_row = f"{self._failed_in_a_row} in a row"
                self._count_failure(f"consumer failed ({in_a_row}); a new one in {pause} s", error)
                _close(consumer)
                consumer = None
                self._halt.wait(pause)
        _close(consumer)

    def _count_failure(self, what: str, error: Exception) -> None:
        self.failures += 1
        self.last_failure = f"{type(error).__name__}: {error}"
        log.warning(
            "%s: %s: %s (failure %d)",
            self.name,
            what,
            self.last_failure,
            self.failures,
            exc_info=not isinstance(error, KafkaError),  # a client bug: keep the trace
        )

    def _poll_once(self, consumer: KafkaConsumer) -> None:
        timeout_ms = _POLL_MS if self.partitions else _POLL_UNASSIGNED_MS
        batches = consumer.poll(timeout_ms=timeout_ms, max_records=500)
        self.last_poll_ok = time.monotonic()
        assignment = consumer.assignment()
        self.partitions = len(assignment)
        self.topics = sorted({tp.topic for tp in assignment})
        self._watch_assignment(consumer)
        if batches:
            try:
                left = self._handle_within_budget(batches)
                self._after_batch()
            except Exception:
                log.exception("%s: handling failed; the batch will be read again", self.name)
                _rewind(consumer, batches)
                self._halt.wait(_RETRY_PAUSE_S)
                return
            _rewind(consumer, left)
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

    def _handle_within_budget(self, batches: Batches) -> Batches:
        """Handle records until ``batch_budget_s`` is spent; return those left by partition."""
        if self._handle_batch is not None:
            records = [record for records in batches.values() for record in records]
            try:
                self._handle_batch(records)
                return {}
            except Exception:
                log.warning(
                    "%s: %d records together failed; one by one now",
                    self.name,
                    len(records),
                    exc_info=True,
                )
        deadline = time.monotonic() + self._batch_budget_s
        left: Batches = {}
        for partition, records in batches.items():
            for index, record in enumerate(records):
                if time.monotonic() > deadline:
                    left[partition] = records[index:]
                    break
                self._handle_or_dead_letter(record)
        return left

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
        """Make the consumer anew when a subscribed topic has had no partition of ours for a
        while after the join, or when joining the group takes more than a minute.

        A topic created while the group is (re)joining can be left out of every
        member's assignment with no later rebalance to repair it (seen with
        kafka-python against a fresh broker). Reopening the consumer joins again
        with the topic known. The wait doubles after each such rejoin (10 s, 20 s, …
        5 min) until every subscribed topic is ours again, so a member that
        legitimately owns none of a topic's partitions (more members than partitions)
        costs the group few rebalances. A join in progress is left alone for a minute
        (it takes up to ~15 s on the Tansu broker after a member died; reopening would
        start it over). Also notes since when this member owns nothing of the subscribed
        topics, for ``problem``.
        """
        owned = {tp.topic for tp in consumer.assignment()}
        subscribed = consumer.subscription() or set()
        now = time.monotonic()
        self._subscribed = len(subscribed)
        if owned or not subscribed:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        if consumer.group_metadata().state != MemberState.STABLE:
            self._unowned_since = None
            if self._joining_since is None:
                self._joining_since = now
            elif now - self._joining_since > _JOIN_PATIENCE_S:
                self._joining_since = None
                raise _StuckError(f"still joining the group after {_JOIN_PATIENCE_S:.0f} s")
            return
        self._joining_since = None
        unowned = sorted(subscribed - owned)
        if not unowned:
            self._unowned_since = None
            self._patience = _REJOIN_AFTER_S
            return
        if self._unowned_since is None:
            self._unowned_since = now
        elif now - self._unowned_since > self._patience:
            waited = now - self._unowned_since
            self._patience = min(self._patience * 2, _REJOIN_AFTER_MAX_S)
            self._unowned_since = None
            raise _StuckError(f"no partition of {', '.join(unowned)} for {waited:.0f} s")

    def _update_lag(self, consumer: KafkaConsumer) -> None:
        """Records behind the end of our partitions, every 5 s; a failed query is counted
        and logged, and the lag keeps its last value."""
        if time.monotonic() - self._lag_checked < _LAG_EVERY_S:
            return
        self._lag_checked = time.monotonic()
        partitions = list(consumer.assignment())
        if not partitions:
            return
        try:
            self.lag_by_topic = lag_by_topic(consumer, partitions)
        except Exception as error:
            self._count_failure("consumer lag unknown", error)


def lag_by_topic(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> dict[str, int]:
    """Records between the consumer's position and the end of each of ``partitions``,
    summed per topic."""
    ends = consumer.end_offsets(partitions, timeout_ms=_LAG_TIMEOUT_MS)
    lag = dict.fromkeys((tp.topic for tp in partitions), 0)
    for tp in partitions:
        at = consumer.position(tp, timeout_ms=_LAG_TIMEOUT_MS)
        if at is not None:
            lag[tp.topic] += max(0, ends[tp] - at)
    return lag


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


def _rewind(consumer: KafkaConsumer, batches: Batches) -> None:
    for partition, records in batches.items():
        consumer.seek(partition, min(record.offset for record in records))


def _close(consumer: KafkaConsumer | None) -> None:
    if consumer is not None:
        try:
            consumer.close(autocommit=False)
        except Exception:
            log.debug("error while closing a consumer", exc_info=True)
