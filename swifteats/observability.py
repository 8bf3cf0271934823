"""Latency percentiles per stage, counters, Prometheus exposition and JSON logs."""

from __future__ import annotations

import json
import logging
import math
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, Literal

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from swifteats.domain.events import format_instant

log = logging.getLogger("swifteats.metrics")

_WINDOW = 10_000
"""Samples kept per stage for /stats percentiles (the most recent ones)."""

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0–100) of already sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values) / 100))
    return sorted_values[rank - 1]


Reading = Callable[[], float | Mapping[str, float]]
"""A gauge's value now: one number, or one number per label value."""


class _ReadAtScrape(Collector):
    """A gauge read when /metrics is scraped; a reading that fails leaves it out (unknown)."""

    def __init__(self, name: str, help_text: str, service: str, label: str | None, read: Reading):
        self._family = (name, help_text)
        self._labels = ["service", label] if label else ["service"]
        self._service = service
        self._read = read

    def describe(self) -> list[Metric]:
        """The gauge without samples (for the registry's name checks)."""
        return [GaugeMetricFamily(*self._family, labels=self._labels)]

    def collect(self) -> list[Metric]:
        """The gauge with its value(s) now."""
        try:
            value = self._read()
        except Exception as error:
            log.debug("gauge %s unknown: %s", self._family[0], error)
            return []
        family = GaugeMetricFamily(*self._family, labels=self._labels)
        if isinstance(value, Mapping):
            for label, number in value.items():
                family.add_metric([self._service, label], number)
        else:
            family.add_metric([self._service], value)
        return [family]


def consumer_lag_gauge(metrics: ServiceMetrics, lag: Callable[[], Mapping[str, int]]) -> None:
    """``swifteats_consumer_lag{topic}``: records the service's consumer is behind."""
    metrics.gauge("consumer_lag", "Records behind the end of the partitions read", lag, "topic")


class ServiceMetrics:
    """What one service counts and times; read by /stats and /metrics."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._latency = Histogram(
            "swifteats_stage_seconds",
            "Time per pipeline stage",
            ["service", "stage"],
            registry=self.registry,
            buckets=_BUCKETS,
        )
        self._events = PromCounter(
            "swifteats_events", "Events by kind", ["service", "kind"], registry=self.registry
        )
        self._service = service
        self._stages: dict[str, tuple[deque[float], Histogram]] = {}
        """Per stage: its recent samples and its labelled histogram (``labels`` is slow)."""
        self._kinds: dict[str, PromCounter] = {}
        """Per kind: its labelled counter."""

    def observe(self, stage: str, seconds: float) -> None:
        """Record one duration of ``stage``."""
        with self._lock:
            found = self._stages.get(stage)
            if found is None:
                found = deque(maxlen=_WINDOW), self._latency.labels(self._service, stage)
                self._stages[stage] = found
            found[0].append(seconds)
        found[1].observe(seconds)

    def gauge(self, name: str, documentation: str, read: Reading, label: str | None = None) -> None:
        """Expose ``swifteats_<name>``, read by ``read`` at each scrape; with ``label``, the
        reading maps each value of that label to a number."""
        gauge = _ReadAtScrape(f"swifteats_{name}", documentation, self._service, label, read)
        self.registry.register(gauge)

    def count(self, kind: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``kind``."""
        with self._lock:
            self._counts[kind] += n
            counter = self._kinds.get(kind)
            if counter is None:
                counter = self._kinds[kind] = self._events.labels(self._service, kind)
        counter.inc(n)

    def counts(self) -> dict[str, int]:
        """Every counter's value."""
        with self._lock:
            return dict(self._counts)

    def latency_ms(self) -> dict[str, dict[str, float]]:
        """p50/p95/p99 and sample count per stage over the recent window, in milliseconds."""
        with self._lock:
            snapshot = {stage: sorted(values) for stage, (values, _) in self._stages.items()}
        return {
            stage: {
                "p50": round(percentile(values, 50) * 1000, 3),
                "p95": round(percentile(values, 95) * 1000, 3),
                "p99": round(percentile(values, 99) * 1000, 3),
                "count": len(values),
            }
            for stage, values in snapshot.items()
        }


LogFormat = Literal["auto", "json", "text"]
"""``auto``: readable text when the stream is a terminal, JSON lines otherwise."""


def _log_time(record: logging.LogRecord) -> str:
    """The record's instant, ISO-8601 UTC with milliseconds (``2024-01-15T10:30:00.000Z``)."""
    return format_instant(datetime.fromtimestamp(record.created, UTC))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry: dict[str, Any] = {
            "time": _log_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value …`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as one readable line (plus a traceback, if any)."""
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        line = f"{_log_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line}  {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(
    level: str, log_format: LogFormat = "auto", stream: IO[str] | None = None
) -> None:
    """Every logger (uvicorn's and warnings too) writes to ``stream`` (stderr) at ``level``,
    as JSON lines or, with ``auto`` at a terminal, as text; kafka-python only from
    warnings up."""
    out = stream if stream is not None else sys.stderr
    text = log_format == "text" or (log_format == "auto" and out.isatty())
    handler = logging.StreamHandler(out)
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.captureWarnings(True)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)  # lines of uvicorn reach the root handler
        logger.handlers.clear()
        logger.propagate = True
