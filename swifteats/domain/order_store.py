"""The ports of the Order Service's storage: orders, and the outbox their messages wait in.

PostgreSQL (one transaction per change) in the service, memory in the in-process replay.
The store applies no rule itself: :meth:`OrderStore.change` runs one of
:mod:`swifteats.domain.order_rules` on the order while it holds the order's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar

from swifteats.domain.admission import PipelineLoad, ResendPolicy
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.order_rules import Enqueued, OrderChange
from swifteats.domain.orders import OrderRecord

Change = TypeVar("Change", bound=OrderChange)


class OrderNotFoundError(LookupError):
    """No order has this id."""


class DuplicateOrderError(ValueError):
    """An order with this id exists already."""


class StoreUnavailableError(Exception):
    """The store cannot be reached now (its server is down or has no free connection)."""


class OrderStore(Protocol):
    """Orders, written together with the messages they emit."""

    def batch(self) -> AbstractContextManager[None]:
        """The calls the current thread makes in the block share one transaction: kept
        together when it ends, one commit for many changes. Each call behaves as alone (a
        duplicate or a rule that raises writes nothing and fails no other); if the block
        raises, what was done in it may or may not be kept."""
        ...

    def add(self, change: OrderChange) -> None:
        """Store a new order and enqueue its messages; raise :class:`DuplicateOrderError`."""
        ...

    def get(self, order_id: str) -> OrderRecord:
        """The order, ``next_attempt_at`` included; raise :class:`OrderNotFoundError`."""
        ...

    def get_many(self, order_ids: Sequence[str]) -> list[OrderRecord]:
        """The orders with these ids, as :meth:`get` shows each, in the order named;
        unknown ids left out."""
        ...

    def change(self, order_id: str, rule: Callable[[OrderRecord], Change]) -> Change:
        """Run ``rule`` on the order under its lock; write the order it returns (unless
        not ``written``) and enqueue its messages atomically; return what ``rule`` returned.

        Raises :class:`OrderNotFoundError`, or what ``rule`` raised (nothing is written).
        """
        ...

    def change_many(
        self, changes: Sequence[tuple[str, Callable[[OrderRecord], Change]]]
    ) -> list[Change | None]:
        """:meth:`change` for each ``(order_id, rule)`` in turn, all atomically (one
        transaction): a rule sees the order as the rules before it left it. None where no
        order has the id. If a rule raises, that is raised and nothing is written.
        """
        ...

    def enqueue(self, message: Enqueued) -> None:
        """Queue a message of no order's change (a dead letter)."""
        ...


class Outbox(Protocol):
    """The messages waiting to be published, in the order they were enqueued."""

    def publish_due(
        self,
        send: Callable[[list[Outgoing]], None],
        *,
        now: datetime,
        wall: Clock,
        limit: int = 500,
    ) -> int:
        """Hand the messages due at ``now`` (at most ``limit``) to ``send`` in one list, in
        enqueue order, and mark them sent once it returns; return how many (call again
        until 0 to publish all).

        If ``send`` raises, nothing is marked and the messages stay due. A message being
        sent is not handed to another caller meanwhile. Orders whose request is sent get
        the ``wall`` clock's instant of the hand-over as ``request_published_at``.
        """
        ...

    def next_due_at(self) -> datetime | None:
        """When the earliest unsent message is due; None when none waits."""
        ...

    def resend_unanswered(
        self, *, now: datetime, wall: datetime, policy: ResendPolicy, limit: int
    ) -> int:
        """Queue again, due at ``now``, the last request of orders still waiting for their
        answer ``policy.timeout_s`` (wall) after it was published; return how many.

        Only a request shown to be passed by its consumer is re-sent so soon: a request
        published after it on the same topic was answered since, ``timeout_s / 2`` ago at
        least (its own answer may be on its way in another partition). One that may merely
        be queued is re-sent only after ``policy.unproven_after_s``. At most ``limit``,
        oldest first. The copy keeps the request's event id, so if the first answer turns
        up after all, the second is stale. A request whose copy is not sent yet is not
        queued again.
        """
        ...

    def pipeline_load(self, *, now: datetime) -> PipelineLoad:
        """Rows due at ``now`` and unsent, and orders waiting for an answer."""
        ...

    def requests_published(self) -> int:
        """How many messages on request topics were ever sent (copies included)."""
        ...
