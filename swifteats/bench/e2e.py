"""End to end, live: orders per second from ``POST /orders`` to ``assigned_driver``.

Both services run on the wall clock with their default settings (INFO logs: the
assignment service writes one decision line per request, which this benchmark reads for
the search, scoring and claim timings). ``drivers`` drivers are written to Redis spread
so that a search finds about ``found`` of them (:class:`~swifteats.bench.fleet.Area`); a
:class:`~swifteats.bench.releaser.DriverReleaser` frees the driver of every assigned
order at the customer's door, as delivery would, so the pool never runs dry. Each step
offers one rate for ``step_s`` seconds (open loop, ``wrk`` or the Python generator:
:mod:`swifteats.bench.e2e_steps`), then waits until the step's orders are decided and
reads them from PostgreSQL (:mod:`swifteats.bench.e2e_figures`).

On the same services, once the load steps have found the capacity, the overload steps
(:mod:`swifteats.bench.overload`) and, when asked, the goodput curve
(:mod:`swifteats.bench.plot`) follow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from swifteats.adapters.redis_drivers import RedisDriverIndex
from swifteats.bench.e2e_figures import step_line
from swifteats.bench.e2e_orders import OrderMaker
from swifteats.bench.e2e_steps import StepRunner, fresh_rng
from swifteats.bench.fleet import Area
from swifteats.bench.overload import OverloadOptions, run_overload
from swifteats.bench.plot import goodput_curve
from swifteats.bench.releaser import DriverReleaser
from swifteats.bench.services import bench_redis, bench_services
from swifteats.bench.stats import StepLoad, Summary, summarise, sustained
from swifteats.domain.drivers import DriverRecord, DriverStatus
from swifteats.domain.geo import geo_key
from swifteats.domain.topics import request_topic
from swifteats.settings import Settings

Echo = Callable[[str], None]

HEADLINE_RATES = (100.0, 200.0)
"""The rates whose p99 placed → assigned are headline figures (always measured)."""


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
    connections: int = 256
    """Open connections of wrk (the Python generator's threads: at most 64)."""
    stop_when_saturated: bool = True
    """Skip the rates above the headline rates once a step did not keep up."""
    seed: int = 7
    generator: str = "auto"
    """``wrk`` (Debian's), ``python``, or ``auto``: wrk when installed."""
    service_env: dict[str, str] = field(default_factory=dict)
    """Extra environment for both services (``SWIFTEATS_*``)."""
    overload: OverloadOptions | None = field(default_factory=OverloadOptions)
    """The overload steps after the load steps; None: none."""
    plot: Path | None = None
    """Where to write the goodput curve (PNG); None: no curve."""


def run_e2e(settings: Settings, options: E2eOptions, *, echo: Echo) -> dict[str, Any]:
    """Start both services, load them step by step; return the ``e2e`` figures, with the
    ``overload`` figures under that key when they were run."""
    rng = fresh_rng(options.seed)
    area = Area.for_fleet(options.drivers, found=options.found, radius_km=options.radius_km)
    with bench_services(settings, topics=request_topics(area), env=options.service_env) as services:
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
                runner = StepRunner(
                    settings,
                    services,
                    conn,
                    OrderMaker(area, rng, options.radius_km),
                    connections=options.connections,
                    drain_timeout_s=options.drain_timeout_s,
                    generator=options.generator,
                )
                runner.warm_up()
                steps = _load_steps(runner, options, echo)
                results = _summary(steps, options, area)
                capacity = _capacity(results)
                if options.overload is not None:
                    results["overload"] = run_overload(runner, capacity, options.overload, echo)
                if options.plot is not None:
                    results["plot"] = goodput_curve(
                        runner,
                        capacity,
                        options.plot,
                        step_s=options.step_s,
                        echo=echo,
                        top=4 * max(capacity, results["max_completed_orders_per_s"] or 0.0),
                    )
                released = releaser.released
        finally:
            redis_client.close()
    return {
        **results,
        "generator": runner.generator,
        "drivers_released": released,
        "postgres_commit_ms": commit_ms,
    }


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


def request_topics(area: Area) -> tuple[str, ...]:
    """The request topics of every restaurant the area can hold (its corners' geo keys)."""
    half = area.side_km / 2
    corners = [area.offset(x, y) for x in (-half, half) for y in (-half, half)]
    return tuple(sorted({request_topic(geo_key(p.latitude, p.longitude)) for p in corners}))


def _load_steps(runner: StepRunner, options: E2eOptions, echo: Echo) -> list[dict[str, Any]]:
    """Every rate, lowest first; if asked, none above the headline rates once the last
    step fell behind (the headline rates themselves are always measured)."""
    steps: list[dict[str, Any]] = []
    for rate in sorted(options.rates):
        behind = bool(steps) and steps[-1]["limited_by"] is not None
        if behind and options.stop_when_saturated and rate > max(HEADLINE_RATES):
            break
        steps.append(runner.run_step(rate, options.step_s))
        echo(step_line(steps[-1]))
    return steps


def _capacity(results: dict[str, Any]) -> float:
    """What the overload steps multiply: the sustained rate, or, when no step was sustained
    (a machine busy with other work), the most assignments per second of any step."""
    return float(
        results["max_sustained_orders_per_s"] or results["max_completed_orders_per_s"] or 0
    )


def _summary(steps: list[dict[str, Any]], options: E2eOptions, area: Area) -> dict[str, Any]:
    loads = [
        StepLoad(
            s["offered_per_s"], s["achieved_per_s"], s["completed_per_s"], s["backlog_growth_per_s"]
        )
        for s in steps
    ]
    run = {s["offered_per_s"] for s in steps}
    best = sustained(loads)
    headline = {
        f"p99_placed_to_assigned_ms_at_{rate:g}": next(
            (
                s["latency_ms"]["placed_to_assigned_all"]["p99"]
                for s in steps
                if s["offered_per_s"] == rate
            ),
            None,
        )
        for rate in HEADLINE_RATES
    }
    return {
        "max_sustained_orders_per_s": best,
        **headline,
        "max_completed_orders_per_s": max((s["completed_per_s"] for s in steps), default=None),
        "saturated_at": next(
            (s["offered_per_s"] for s in steps if s["limited_by"] and s["offered_per_s"] > best),
            None,
        ),
        "skipped_rates": [r for r in sorted(options.rates) if r not in run],
        "drivers": options.drivers,
        "found_target": options.found,
        "square_km": round(area.side_km, 1),
        "step_s": options.step_s,
        "connections": options.connections,
        "steps": steps,
    }
