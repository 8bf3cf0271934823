"""One load step against the live services: offer a rate, wait for the orders, read them.

The offer goes through ``wrk`` when it is installed (:mod:`swifteats.bench.wrk_load`),
else through the Python generator (:mod:`swifteats.bench.loadgen`), and the step says
which. Every accepted order is read back from PostgreSQL; the drain waits until none of
the step's orders is still ``new_order`` or until the drain timeout.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from swifteats.bench.e2e_figures import COLUMNS, Row, decision_lines, step_figures
from swifteats.bench.e2e_orders import OrderMaker
from swifteats.bench.loadgen import offer_orders
from swifteats.bench.offered import Offered
from swifteats.bench.services import BenchServices, auth_headers, cpu_seconds
from swifteats.bench.wrk_load import offer_with_wrk, wrk_path
from swifteats.settings import Settings
from swifteats.stack.records import load_state

_WARM_UP_ORDERS = 40
PYTHON_CONNECTIONS = 64
"""Most worker threads of the Python generator (each holds one connection)."""


class StepRunner:
    """Offers rates in turn and measures what became of the orders."""

    def __init__(
        self,
        settings: Settings,
        services: BenchServices,
        conn: psycopg.Connection[Any],
        orders: OrderMaker,
        *,
        connections: int,
        drain_timeout_s: float,
        generator: str = "auto",
    ) -> None:
        self._settings = settings
        self._services = services
        self._conn = conn
        self._orders = orders
        self._connections = connections
        self._drain_timeout_s = drain_timeout_s
        self.generator = "wrk" if generator == "auto" and wrk_path() else generator
        if self.generator == "auto":
            self.generator = "python"
        self._log_offset = 0
        self._steps = 0

    def warm_up(self) -> None:
        """A few orders through the whole pipeline: connections, consumer groups, caches."""
        bodies = self._orders.bodies("warm-", _WARM_UP_ORDERS)
        self._offer(bodies, rate=20.0)
        self._drain("warm-")
        self._decisions("warm-")  # moves past the warm-up's lines

    def run_step(self, rate: float, duration_s: float, label: str = "") -> dict[str, Any]:
        """Offer ``rate`` for ``duration_s``; figures once every order is decided."""
        self._steps += 1
        prefix = f"s{self._steps}{label}-"
        bodies = self._orders.bodies(prefix, max(1, round(rate * duration_s)))
        at_end: dict[str, Any] = {}
        load_before, cpu_before = os.getloadavg()[0], self._cpu()
        offer = self._offer(bodies, rate=rate, at_end=lambda: at_end.update(self._stats()))
        drain_s, deadline = self._drain(prefix)
        cpu_used = {k: v - cpu_before[k] for k, v in self._cpu().items() if k in cpu_before}
        rows = self._rows(prefix)
        figures = step_figures(offer, rows, self._decisions(prefix), deadline=deadline)
        accepted = max(1, len(rows))
        return {
            **figures,
            "drain_s": drain_s,
            "at_step_end": at_end,
            "cpu_ms_per_order": {
                k: round(v * 1000 / accepted, 2)
                for k, v in {**cpu_used, f"load-generator ({offer.generator})": offer.cpu_s}.items()
            },
            "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }

    def _offer(
        self, bodies: list[bytes], *, rate: float, at_end: Callable[[], object] | None = None
    ) -> Offered:
        url, headers = self._services.orders_url, auth_headers(self._settings)
        if self.generator == "wrk":
            return offer_with_wrk(
                url,
                bodies,
                rate_per_s=rate,
                headers=headers,
                connections=self._connections,
                on_dispatched=at_end,
            )
        offer = offer_orders(
            url,
            bodies,
            rate_per_s=rate,
            headers=headers,
            connections=min(self._connections, PYTHON_CONNECTIONS),
            on_dispatched=at_end,
        )
        return offer.offered()

    def _cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each service, the servers the step alone uses (the
        database's backends, a broker the benchmark started) and this whole process."""
        used = {name: cpu_seconds(pid) for name, pid in self._services.pids.items()}
        used["postgres-backends"] = _sum_known(cpu_seconds(pid) for pid in self._backends())
        kafka = load_state(self._settings.state_dir)
        if kafka is not None and kafka.get("kafka").pid is not None:
            used["kafka-broker"] = cpu_seconds(kafka.get("kafka").pid or 0)
        times = os.times()
        return {
            **{name: seconds for name, seconds in used.items() if seconds is not None},
            "bench-process": times.user + times.system,
        }

    def _backends(self) -> list[int]:
        """PostgreSQL backends of the services' database (their pools keep them open)."""
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _drain(self, prefix: str) -> tuple[float | None, float]:
        """Seconds until no order of the step waits for an answer (None: not in time), and
        the wall instant the wait ended."""
        started = time.monotonic()
        deadline = started + self._drain_timeout_s
        while time.monotonic() < deadline:
            row = self._conn.execute(
                "SELECT count(*) FROM orders WHERE id LIKE %s AND status = 'new_order'",
                (f"{prefix}%",),
            ).fetchone()
            if row is not None and row[0] == 0:
                return round(time.monotonic() - started, 3), time.time()
            time.sleep(0.2)
        return None, time.time()

    def _rows(self, prefix: str) -> list[Row]:
        with self._conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT {', '.join(COLUMNS)} FROM orders WHERE id LIKE %s",  # noqa: S608 - constant columns
                (f"{prefix}%",),
            )
            return cur.fetchall()

    def _decisions(self, prefix: str) -> list[dict[str, Any]]:
        """The step's decision lines, read from where the last step stopped."""
        with self._services.assignment_log.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read()
        complete = text[: text.rfind(b"\n") + 1]
        self._log_offset += len(complete)
        return [d for d in decision_lines(complete) if str(d.get("orderId", "")).startswith(prefix)]

    def _stats(self) -> dict[str, Any]:
        """Backlogs and lags as both services report them."""
        headers = auth_headers(self._settings)
        try:
            orders = httpx.get(
                f"{self._services.orders_url}/stats", headers=headers, timeout=10
            ).json()
            assignment = httpx.get(
                f"{self._services.assignment_url}/stats", headers=headers, timeout=10
            ).json()
        except httpx.HTTPError as error:
            return {"error": repr(error)}
        return {
            "outbox_backlog": orders.get("outboxBacklog"),
            "orders_consumer_lag": orders.get("consumerLag"),
            "admission": orders.get("admission"),
            "resent": orders.get("resent"),
            "assignment_consumer_lag": assignment.get("consumerLag"),
            "available_drivers": assignment.get("availableDrivers"),
        }


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def fresh_rng(seed: int) -> random.Random:
    """The bench's random source (test data, not cryptography)."""
    return random.Random(seed)  # noqa: S311
