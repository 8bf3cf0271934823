"""The Order Service without HTTP or Kafka: orders placed, answers applied, lifecycle, and
a simulated clock moved in steps.

The live service wires it with PostgreSQL, Kafka and Redis; the in-process replay with the
memory store, the in-process bus and the in-memory driver index. Both run the same rules
(:mod:`swifteats.domain.order_rules`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from swifteats.domain.admission import ResendPolicy
from swifteats.domain.bus import EventBus
from swifteats.domain.clock import Clock, ManualClock, system_clock
from swifteats.domain.drivers import DriverIndex, RouteStops
from swifteats.domain.events import AssignmentResponse
from swifteats.domain.order_rules import (
    AnswerResult,
    DriverRelease,
    Outcome,
    ResponseContext,
    advance_order,
    apply_answer,
    place_order,
    refused_claim,
    stray_driver,
)
from swifteats.domain.order_store import OrderNotFoundError, OrderStore, Outbox
from swifteats.domain.orders import NewOrder, OrderRecord, OrderStatus
from swifteats.domain.payment import PaymentProvider, SimulatedPayments
from swifteats.domain.retry import RetryPolicy
from swifteats.observability import ServiceMetrics
from swifteats.services.orders.relay import OutboxRelay
from swifteats.services.orders.responses import Headers, Raw, ResponseHandler

log = logging.getLogger("swifteats.orders")


def new_event_id() -> str:
    """A fresh event id (UUID4)."""
    return str(uuid.uuid4())


class PaymentDeclinedError(Exception):
    """The payment provider refused the order's payment (nothing was stored)."""


class WallClockError(Exception):
    """The service runs on the wall clock, which nobody moves."""


@dataclass(frozen=True, slots=True)
class AppliedAnswer:
    """An answer that changed its order."""

    order_id: str
    outcome: Outcome
    driver_id: str | None
    eta: int | None
    error: str | None
    attempt: int
    """The attempt the answer answered (a retry's order counts the next one already)."""


@dataclass(frozen=True, slots=True)
class ClockReport:
    """Where a simulated clock was moved to and what the Order Service did meanwhile."""

    now: datetime
    requests_published: int
    """Messages on request topics ever published (a running total)."""
    next_due_at: datetime | None
    """When the next outbox message falls due; None when none waits."""
    applied: tuple[AppliedAnswer, ...]
    """Answers applied since the previous report, in the order they were applied
    (recorded on a simulated clock only)."""


