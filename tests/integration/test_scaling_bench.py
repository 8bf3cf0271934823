"""``swifteats bench scaling`` in miniature: one and two assignment instances in the group
both carry every order; figures on a shared test machine say nothing, so only their
presence is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from swifteats.bench.scaling import ScalingOptions, run_scaling
from swifteats.settings import Settings
from tests.integration.helpers import Broker

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def test_every_layout_assigns_every_order_and_the_group_shares_the_work(
    servers: Settings, kafka: Broker, tmp_path: Path
) -> None:
    settings = servers.model_copy(
        update={"kafka_host": kafka.host, "state_dir": tmp_path / "state"}
    )
    options = ScalingOptions(layouts=((1, 1), (2, 2)), rate=40.0, batch=60, drivers=200)

    results = run_scaling(settings, options, echo=lambda _: None)

    first, second = results["runs"]
    assert (first["order_services"], second["order_services"]) == (1, 2)
    assert first["assigned"] == second["assigned"] == 60
    assert first["ratio"] == 1.0 and second["ratio"] > 0
    assert len(second["requests_per_assignment_instance"]) == 2
    assert all(n > 0 for n in second["requests_per_assignment_instance"])
