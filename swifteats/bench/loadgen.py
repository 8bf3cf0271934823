"""Open-loop load: POST /orders at a fixed rate whatever the answers, every request timed.

A dispatcher hands request ``i`` to a pool of worker threads at ``start + i / rate`` (or as
soon after as it can), never waiting for earlier answers: an open loop, so a slow service
does not slow the offer down, and requests wait for a free worker instead. Each worker
holds one keep-alive ``httpx.Client`` connection, opened before the clock starts. Threads
with synchronous clients, because on this workload ``httpx.AsyncClient`` costs about five
times the CPU per request, and the generator shares the machine with everything it
measures. It reports what it achieved and what it cost: when it could not start requests
on time, the step says so rather than blaming the services.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from swifteats.bench.offered import Offered
from swifteats.bench.stats import Summary, summarise


@dataclass(frozen=True, slots=True)
class Sent:
    """One request: when it was due, handed to the client and answered (wall seconds)."""

    index: int
    due: float
    started: float
    finished: float
    status: int
    """The HTTP status; 0 when no answer came (transport error or timeout)."""


@dataclass(frozen=True, slots=True)
class Offer:
    """What the generator did in one step."""

    rate_per_s: float
    duration_s: float
    start: float
    """Wall time request 0 was due."""
    sent: tuple[Sent, ...]
    cpu_s: float = 0.0
    """CPU seconds the generator spent: its dispatcher and its workers' requests."""

    @property
    def achieved_per_s(self) -> float:
        """Requests started per second, over the step or longer if starting them took longer."""
        if not self.sent:
            return 0.0
        last = max(s.started for s in self.sent) - self.start + 1 / self.rate_per_s
        return len(self.sent) / max(self.duration_s, last)

    @property
    def accepted(self) -> int:
        """Orders the service accepted (201)."""
        return sum(1 for s in self.sent if s.status == 201)

    def errors(self) -> dict[str, int]:
        """Answers other than 201, by status (``0``: none came)."""
        return {
            str(k): v for k, v in Counter(s.status for s in self.sent if s.status != 201).items()
        }

    def start_lag_ms(self) -> Summary:
        """How late requests were handed to the client."""
        return summarise((s.started - s.due) * 1000 for s in self.sent)

    def post_ms(self) -> Summary:
        """POST round trips of accepted orders, as the client saw them."""
        return summarise((s.finished - s.started) * 1000 for s in self.sent if s.status == 201)

    def offered(self) -> Offered:
        """The generator-neutral summary of this offer."""
        late = max(((s.started - s.due) * 1000 for s in self.sent), default=0.0)
        return Offered(
            generator="python",
            rate_per_s=self.rate_per_s,
            duration_s=self.duration_s,
            start=self.start,
            sent=len(self.sent),
            statuses=dict(Counter(str(s.status) for s in self.sent)),
            cpu_s=self.cpu_s,
            max_late_ms=late,
            post_ms=self.post_ms(),
        )


def offer_orders(
    base_url: str,
    bodies: Sequence[bytes],
    *,
    rate_per_s: float,
    headers: dict[str, str],
    connections: int = 64,
    timeout_s: float = 30.0,
    on_dispatched: Callable[[], object] | None = None,
) -> Offer:
    """POST every body to ``/orders`` at ``rate_per_s``; return when all are answered.

    ``on_dispatched`` is called once the last request is handed out: the end of the offer,
    while the slowest answers may still be outstanding.
    """
    workers = _Workers(base_url, {**headers, "content-type": "application/json"}, timeout_s)
    dispatcher_cpu = time.thread_time()
    with ThreadPoolExecutor(connections, thread_name_prefix="bench-load") as pool:
        ready = threading.Barrier(connections)
        for _ in range(connections):  # one per thread: every worker connects before the clock
            pool.submit(workers.connect, ready)
        start_wall, start_clock = time.time() + 0.05, time.monotonic() + 0.05
        futures = []
        for i, body in enumerate(bodies):
            delay = start_clock + i / rate_per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(workers.post, i, start_wall + i / rate_per_s, body))
        if on_dispatched is not None:
            on_dispatched()
        sent = tuple(future.result() for future in futures)
    cpu_s = workers.close() + time.thread_time() - dispatcher_cpu
    return Offer(rate_per_s, len(bodies) / rate_per_s, start_wall, sent, cpu_s)


class _Workers:
    """The pool threads' clients (one each) and the CPU they spend on requests."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout_s: float) -> None:
        self._base_url, self._headers, self._timeout_s = base_url, headers, timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[httpx.Client] = []
        self._cpu_s = 0.0

    def connect(self, ready: threading.Barrier) -> None:
        """Open this thread's connection, then wait until every thread has one."""
        self._client().get("/health")
        ready.wait(timeout=30)

    def post(self, index: int, due: float, body: bytes) -> Sent:
        """One order: when it was due, started and answered, and the status."""
        cpu, started = time.thread_time(), time.time()
        try:
            status = self._client().post("/orders", content=body).status_code
        except httpx.HTTPError:
            status = 0
        finished = time.time()
        with self._lock:
            self._cpu_s += time.thread_time() - cpu
        return Sent(index, due, started, finished, status)

    def close(self) -> float:
        """Close every client; the CPU seconds spent in requests."""
        for client in self._clients:
            client.close()
        return self._cpu_s

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(
                base_url=self._base_url, headers=self._headers, timeout=self._timeout_s
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client
