"""End to end, live: orders per second from ``POST /orders`` to ``assigned_driver``.

Both services run on the wall clock with their default settings (INFO logs: the
assignment service writes one decision line per request, which this benchmark reads for
the search, scoring and claim timings). ``drivers`` drivers are written to Redis spread
so that a search finds about ``found`` of them (:class:`~swifteats.bench.fleet.Area`); a
:class:`~swifteats.bench.releaser.DriverReleaser` frees the driver of every assigned
order at the customer's door, as delivery would, so the pool never runs dry. Each step
offers one rate for ``step_s`` seconds (open loop, :mod:`swifteats.bench.loadgen`), then
waits until the step's orders are decided and reads their stamps from PostgreSQL.

Per step: offered, achieved (generator), completed per second, the backlog (arrived and
not yet assigned) at the end and its growth, whether the step kept up
(:func:`~swifteats.bench.stats.limited_by`), and p50/p95/p99 of every stage. Stages come
from the orders table (wall clock; ``request_consumed_at`` and ``decided_at`` travel in
messages with millisecond precision), search/scoring/claim from the decision log, the
POST round trip from the generator. Orders retried (a second attempt) are counted but
left out of the stage figures, whose stamps would span the retry delay.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.bench.fleet import Area, near
from swifteats.bench.loadgen import Offer, offer_orders
from swifteats.bench.releaser import DriverReleaser
from swifteats.bench.services import (
    BenchServices,
    auth_headers,
    bench_redis,
    bench_services,
    cpu_seconds,
)
from swifteats.bench.stats import (
    StepLoad,
    Summary,
    backlog_series,
    growth_per_s,
    limited_by,
    max_sustained,
    summarise,
)
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.geo import geo_key
from swifteats.domain.topics import request_topic
from swifteats.settings import Settings
from swifteats.stack.records import load_state

Echo = Callable[[str], None]
Row = dict[str, Any]

HEADLINE_RATE = 200.0
"""The rate whose p99 placed → assigned is a headline figure."""
_STAGES = {
    "outbox_to_kafka": ("accepted_at", "request_published_at"),
    "request_consumed": ("request_published_at", "request_consumed_at"),
    "decided": ("request_consumed_at", "decided_at"),
    "response_consumed": ("decided_at", "response_consumed_at"),
    "placed_to_assigned": ("accepted_at", "response_consumed_at"),
}
"""Stage → (from, to) stamps of the orders table; ``response_consumed_at`` is set in the
transaction that marks the order ``assigned_driver``."""
_DECISION_MESSAGES = {"assignment decision", "slow assignment decision"}
_WARM_UP_ORDERS = 40


@dataclass(frozen=True, slots=True)
class E2eOptions:
    """Rates, fleet and patience of the end-to-end benchmark."""

    rates: tuple[float, ...] = (50.0, 100.0, 200.0, 400.0, 800.0, 1200.0)
    step_s: float = 10.0
    drivers: int = 2_000
    found: float = 100.0
    """Drivers (any status) a search of ``radius_km`` finds around a restaurant."""
    radius_km: float = 5.0
    drain_timeout_s: float = 60.0
    connections: int = 64
    stop_when_saturated: bool = True
    """Skip the rates above the headline rate (200/s) once a step did not keep up."""
    seed: int = 7
    service_env: dict[str, str] = field(default_factory=dict)
    """Extra environment for both services (``SWIFTEATS_*``)."""


def run_e2e(settings: Settings, options: E2eOptions, *, echo: Echo) -> dict[str, Any]:
    """Start both services, load them step by step, and return the figures."""
    rng = random.Random(options.seed)  # noqa: S311 - test data, not cryptography
    area = Area.for_fleet(options.drivers, found=options.found, radius_km=options.radius_km)
    topics = _topics(area)
    with bench_services(settings, topics=topics, env=options.service_env) as services:
        redis_client = bench_redis(settings)
        index = RedisDriverIndex(redis_client, services.redis_prefix)
        index.register_many(
            DriverRecord(f"driver-{i}", area.point(rng), DriverStatus.AVAILABLE)
            for i in range(options.drivers)
        )
        try:
            with (
                DriverReleaser(services.database_url, index) as releaser,
                psycopg.connect(services.database_url, autocommit=True) as conn,
            ):
                commit_ms = commit_latency_ms(conn)
                runner = _StepRunner(settings, services, conn, area, rng, options)
                runner.warm_up()
                steps = runner.run_all(echo)
                released = releaser.released
        finally:
            redis_client.close()
    return {**_summary(steps, options, area, released), "postgres_commit_ms": commit_ms}


def commit_latency_ms(conn: psycopg.Connection[Any], commits: int = 50) -> Summary:
    """Milliseconds per one-row committed transaction: the WAL flush every write waits for."""
    conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (n int)")
    took = []
    for n in range(commits):
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("INSERT INTO bench_commit_probe VALUES (%s)", (n,))
        took.append((time.perf_counter() - started) * 1000)
    conn.execute("DROP TABLE bench_commit_probe")
    return summarise(took)


def _topics(area: Area) -> tuple[str, ...]:
    """The request topics of every restaurant the area can hold (its corners' geo keys)."""
    half = area.side_km / 2
    corners = [area.offset(x, y) for x in (-half, half) for y in (-half, half)]
    return tuple(sorted({request_topic(geo_key(p.latitude, p.longitude)) for p in corners}))


class _StepRunner:
    """Offers each rate in turn and measures what became of the orders."""

    def __init__(
        self,
        settings: Settings,
        services: BenchServices,
        conn: psycopg.Connection[Any],
        area: Area,
        rng: random.Random,
        options: E2eOptions,
    ) -> None:
        self._settings = settings
        self._services = services
        self._conn = conn
        self._area = area
        self._rng = rng
        self._options = options
        self._log_offset = 0

    def warm_up(self) -> None:
        """A few orders through the whole pipeline: connections, consumer groups, caches."""
        bodies = self._bodies("warm-", _WARM_UP_ORDERS)
        self._offer(bodies, rate=20.0)
        self._drain("warm-", _WARM_UP_ORDERS)
        self._decisions("warm-")  # moves past the warm-up's lines

    def run_all(self, echo: Echo) -> list[dict[str, Any]]:
        """Every rate, lowest first; if asked, none above the headline rate once the last
        step fell behind (the headline rate itself is always measured)."""
        steps: list[dict[str, Any]] = []
        for rate in sorted(self._options.rates):
            behind = bool(steps) and steps[-1]["limited_by"] is not None
            if behind and self._options.stop_when_saturated and rate > HEADLINE_RATE:
                break
            steps.append(self.run_step(rate))
            echo(_step_line(steps[-1]))
        return steps

    def run_step(self, rate: float) -> dict[str, Any]:
        """Offer ``rate`` for the step's duration; figures once every order is decided."""
        prefix = f"r{rate:g}-"
        bodies = self._bodies(prefix, max(1, round(rate * self._options.step_s)))
        at_end: dict[str, Any] = {}
        load_before, cpu_before = os.getloadavg()[0], self._cpu()
        offer = self._offer(bodies, rate=rate, at_end=lambda: at_end.update(self._stats()))
        drain_s = self._drain(prefix, offer.accepted)
        cpu_used = {k: v - cpu_before[k] for k, v in self._cpu().items() if k in cpu_before}
        rows = self._rows(prefix)
        figures = step_figures(offer, rows, self._decisions(prefix))
        return {
            **figures,
            "drain_s": drain_s,
            "at_step_end": at_end,
            "cpu_ms_per_order": {
                k: round(v * 1000 / max(1, offer.accepted), 2)
                for k, v in {**cpu_used, "load-generator": offer.cpu_s}.items()
            },
            "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }

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

    def _bodies(self, prefix: str, count: int) -> list[bytes]:
        return [
            _order_body(f"{prefix}{i}", self._area, self._rng, self._options) for i in range(count)
        ]

    def _offer(
        self, bodies: list[bytes], *, rate: float, at_end: Callable[[], object] | None = None
    ) -> Offer:
        return offer_orders(
            self._services.orders_url,
            bodies,
            rate_per_s=rate,
            headers=auth_headers(self._settings),
            connections=self._options.connections,
            on_dispatched=at_end,
        )

    def _drain(self, prefix: str, expected: int) -> float | None:
        """Seconds until every accepted order of the step is decided; None if not in time."""
        started = time.monotonic()
        deadline = started + self._options.drain_timeout_s
        while time.monotonic() < deadline:
            row = self._conn.execute(
                "SELECT count(*) FROM orders WHERE id LIKE %s AND status <> 'new_order'",
                (f"{prefix}%",),
            ).fetchone()
            if row is not None and row[0] >= expected:
                return round(time.monotonic() - started, 3)
            time.sleep(0.2)
        return None

    def _rows(self, prefix: str) -> list[Row]:
        columns = ", ".join(sorted({c for pair in _STAGES.values() for c in pair}))
        with self._conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT id, status, attempts, {columns} FROM orders WHERE id LIKE %s",  # noqa: S608 - constant columns
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
        return [
            d for d in _decision_lines(complete) if str(d.get("orderId", "")).startswith(prefix)
        ]

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
            "assignment_consumer_lag": assignment.get("consumerLag"),
            "available_drivers": assignment.get("availableDrivers"),
        }


def step_figures(offer: Offer, rows: list[Row], decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """One step's load and latency figures from what was sent, stored and logged."""
    end = offer.start + offer.duration_s
    assigned = [r for r in rows if r["status"] == "assigned_driver"]
    done = [_epoch(r["response_consumed_at"]) for r in assigned]
    series = backlog_series(
        [s.due for s in offer.sent], done, start=offer.start, end=end, every_s=0.5
    )
    load = StepLoad(
        offered_per_s=offer.rate_per_s,
        achieved_per_s=offer.achieved_per_s,
        completed_per_s=sum(1 for t in done if t <= end) / offer.duration_s,
        backlog_growth_per_s=growth_per_s(series),
    )
    return {
        "offered_per_s": offer.rate_per_s,
        "duration_s": offer.duration_s,
        "sent": len(offer.sent),
        "accepted": offer.accepted,
        "errors": offer.errors(),
        "achieved_per_s": round(load.achieved_per_s, 1),
        "completed_per_s": round(load.completed_per_s, 1),
        "backlog_end": series[-1][1] if series else 0,
        "backlog_growth_per_s": round(load.backlog_growth_per_s, 2),
        "limited_by": limited_by(load),
        "assigned": len(assigned),
        "retried": sum(1 for r in rows if r["attempts"] > 1),
        "not_assigned": len(rows) - len(assigned),
        "start_lag_ms": offer.start_lag_ms(),
        "drivers_found": summarise(float(d.get("driversInArea", 0)) for d in decisions),
        "latency_ms": _latencies(offer, assigned, decisions),
    }


def _latencies(
    offer: Offer, assigned: list[Row], decisions: list[dict[str, Any]]
) -> dict[str, Summary]:
    first_try = [r for r in assigned if r["attempts"] == 1]
    started = {f"{i}": s.started for i, s in enumerate(offer.sent)}
    figures: dict[str, Summary] = {"http_post": offer.post_ms()}
    for stage, (begin, end) in _STAGES.items():
        figures[stage] = summarise(
            (_epoch(r[end]) - _epoch(r[begin])) * 1000 for r in first_try if r[begin] and r[end]
        )
    for step in ("search", "scoring", "claim", "total"):
        figures[step] = summarise(
            float(d["timingsMs"][step]) for d in decisions if step in d.get("timingsMs", {})
        )
    figures["post_to_assigned"] = summarise(
        (_epoch(r["response_consumed_at"]) - started[r["id"].rsplit("-", 1)[1]]) * 1000
        for r in first_try
    )
    return figures


def _decision_lines(text: bytes) -> Iterable[dict[str, Any]]:
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") in _DECISION_MESSAGES:
            yield entry


def _order_body(order_id: str, area: Area, rng: random.Random, options: E2eOptions) -> bytes:
    restaurant = area.point(rng, margin_km=options.radius_km)
    customer = near(restaurant, rng, low_km=0.5, high_km=6.0)
    price = round(rng.uniform(5.0, 40.0), 2)
    return json.dumps(
        {
            "orderId": order_id,
            "customerId": f"customer-{order_id}",
            "restaurantId": f"restaurant-{rng.randrange(500)}",
            "restaurantLocation": {
                "latitude": restaurant.latitude,
                "longitude": restaurant.longitude,
            },
            "customerLocation": {"latitude": customer.latitude, "longitude": customer.longitude},
            "items": [{"name": "Meal", "quantity": 1, "unitPrice": price}],
            "totalAmount": price,
            "preparationTime": rng.choice((10, 15, 20, 25)),
            "radius": options.radius_km,
        }
    ).encode()


def _summary(
    steps: list[dict[str, Any]], options: E2eOptions, area: Area, released: int
) -> dict[str, Any]:
    loads = [
        StepLoad(
            s["offered_per_s"], s["achieved_per_s"], s["completed_per_s"], s["backlog_growth_per_s"]
        )
        for s in steps
    ]
    at_headline = next((s for s in steps if s["offered_per_s"] == HEADLINE_RATE), None)
    run = {s["offered_per_s"] for s in steps}
    return {
        "max_sustained_orders_per_s": max_sustained(loads) if loads else None,
        "p99_placed_to_assigned_ms_at_200": (
            at_headline["latency_ms"]["post_to_assigned"]["p99"] if at_headline else None
        ),
        "max_completed_orders_per_s": max((s["completed_per_s"] for s in steps), default=None),
        "saturated_at": next(
            (
                s["offered_per_s"]
                for s in steps
                if s["limited_by"] and s["offered_per_s"] > (max_sustained(loads) or 0.0)
            ),
            None,
        ),
        "skipped_rates": [r for r in sorted(options.rates) if r not in run],
        "drivers": options.drivers,
        "found_target": options.found,
        "square_km": round(area.side_km, 1),
        "drivers_released": released,
        "step_s": options.step_s,
        "connections": options.connections,
        "steps": steps,
    }


def _step_line(step: dict[str, Any]) -> str:
    latency = step["latency_ms"]["post_to_assigned"]
    verdict = f"limited by {step['limited_by']}" if step["limited_by"] else "kept up"
    return (
        f"  e2e {step['offered_per_s']:>6g}/s: sent {step['achieved_per_s']:g}/s,"
        f" assigned {step['completed_per_s']:g}/s, backlog {step['backlog_end']},"
        f" p99 {latency['p99']} ms — {verdict}"
    )


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _epoch(moment: datetime) -> float:
    return moment.timestamp()
