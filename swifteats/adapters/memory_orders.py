"""Orders and their outbox in process memory: the in-process replay's twin of PostgreSQL."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from swifteats.domain.admission import PipelineLoad, ResendPolicy
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.order_rules import Enqueued, OrderChange
from swifteats.domain.order_store import Change, DuplicateOrderError, OrderNotFoundError
from swifteats.domain.orders import OrderRecord, OrderStatus
from swifteats.domain.topics import REQUEST_TOPIC_PREFIX


@dataclass(slots=True)
class _Row:
    id: int
    message: Outgoing
    due: datetime

    @property
    def is_request(self) -> bool:
        return self.message.topic.startswith(REQUEST_TOPIC_PREFIX)


class InMemoryOrderStore:
    """:class:`~swifteats.domain.order_store.OrderStore` and
    :class:`~swifteats.domain.order_store.Outbox` over dicts, safe across threads.

    ``send`` is called without the lock held, so a subscriber that answers synchronously
    may change orders while their requests are being published.
    """

    def __init__(self) -> None:
        self._orders: dict[str, OrderRecord] = {}
        self._unsent: dict[int, _Row] = {}
        """Rows not sent yet, by id (ids grow with each row enqueued: enqueue order)."""
        self._waiting: list[tuple[datetime, int]] = []
        """A heap of ``(due, id)`` of the unsent rows no caller is sending."""
        self._unsent_requests: dict[str, list[_Row]] = {}
        """Each order's unsent request rows."""
        self._last_request: dict[str, _Row] = {}
        """Each order's newest request row, sent or not."""
        self._ids = itertools.count(1)
        self._requests_published = 0
        self._lock = threading.Lock()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Nothing: each call is kept as it returns, and nothing can fail to commit."""
        yield

    def add(self, change: OrderChange) -> None:
        """Store a new order and enqueue its messages."""
        with self._lock:
            if change.order.order_id in self._orders:
                raise DuplicateOrderError(change.order.order_id)
            self._orders[change.order.order_id] = change.order
            self._enqueue_all(change.messages)

    def get(self, order_id: str) -> OrderRecord:
        """The order, ``next_attempt_at`` included."""
        with self._lock:
            return self._require(order_id)

    def get_many(self, order_ids: Sequence[str]) -> list[OrderRecord]:
        """The orders known among these, in the order named."""
        with self._lock:
            return [self._require(i) for i in order_ids if i in self._orders]

    def change(self, order_id: str, rule: Callable[[OrderRecord], Change]) -> Change:
        """Run ``rule`` on the order under the lock; keep what it returns."""
        with self._lock:
            result = rule(self._require(order_id))
            if result.written:
                self._orders[order_id] = result.order
            self._enqueue_all(result.messages)
        return result

    def change_many(
        self, changes: Sequence[tuple[str, Callable[[OrderRecord], Change]]]
    ) -> list[Change | None]:
        """Run every rule under the lock; keep what they returned once all have run."""
        with self._lock:
            staged: dict[str, OrderRecord] = {}
            results: list[Change | None] = []
            for order_id, rule in changes:
                order = staged.get(order_id)
                if order is None and order_id in self._orders:
                    order = self._require(order_id)
                if order is None:
                    results.append(None)
                    continue
                result = rule(order)
                if result.written:
                    staged[order_id] = result.order
                results.append(result)
            self._orders.update(staged)
            for done in results:
                if done is not None:
                    self._enqueue_all(done.messages)
        return results

    def enqueue(self, message: Enqueued) -> None:
        """Queue a message of no order's change."""
        with self._lock:
            self._enqueue_all((message,))

    def publish_due(
        self,
        send: Callable[[list[Outgoing]], None],
        *,
        now: datetime,
        wall: Clock,
        limit: int = 500,
    ) -> int:
        """Hand the due rows to ``send`` (lock released meanwhile) and mark them sent."""
        with self._lock:
            due: list[_Row] = []
            while self._waiting and self._waiting[0][0] <= now:
                due.append(self._unsent[heapq.heappop(self._waiting)[1]])
            due.sort(key=lambda row: row.id)
            rows, later = due[:limit], due[limit:]
            self._wait(later)
        if not rows:
            return 0
        handed_over = wall()
        try:
            send([row.message for row in rows])
        except BaseException:
            with self._lock:
                self._wait(rows)
            raise
        with self._lock:
            for row in rows:
                self._mark_sent(row, handed_over)
        return len(rows)

    def next_due_at(self) -> datetime | None:
        """When the earliest unsent row is due (rows being sent aside)."""
        with self._lock:
            return self._waiting[0][0] if self._waiting else None

    def resend_unanswered(
        self, *, now: datetime, wall: datetime, policy: ResendPolicy, limit: int
    ) -> int:
        """Queue copies of the overdue requests of orders still waiting (oldest first)."""
        published_before = wall - timedelta(seconds=policy.timeout_s)
        unproven_before = wall - timedelta(seconds=policy.unproven_after_s)
        answered_before = wall - timedelta(seconds=policy.timeout_s / 2)
        with self._lock:
            overdue = sorted(
                (
                    (published, row)
                    for order_id, row in self._last_request.items()
                    if row.id not in self._unsent
                    and (order := self._orders.get(order_id)) is not None
                    and order.status == OrderStatus.NEW_ORDER
                    and (published := order.request_published_at) is not None
                    and published < published_before
                    and (published < unproven_before or self._passed(row, answered_before))
                ),
                key=lambda pair: pair[0],
            )[: max(0, limit)]
            self._enqueue_all(Enqueued(row.message, now) for _, row in overdue)
        return len(overdue)

    def pipeline_load(self, *, now: datetime) -> PipelineLoad:
        """Unsent due rows and orders in ``new_order``."""
        with self._lock:
            backlog = sum(1 for row in self._unsent.values() if row.due <= now)
            waiting = sum(1 for o in self._orders.values() if o.status == OrderStatus.NEW_ORDER)
        return PipelineLoad(backlog, waiting)

    def _passed(self, row: _Row, answered_before: datetime) -> bool:
        """Whether a request sent after ``row`` on its topic was answered since, before
        ``answered_before`` (lock held)."""
        for later in self._last_request.values():
            if later.id <= row.id or later.id in self._unsent:
                continue
            if later.message.topic != row.message.topic:
                continue
            order = self._orders.get(later.message.key)
            answered = None if order is None else _answered_since_published(order)
            if answered is not None and answered < answered_before:
                return True
        return False

    def requests_published(self) -> int:
        """Request messages sent so far."""
        with self._lock:
            return self._requests_published

    def _require(self, order_id: str) -> OrderRecord:
        """The order as stored, with the due time of its next unsent request."""
        order = self._orders.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        due = min((row.due for row in self._unsent_requests.get(order_id, ())), default=None)
        return order if order.next_attempt_at == due else replace(order, next_attempt_at=due)

    def _enqueue_all(self, messages: Iterable[Enqueued]) -> None:
        for enqueued in messages:
            row = _Row(next(self._ids), enqueued.message, enqueued.due)
            self._unsent[row.id] = row
            self._wait((row,))
            if row.is_request:
                self._last_request[row.message.key] = row
                self._unsent_requests.setdefault(row.message.key, []).append(row)

    def _wait(self, rows: Iterable[_Row]) -> None:
        for row in rows:
            heapq.heappush(self._waiting, (row.due, row.id))

    def _mark_sent(self, row: _Row, handed_over: datetime) -> None:
        del self._unsent[row.id]
        if not row.is_request:
            return
        self._requests_published += 1
        order_id = row.message.key
        self._unsent_requests[order_id].remove(row)
        order = self._orders.get(order_id)
        if order is not None:
            self._orders[order_id] = replace(order, request_published_at=handed_over)


def _answered_since_published(order: OrderRecord) -> datetime | None:
    """When the order's last published request was answered; None if it was not."""
    answered, published = order.response_consumed_at, order.request_published_at
    if answered is None or published is None or answered <= published:
        return None
    return answered
