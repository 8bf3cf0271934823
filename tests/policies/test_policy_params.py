"""Every policy parameter is tunable: from JSON, through the services' settings, into the
manifest, the runs table and sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.runner import LoadedInput, RunRequest, load_input, parse_policy_params, run_replay
from replay.service_config import ServiceConfig
from replay.sweep_spec import SweepSpecError, expand_cells, spec_from_options
from swifteats.adapters.memory_bus import InProcessBus
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.analysis.kpis import runs_table
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.policies.registry import param_values, parse_params
from swifteats.domain.scoring import ScoringWeights
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.core import AssignmentCore


def test_params_parse_from_json_and_resolve_over_the_defaults() -> None:
    overrides = parse_params('{"courier_weight": 0.5, "max_bundle": 2, "postpone": true}')
    values = param_values("bundling", overrides)
    assert values["courier_weight"] == 0.5 and values["max_bundle"] == 2 and values["postpone"]
    assert values["reward"] == 60.0  # a default, recorded too
    assert param_values("greedy-score") == {}
    for bad, message in [
        ("[1]", "JSON object"),
        ("{x", "not JSON"),
        ('{"reward": "high"}', "number or a bool"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_params(bad)
    with pytest.raises(ValueError, match="has no parameter 'nope'"):
        param_values("bundling", {"nope": 1})


def test_the_services_build_the_windowed_policy_with_the_params() -> None:
    config = ServiceConfig(
        "rolling-horizon",
        ScoringWeights(),
        ConstantSpeedEta(),
        pickup_lead_minutes=2.0,
        params={"courier_weight": 0.7, "max_bundle": 2},
    )
    settings = config.settings()
    assert settings.policy_overrides == {"courier_weight": 0.7, "max_bundle": 2}
    core = AssignmentCore(
        settings,
        drivers=InMemoryDriverIndex(),
        bus=InProcessBus(),
        metrics=ServiceMetrics("driver-assignment"),
    )
    policy = core.step._policy  # type: ignore[union-attr]
    assert policy.params.courier_weight == 0.7 and policy.params.max_bundle == 2
    assert policy.params.postpone  # rolling-horizon's own, kept
    with pytest.raises(ValueError, match="has no parameter"):
        ServiceConfig(
            "bundling", ScoringWeights(), ConstantSpeedEta(), 2.0, params={"x": 1}
        ).settings()


def test_the_manifest_and_the_runs_table_record_every_parameter(tmp_path: Path) -> None:
    sample: LoadedInput = load_input(None, None)
    request = RunRequest(
        backend="inprocess", policy="bundling", params=parse_policy_params('{"reward": 80}')
    )
    run_replay(sample, request, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["params"] == param_values("bundling", {"reward": 80})
    assert manifest["max_attempts"] == 5  # an order log: the design's five
    row = runs_table([tmp_path / "run"]).row(0, named=True)
    assert json.loads(row["params"])["reward"] == 80 and row["max_attempts"] == 5


def test_a_sweep_grid_may_name_a_policys_parameters() -> None:
    spec = spec_from_options(
        inputs=[],
        policies=["greedy-score", "bundling"],
        grid=["courier_weight=0.2,0.5", "max_bundle=1,3"],
        ranges=[],
        random=None,
        seed=7,
        seeds=1,
        radius_km=None,
    )
    cells = expand_cells(spec)
    bundling = [c for c in cells if c.policy == "bundling"]
    assert {c.params for c in bundling} == {
        (("courier_weight", w), ("max_bundle", b)) for w in (0.2, 0.5) for b in (1, 3)
    }
    assert all(isinstance(dict(c.params)["max_bundle"], int) for c in bundling)
    assert [c.params for c in cells if c.policy == "greedy-score"] == [()]  # declares none
    with pytest.raises(SweepSpecError, match="unknown weight or parameter 'courier_weight'"):
        spec_from_options(
            inputs=[],
            policies=["greedy-score"],
            grid=["courier_weight=0.2"],
            ranges=[],
            random=None,
            seed=7,
            seeds=1,
            radius_km=None,
        )
