"""``swifteats bench`` in miniature: every section but the long lockstep replay, on the
tests' servers. Figures on a shared test machine say nothing, so only their presence and
sign are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swifteats.bench import BenchOptions, run_bench
from swifteats.bench.assign_step import AssignStepOptions
from swifteats.bench.e2e import E2eOptions
from swifteats.bench.overload import OverloadOptions
from swifteats.bench.replay_speed import ReplaySpeedOptions
from swifteats.bench.report import HEADLINE_KEYS, lookup
from swifteats.bench.services import private_stack
from swifteats.settings import Settings
from tests.integration.helpers import Broker

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def test_a_tiny_bench_measures_every_section_and_writes_the_json(
    servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    settings = servers.model_copy(
        update={"kafka_host": kafka.host, "state_dir": tmp_path / "state"}
    )
    options = BenchOptions(
        sections=("replay", "assign_step", "e2e"),
        e2e=E2eOptions(
            rates=(20.0, 40.0),
            step_s=2.0,
            drivers=200,
            found=40.0,
            overload=OverloadOptions(factors=(2.0,), step_s=2.0),
        ),
        assign=AssignStepOptions(sizes=(500,), samples=30, found=40.0),
        replay=ReplaySpeedOptions(in_process=("sample",), repeats=1, lockstep=None),
        json_path=tmp_path / "bench.json",
    )

    results = run_bench(options, settings=settings, echo=lambda _: None)

    written = json.loads((tmp_path / "bench.json").read_text())
    assert set(written["headline"]) == set(HEADLINE_KEYS)
    assert written["headline"]["replay.live_lockstep_7o100_s"] is None  # not run
    assert lookup(written, "replay.inprocess_orders_per_s") > 0
    assert lookup(written, "assign_step.sizes.500.latency_ms.total.p99") > 0
    steps = results["e2e"]["steps"]
    assert [s["offered_per_s"] for s in steps][:1] == [20.0]
    first = steps[0]
    assert first["accepted"] == 40 and first["undecided"] == 0
    assert first["assigned"] > 0
    assert first["latency_ms"]["placed_to_assigned_all"]["p50"] > 0
    assert first["generator"] == results["e2e"]["generator"] in ("wrk", "python")
    overload = results["overload"]
    assert "goodput_ratio_2x" in overload or "skipped" in overload
    assert first["latency_ms"]["search"]["count"] > 0
    assert results["e2e"]["drivers_released"] > 0
    assert results["e2e"]["postgres_commit_ms"]["p50"] > 0
    assert all(cpu > 0 for k, cpu in first["cpu_ms_per_order"].items() if "generator" not in k)
    assert [t["key"] for t in written["targets"]] == list(HEADLINE_KEYS)


def test_a_failed_benchmark_keeps_its_service_logs_and_says_where(
    servers: Settings, tmp_path: Path
) -> None:
    settings = servers.model_copy(update={"state_dir": tmp_path / "state"})
    with pytest.raises(RuntimeError) as failed, private_stack(settings) as own:
        log = own.state_dir / "logs" / "bench-1" / "assignment-service.log"
        log.parent.mkdir(parents=True)
        log.write_text("the traceback\n")
        raise RuntimeError("POST /decisions: 500 Internal Server Error")
    (note,) = failed.value.__notes__
    kept = Path(note.removeprefix("the benchmark's service logs are kept in "))
    assert kept.is_relative_to(settings.state_dir)
    assert (kept / "bench-1" / "assignment-service.log").read_text() == "the traceback\n"
