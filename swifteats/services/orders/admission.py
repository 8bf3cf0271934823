"""Admission control of the Order Service: count what waits behind the door, shed beyond.

A daemon thread counts the outbox backlog and the orders waiting for their answer every
``SWIFTEATS_ADMISSION_SAMPLE_S``; :meth:`Admission.refusal` adds the orders this instance
accepted since the last count, so a burst between two counts cannot overshoot the
bounds. A failed count keeps the last one (the database being down refuses orders anyway).
Sheds are counted in ``/metrics`` as ``orders_shed`` and ``orders_shed:<reason>``.
"""

from __future__ import annotations

import logging
import threading

from swifteats.domain.admission import AdmissionBounds, PipelineLoad, shed_reason
from swifteats.domain.clock import Clock
from swifteats.domain.order_store import Outbox
from swifteats.observability import ServiceMetrics

log = logging.getLogger("swifteats.orders")


class Admission:
    """Lets new orders in while the pipeline keeps up (:mod:`swifteats.domain.admission`)."""

    def __init__(
        self,
        outbox: Outbox,
        bounds: AdmissionBounds,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        every_s: float = 0.1,
    ) -> None:
        self.bounds = bounds
        self._outbox = outbox
        self._clock = clock
        self._metrics = metrics
        self._every_s = every_s
        self._lock = threading.Lock()
        self._sampled = PipelineLoad(0, 0)
        self._accepted_since = 0

    def start(self, stop: threading.Event) -> threading.Thread:
        """Count in a daemon thread until ``stop`` is set."""
        thread = threading.Thread(target=self._run, args=(stop,), name="admission", daemon=True)
        thread.start()
        return thread

    def sample(self) -> PipelineLoad:
        """Count the backlog and the unanswered orders now."""
        load = self._outbox.pipeline_load(now=self._clock())
        with self._lock:
            self._sampled, self._accepted_since = load, 0
        return load

    @property
    def load(self) -> PipelineLoad:
        """The last count plus the orders accepted since."""
        with self._lock:
            sampled, extra = self._sampled, self._accepted_since
        return PipelineLoad(sampled.outbox_backlog + extra, sampled.unanswered + extra)

    def refusal(self) -> str | None:
        """Why a new order is shed now, counted; None when it may come in."""
        reason = shed_reason(self.load, self.bounds)
        if reason is not None:
            self._metrics.count("orders_shed")
            self._metrics.count(f"orders_shed:{reason}")
        return reason

    def accepted(self) -> None:
        """One more order waits behind the door until the next count."""
        with self._lock:
            self._accepted_since += 1

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self._every_s):
            try:
                self.sample()
            except Exception as error:
                log.warning("admission: counting the backlog failed: %r", error)
