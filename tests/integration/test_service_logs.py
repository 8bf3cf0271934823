"""A running service writes nothing but JSON lines to a pipe, uvicorn's lines included."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.helpers import Broker, Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_every_line_of_a_service_is_json_with_an_iso_utc_time(
    kafka: Broker, deployment: Deployment
) -> None:
    service = deployment.start("order-service")
    service.stop()

    lines = [line for line in service.log.read_text().splitlines() if line]
    entries = [json.loads(line) for line in lines]
    assert all(ISO_UTC.match(entry["time"]) for entry in entries)
    assert any(entry["logger"].startswith("uvicorn") for entry in entries)
