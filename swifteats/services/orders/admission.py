"""Admission control of the Order Service: count what waits behind the door, shed beyond.

A daemon thread counts the outbox backlog and the orders waiting for their answer every
``SWIFTEATS_ADMISSION_SAMPLE_S``; :meth:`Admission.refusal` adds the orders this instance
accepted since the last count, so a burst between two counts cannot overshoot the
bounds. A failed count keeps the last one (the database being down refuses orders anyway).
Sheds are counted in ``/metrics`` as ``orders_shed`` and ``orders_shed:<reason>``.
"""

from __future__ import annotations

import json
import logging
import threading

from starlette.types import ASGIApp, Receive, Scope, Send

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

    def refusal_text(self, reason: str) -> str:
        """The ``detail`` of a shed order's 503."""
        return (
            f"overloaded ({_SHED_REASONS[reason]}); "
            f"send the order again in {self.bounds.retry_after_s} s"
        )

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


_SHED_REASONS = {
    "outbox_backlog": "too many requests wait to be published",
    "unanswered": "too many orders wait for a driver",
}


class ShedOrders:
    """ASGI middleware: ``POST /orders`` gets 503 with ``Retry-After`` while
    :meth:`Admission.refusal` says so, before routing, authentication or parsing, so an
    order shed costs the service as little as possible."""

    def __init__(self, app: ASGIApp, *, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 503 at once when shedding; otherwise pass the request on."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/orders":
            await self.app(scope, receive, send)
            return
        reason = self.admission.refusal()
        if reason is None:
            await self.app(scope, receive, send)
            return
        while (await receive()).get("more_body", False):
            pass  # read the body so the connection stays usable
        body = json.dumps({"detail": self.admission.refusal_text(reason)}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(self.admission.bounds.retry_after_s).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
