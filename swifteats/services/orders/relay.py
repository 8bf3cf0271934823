"""The outbox relay: publishes due outbox messages on the event bus and marks them sent."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from swifteats.domain.admission import ResendBudget, ResendPolicy
from swifteats.domain.bus import EventBus, Outgoing
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.order_store import Outbox
from swifteats.observability import ServiceMetrics

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 1.0


class OutboxRelay:
    """Moves the outbox onto the bus: :meth:`publish_due` on demand (the in-process replay,
    ``PUT /clock``), and :meth:`start` for a thread that does it as rows fall due.

    One lock (reentrant, so a subscriber that publishes synchronously may call it again)
    serialises every publication, so a thread and a direct call never overlap.
    """

    def __init__(
        self,
        outbox: Outbox,
        bus: EventBus,
        *,
        clock: Clock,
        wall: Clock = system_clock,
        resend: ResendPolicy | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._outbox = outbox
        self._bus = bus
        self._clock = clock
        self._wall = wall
        self._resend = ResendBudget(resend or ResendPolicy())
        self._metrics = metrics
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._checked_answers = 0.0
        self.published = 0
        """Messages this relay published."""
        self.resent = 0
        """Unanswered requests it queued again."""

    def publish_due(self, now: datetime | None = None) -> int:
        """Publish every message due at ``now`` (default: the clock's); return how many.

        Raises what the bus or the outbox raised; what was not marked sent stays due.
        """
        at = self._clock() if now is None else now
        total = 0
        with self._lock:
            while sent := self._outbox.publish_due(self._send_all, now=at, wall=self._wall):
                total += sent
                self.published += sent
        return total

    def notify(self) -> None:
        """A message was enqueued: the thread publishes at once instead of at its next look."""
        self._wake.set()

    def start(self, stop: threading.Event) -> threading.Thread:
        """Publish in a daemon thread until ``stop`` is set (and :meth:`notify` called)."""
        thread = threading.Thread(target=self._run, args=(stop,), name="outbox-relay", daemon=True)
        thread.start()
        return thread

    def _run(self, stop: threading.Event) -> None:
        """On any failure keep the rows and try again shortly: the relay is the outbox's
        only way out, so no error may end it."""
        while not stop.is_set():
            self._wake.clear()
            try:
                self._resend_overdue()
                self.publish_due()
                due = self._outbox.next_due_at()
                wait = _IDLE_WAIT_S
                if due is not None:
                    wait = min(max(0.0, (due - self._clock()).total_seconds()), _IDLE_WAIT_S)
            except Exception as error:
                log.warning("outbox relay: %r; retrying", error)
                wait = _IDLE_WAIT_S
            self._wake.wait(wait)

    def _resend_overdue(self) -> None:
        """Once a second: queue again the requests whose answer is overdue, within the
        re-send budget (``SWIFTEATS_RESEND_MAX_PER_S``); counted as ``requests_resent``."""
        if time.monotonic() - self._checked_answers < _IDLE_WAIT_S:
            return
        self._checked_answers = time.monotonic()
        budget = self._resend.available(self._checked_answers)
        resent = self._outbox.resend_unanswered(
            now=self._clock(), wall=self._wall(), policy=self._resend.policy, limit=budget
        )
        if resent:
            self._resend.spend(resent)
            log.warning("outbox relay: %d request(s) unanswered for too long; sent again", resent)
            self.resent += resent
            if self._metrics is not None:
                self._metrics.count("requests_resent", resent)

    def _send_all(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self._bus.publish(message)
        self._bus.flush()