class OrderCore:
    """Places orders, applies answers, moves orders along their lifecycle.

    ``clock`` is business time (a :class:`ManualClock` in replays: see
    :meth:`advance_clock`); ``wall`` stamps the pipeline's stages. A placed order wakes
    the relay's thread; whoever feeds answers wakes it after each batch (the service's
    consumer), or publishes with :meth:`advance_clock`.
    """

    def __init__(
        self,
        store: OrderStore,
        outbox: Outbox,
        bus: EventBus,
        drivers: DriverIndex,
        *,
        retry: RetryPolicy,
        clock: Clock,
        metrics: ServiceMetrics,
        wall: Clock = system_clock,
        payments: PaymentProvider | None = None,
        max_message_bytes: int | None = None,
        resend: ResendPolicy | None = None,
        new_event_id: Callable[[], str] = new_event_id,
    ) -> None:
        self.store = store
        self.clock = clock
        self.wall = wall
        self.metrics = metrics
        self.relay = OutboxRelay(
            outbox, bus, clock=clock, wall=wall, resend=resend, metrics=metrics
        )
        self.outbox = outbox
        self._drivers = drivers
        self._retry = retry
        self._payments = payments or SimulatedPayments(frozenset())
        self._new_event_id = new_event_id
        self._responses = ResponseHandler(
            self.apply,
            store.enqueue,
            self.refuse_claim,
            clock=clock,
            wall=wall,
            metrics=metrics,
            max_message_bytes=max_message_bytes,
        )
        self._handled = 0
        self._handled_changed = threading.Condition()
        self._applied: list[AppliedAnswer] = []
        self._applied_lock = threading.Lock()
        self._batch = threading.local()
        """``wake_relay``: in the calling thread's open :meth:`batch`, whether an order was
        placed in it (None: no batch open)."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The changes this thread makes in the block share one store transaction (see
        :meth:`OrderStore.batch`); orders placed in it wake the relay at its end, when
        their requests can be read."""
        if getattr(self._batch, "wake_relay", None) is not None:
            yield
            return
        self._batch.wake_relay = False
        try:
            with self.store.batch():
                yield
        finally:
            wake, self._batch.wake_relay = self._batch.wake_relay, None
        if wake:
            self.relay.notify()

    def place(self, order: NewOrder, *, accepted_at: datetime | None = None) -> OrderRecord:
        """Charge the order, store it and queue its first request.

        Raises :class:`PaymentDeclinedError` or
        :class:`~swifteats.domain.order_store.DuplicateOrderError`.
        """
        payment = self._payments.charge(
            order_id=order.order_id, customer_id=order.customer_id, amount=order.total_amount
        )
        if not payment.approved:
            self.metrics.count("payments_declined")
            raise PaymentDeclinedError(payment.reason)
        change = place_order(
            order,
            event_id=self._new_event_id(),
            now=self.clock(),
            accepted_at=accepted_at or self.wall(),
        )
        self.store.add(change)
        if getattr(self._batch, "wake_relay", None) is None:
            self.relay.notify()
        else:
            self._batch.wake_relay = True
        self.metrics.count("orders_placed")
        return change.order

    def get(self, order_id: str) -> OrderRecord:
        """The order; raise :class:`~swifteats.domain.order_store.OrderNotFoundError`."""
        return self.store.get(order_id)

    def get_many(self, order_ids: list[str]) -> list[OrderRecord]:
        """The orders known among these, in the order named."""
        return self.store.get_many(order_ids)

    def on_response(self, raw: bytes | None, topic: str, headers: Headers | None) -> str:
        """Handle one record of the responses topic: ``assigned``, ``retry``, ``failed``,
        ``stale`` or ``dead_letter``."""
        outcome = self._responses.handle(raw, topic=topic, headers=headers)
        self._count_handled()
        return outcome

    def on_responses(self, records: list[Raw]) -> list[str]:
        """:meth:`on_response` for each ``(value, topic, headers)``, the answers applied in
        one transaction (a poll batch)."""
        outcomes = self._responses.handle_many(records, self.apply_many)
        self._count_handled(len(records))
        return outcomes

    def reject_response(
        self, raw: bytes | None, topic: str, headers: Headers | None, reason: str
    ) -> str:
        """Dead-letter a response record whose handling kept raising."""
        outcome = self._responses.reject(raw, topic=topic, headers=headers, reason=reason)
        self._count_handled()
        return outcome

    def apply(self, response: AssignmentResponse, context: ResponseContext) -> Outcome | None:
        """Apply a decoded answer; None when no order has its id. A driver a success
        claimed for an order that will never take it is freed."""
        try:
            result = self.store.change(response.order_id, self._answer_rule(response, context))
        except OrderNotFoundError:
            return self._after_answer(response, None)
        return self._after_answer(response, result)

    def apply_many(
        self, answers: list[tuple[AssignmentResponse, ResponseContext]]
    ) -> list[Outcome | None]:
        """:meth:`apply` each answer in turn, all in one transaction of the store."""
        changes = [(r.order_id, self._answer_rule(r, context)) for r, context in answers]
        results = self.store.change_many(changes)
        return [
            self._after_answer(response, result)
            for (response, _), result in zip(answers, results, strict=True)
        ]

    def _answer_rule(
        self, response: AssignmentResponse, context: ResponseContext
    ) -> Callable[[OrderRecord], AnswerResult]:
        return lambda order: apply_answer(
            order, response, context, retry=self._retry, new_event_id=self._new_event_id
        )

    def _after_answer(
        self, response: AssignmentResponse, result: AnswerResult | None
    ) -> Outcome | None:
        """After an answer's change: free a stray driver, note the answer (simulated
        clock); None when no order has its id."""
        if result is None:
            self._free(stray_driver(None, response))
            return None
        self._free(result.release)
        if result.written and self.simulated:
            order = result.order
            applied = AppliedAnswer(
                order.order_id,
                result.outcome,
                order.driver_id,
                order.eta_minutes,
                order.last_error,
                order.attempts - 1 if result.outcome == "retry" else order.attempts,
            )
            with self._applied_lock:
                self._applied.append(applied)
        return result.outcome

    def refuse_claim(self, order_id: str, driver_id: str) -> None:
        """An invalid success answer claimed ``driver_id`` for ``order_id``: free it."""
        try:
            order: OrderRecord | None = self.store.get(order_id)
        except OrderNotFoundError:
            order = None
        self._free(refused_claim(order, order_id, driver_id))

    def picked_up(self, order_id: str) -> OrderRecord:
        """The food left the restaurant."""
        return self._advance(order_id, OrderStatus.PICKED_UP)

    def delivered(self, order_id: str) -> OrderRecord:
        """The order reached its customer; its driver is freed at the door: it starts its
        queued route, if a windowed policy gave it one, or becomes available."""
        order = self._advance(order_id, OrderStatus.DELIVERED)
        if order.driver_id is not None and not self._drivers.release(
            order.driver_id, order_id, order.order.customer, self.clock()
        ):
            log.info(
                "driver %s stays busy: it holds another order than %s (a route's last) or none",
                order.driver_id,
                order_id,
            )
        return order

    def driver_routes(self, driver_ids: list[str]) -> dict[str, RouteStops]:
        """The orders each known driver holds now, in drop-off order with their ETAs: a
        lockstep replay reads the route a drop-off started with the call that told it."""
        found = {driver_id: self._drivers.get(driver_id) for driver_id in driver_ids}
        return {d: driver.route for d, driver in found.items() if driver is not None}

    @property
    def simulated(self) -> bool:
        """True when the business clock is a :class:`ManualClock` someone moves."""
        return isinstance(self.clock, ManualClock)

    def move_clock(self, now: datetime) -> None:
        """Move the simulated clock to ``now`` without publishing; raise
        :class:`WallClockError` on the wall clock."""
        if not isinstance(self.clock, ManualClock):
            raise WallClockError("this service runs on the wall clock")
        self.clock.advance_to(now)

    def advance_clock(self, now: datetime) -> ClockReport:
        """Move the simulated clock to ``now``, publish everything due then, and report.

        Raises :class:`WallClockError` on the wall clock, and what publishing raised (what
        was not published stays due).
        """
        self.move_clock(now)
        self.relay.publish_due(self.clock())
        with self._applied_lock:
            applied, self._applied = tuple(self._applied), []
        return ClockReport(
            now=self.clock(),
            requests_published=self.outbox.requests_published(),
            next_due_at=self.outbox.next_due_at(),
            applied=applied,
        )

    @property
    def responses_handled(self) -> int:
        """Response records handled so far (applied, stale or dead-lettered)."""
        with self._handled_changed:
            return self._handled

    def wait_for_responses(self, count: int, *, timeout_s: float) -> bool:
        """Wait until at least ``count`` response records were handled; False on timeout."""
        with self._handled_changed:
            return self._handled_changed.wait_for(lambda: self._handled >= count, timeout_s)

    def _advance(self, order_id: str, target: OrderStatus) -> OrderRecord:
        now = self.clock()
        return self.store.change(order_id, lambda o: advance_order(o, target, now=now)).order

    def _count_handled(self, records: int = 1) -> None:
        with self._handled_changed:
            self._handled += records
            self._handled_changed.notify_all()

    def _free(self, release: DriverRelease | None) -> None:
        """Free a driver claimed for an order that will never take it, where it stands."""
        if release is None:
            return
        driver = self._drivers.get(release.driver_id)
        if driver is None:
            return
        freed = self._drivers.release(
            release.driver_id, release.order_id, driver.location, self.clock()
        )
        if freed:
            self.metrics.count("responses:driver_released")
        log.info(
            "driver %s claimed for order %s, which will never take it: %s",
            release.driver_id,
            release.order_id,
            "freed" if freed else "holds it no more",
        )
