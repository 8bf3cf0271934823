"""Nearest-rank percentiles, per-stage latency summaries and counters."""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Iterator

import pytest
import uvicorn
import uvloop
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from swifteats.observability import (
    JsonFormatter,
    LogFormat,
    ServiceMetrics,
    configure_logging,
    percentile,
)
from swifteats.services.runner import UVICORN_LOGGING, UVICORN_SPEED

WIKI_A = [15.0, 20.0, 35.0, 40.0, 50.0]
WIKI_B = [3.0, 6.0, 7.0, 8.0, 8.0, 10.0, 13.0, 15.0, 16.0, 20.0]
ONE_TO_HUNDRED = [float(v) for v in range(1, 101)]


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """Reference: the smallest value with at least q% of the values at or below it."""
    rank = max(1, math.ceil(q * len(sorted_values) / 100))
    return sorted_values[rank - 1]


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (WIKI_A, 5, 15.0),
        (WIKI_A, 30, 20.0),
        (WIKI_A, 40, 20.0),
        (WIKI_A, 50, 35.0),
        (WIKI_A, 100, 50.0),
        (WIKI_B, 25, 7.0),
        (WIKI_B, 75, 15.0),
        (WIKI_B, 100, 20.0),
        (ONE_TO_HUNDRED, 50, 50.0),
        (ONE_TO_HUNDRED, 90, 90.0),
        (ONE_TO_HUNDRED, 100, 100.0),
        (ONE_TO_HUNDRED, 0, 1.0),
        ([7.0], 99, 7.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 50) == 0.0


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        (WIKI_B, 50, 8.0),
        (ONE_TO_HUNDRED, 95, 95.0),
        (ONE_TO_HUNDRED, 99, 99.0),
        (ONE_TO_HUNDRED, 25, 25.0),
        ([1.0, 2.0, 3.0, 4.0], 25, 1.0),
    ],
)
def test_percentile_nearest_rank_at_whole_odd_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == expected


@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50).map(sorted),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_is_a_sample_and_grows_with_q(values: list[float], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    assert percentile(values, low) in values
    assert percentile(values, low) <= percentile(values, high)
    assert percentile(values, 100) == values[-1]
    # Never more than one rank away from the textbook definition.
    reference = values.index(nearest_rank(values, low))
    assert percentile(values, low) in values[max(0, reference - 1) : reference + 2]


def test_latency_p50_and_count_on_1_to_100_ms() -> None:
    metrics = ServiceMetrics("test")
    for ms in reversed(range(1, 101)):
        metrics.observe("total", ms / 1000)
    summary = metrics.latency_ms()["total"]
    assert summary["p50"] == 50.0
    assert summary["count"] == 100


def test_latency_p95_p99_on_1_to_100_ms() -> None:
    metrics = ServiceMetrics("test")
    for ms in range(1, 101):
        metrics.observe("total", ms / 1000)
    summary = metrics.latency_ms()["total"]
    assert (summary["p95"], summary["p99"]) == (95.0, 99.0)


def test_latency_is_kept_per_stage() -> None:
    metrics = ServiceMetrics("test")
    metrics.observe("search", 0.002)
    metrics.observe("claim", 0.010)
    metrics.observe("claim", 0.030)
    latency = metrics.latency_ms()
    assert latency["search"] == {"p50": 2.0, "p95": 2.0, "p99": 2.0, "count": 1}
    assert latency["claim"]["count"] == 2
    assert latency["claim"]["p99"] == 30.0
    assert metrics.latency_ms() == latency


def test_latency_window_keeps_the_most_recent_samples() -> None:
    metrics = ServiceMetrics("test")
    for _ in range(10_000):
        metrics.observe("total", 1.0)
    for _ in range(10):
        metrics.observe("total", 0.001)
    summary = metrics.latency_ms()["total"]
    assert summary["count"] == 10_000
    assert summary["p50"] == 1000.0


def test_no_samples_no_stages() -> None:
    assert ServiceMetrics("test").latency_ms() == {}


def test_counts() -> None:
    metrics = ServiceMetrics("test")
    metrics.count("requests")
    metrics.count("requests")
    metrics.count("assigned", 3)
    counts = metrics.counts()
    assert counts == {"requests": 2, "assigned": 3}
    counts["requests"] = 99
    assert metrics.counts()["requests"] == 2


def test_counts_and_timings_reach_prometheus() -> None:
    metrics = ServiceMetrics("assignment")
    metrics.count("failed:All drivers busy", 2)
    metrics.observe("total", 0.003)
    labels = {"service": "assignment", "kind": "failed:All drivers busy"}
    assert metrics.registry.get_sample_value("swifteats_events_total", labels) == 2.0
    stage = {"service": "assignment", "stage": "total"}
    assert metrics.registry.get_sample_value("swifteats_stage_seconds_count", stage) == 1.0
    assert metrics.registry.get_sample_value("swifteats_stage_seconds_sum", stage) == 0.003


def test_two_services_have_separate_registries() -> None:
    a, b = ServiceMetrics("a"), ServiceMetrics("b")
    a.count("requests")
    assert b.counts() == {}


def test_json_log_lines_carry_structured_fields() -> None:
    record = logging.LogRecord(
        "swifteats.test", logging.WARNING, __file__, 1, "hi %s", ("x",), None
    )
    record.fields = {"orderId": "order_123", "driversInArea": 3}
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hi x"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "swifteats.test"
    assert entry["orderId"] == "order_123"
    assert entry["driversInArea"] == 3


ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger's handlers and level back after a test reconfigures them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
    logging.captureWarnings(False)


def test_json_log_time_is_iso_8601_utc() -> None:
    record = logging.LogRecord("swifteats.test", logging.INFO, __file__, 1, "hi", (), None)
    record.created = 1705314600.5  # 2024-01-15T10:30:00.5Z
    entry = json.loads(JsonFormatter().format(record))
    assert entry["time"] == "2024-01-15T10:30:00.500Z"


@pytest.mark.usefixtures("restore_logging")
def test_uvicorn_lines_come_out_as_json_lines_on_a_pipe() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    uvicorn.Config(FastAPI(), **UVICORN_LOGGING)  # configures uvicorn's loggers, as run does
    logging.getLogger("uvicorn.error").info("Uvicorn running on %s", "http://127.0.0.1:1")

    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "uvicorn.error"
    assert entry["message"] == "Uvicorn running on http://127.0.0.1:1"
    assert ISO_UTC.match(entry["time"])


@pytest.mark.usefixtures("restore_logging")
def test_services_serve_on_uvloop_with_httptools() -> None:
    config = uvicorn.Config(FastAPI(), **UVICORN_SPEED, **UVICORN_LOGGING)
    config.load()

    assert config.http_protocol_class is HttpToolsProtocol
    assert config.get_loop_factory() is uvloop.new_event_loop


@pytest.mark.usefixtures("restore_logging")
def test_a_terminal_gets_readable_text_with_the_fields() -> None:
    stream = _Terminal()
    configure_logging("INFO", stream=stream)
    logging.getLogger("swifteats.test").warning("slow", extra={"fields": {"orderId": "o1"}})

    (line,) = stream.getvalue().splitlines()
    moment, level, rest = line.split(maxsplit=2)
    assert ISO_UTC.match(moment)
    assert (level, rest) == ("WARNING", "swifteats.test: slow  orderId=o1")


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(("stream", "log_format"), [(_Terminal(), "json"), (io.StringIO(), "auto")])
def test_json_when_asked_or_when_not_a_terminal(stream: io.StringIO, log_format: LogFormat) -> None:
    configure_logging("INFO", log_format, stream=stream)
    logging.getLogger("swifteats.test").info("hello")
    assert json.loads(stream.getvalue())["message"] == "hello"


def _exposed(metrics: ServiceMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_gauges_are_read_at_each_scrape_with_their_labels() -> None:
    metrics = ServiceMetrics("svc")
    held = [3]
    metrics.gauge("held_requests", "held", lambda: held[0])
    metrics.gauge("available_drivers", "free", lambda: {"4_-7": 2, "5_0": 1}, "geo_key")
    assert 'swifteats_held_requests{service="svc"} 3.0' in _exposed(metrics)
    held[0] = 0
    text = _exposed(metrics)
    assert 'swifteats_held_requests{service="svc"} 0.0' in text
    assert 'swifteats_available_drivers{geo_key="4_-7",service="svc"} 2.0' in text
    assert 'swifteats_available_drivers{geo_key="5_0",service="svc"} 1.0' in text


def test_a_gauge_that_cannot_be_read_is_left_out_and_the_rest_still_shows() -> None:
    metrics = ServiceMetrics("svc")

    def down() -> float:
        raise ConnectionError("database down")

    metrics.gauge("outbox_backlog", "backlog", down)
    metrics.gauge("held_requests", "held", lambda: 1)
    text = _exposed(metrics)
    assert "swifteats_outbox_backlog{" not in text
    assert 'swifteats_held_requests{service="svc"} 1.0' in text
